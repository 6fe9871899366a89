/**
 * Whether the process that owns a queued or running run is still there. On this machine: its pid
 * exists and it has beaten recently (a bare pid could have been reused by another program since a
 * crash). On another machine sharing the store: a recent heartbeat is all we can see.
 */
import { hostname } from 'node:os';

/** A heartbeat older than this, from a process we cannot see, means its owner is gone. */
export const heartbeatStaleMs = 5 * 60_000;

/** Whether a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunOwner {
  readonly owner_pid: number | null;
  readonly owner_host: string | null;
  readonly heartbeat_at: number | null;
}

/**
 * Whether the owner is alive, seen from this process. Our own pid never counts: a run that names
 * it was left by an earlier process that had the same pid (this one has just opened the store).
 */
export function ownerAlive(row: RunOwner, now = Date.now()): boolean {
  const fresh = row.heartbeat_at !== null && now - row.heartbeat_at < heartbeatStaleMs;
  if (row.owner_host !== hostname()) return row.owner_host !== null && fresh;
  return row.owner_pid !== null && row.owner_pid !== process.pid && processAlive(row.owner_pid) && fresh;
}
