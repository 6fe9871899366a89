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

/** Runs this process has queued or is running (any store it opened): owned here, so alive. */
const ownedHere = new Set<string>();

/** This process now owns the run (it queued it or runs it). */
export const claimRun = (id: string): void => void ownedHere.add(id);

/** This process no longer owns the run (it ended, or was deleted). */
export const releaseRun = (id: string): void => void ownedHere.delete(id);

export interface RunOwner {
  readonly id: string;
  readonly owner_pid: number | null;
  readonly owner_host: string | null;
  readonly heartbeat_at: number | null;
}

/**
 * Whether the owner is alive, seen from this process. A run that names our own pid is alive only
 * if this process claimed it: otherwise an earlier process that had the same pid left it.
 */
export function ownerAlive(row: RunOwner, now = Date.now()): boolean {
  const fresh = row.heartbeat_at !== null && now - row.heartbeat_at < heartbeatStaleMs;
  if (row.owner_host !== hostname()) return row.owner_host !== null && fresh;
  if (row.owner_pid === process.pid) return ownedHere.has(row.id);
  return row.owner_pid !== null && processAlive(row.owner_pid) && fresh;
}
