/**
 * Recovery of runs after an engine crash: the runs the dead engine was running become
 * interrupted (resumable from their last checkpoint), with the crash as their reason. The desktop
 * shell calls this when it restarts the engine; the store's own liveness check covers every
 * other transport, since `RunStore.open` marks the runs of a dead owner pid interrupted.
 */
import type { RunRecord, RunStore } from './store/runStore.ts';

/**
 * The store's liveness check (`RunStore.markInterrupted`: a run whose owner pid is gone) runs
 * first and catches every run the dead process owned, including one it started a moment before
 * it died, before anyone heard of it; the runs named in `runIds` (those seen running when the
 * engine died) then get `reason` as theirs. Returns the runs now interrupted.
 */
export function recoverRuns(store: RunStore, runIds: readonly string[], reason: string): string[] {
  const marked = store.markInterrupted();
  const interrupted = new Set<string>();
  for (const id of runIds) {
    let run: RunRecord;
    try {
      run = store.get(id);
    } catch {
      continue; // deleted meanwhile
    }
    // Only runs seen running are named: interrupted here means marked by the liveness check
    // just now or when this engine opened the store.
    if (run.status === 'running' || run.status === 'interrupted') store.end(run.id, 'interrupted', reason);
    if (store.get(run.id).status === 'interrupted') interrupted.add(run.id);
  }
  for (const id of marked) interrupted.add(id);
  return [...interrupted];
}
