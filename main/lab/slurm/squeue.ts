/**
 * Slurm's view of a sweep's array tasks: ONE `squeue` call for every job the sweep was submitted
 * as, one line per array task (`--array`). On a cluster of 1,000 nodes and a sweep of 10,000
 * members, a call per member would be 10,000 RPCs to slurmctld; this is one.
 *
 * squeue lists jobs that are pending, running or completing; a task that ended (finished, failed,
 * cancelled, timed out) is absent. Accounting (sacct) is not assumed: many clusters' users, and a
 * one-node test cluster, have none.
 */
import { spawnSync } from 'node:child_process';

export interface SqueueTask {
  /** PENDING, RUNNING, COMPLETING, CONFIGURING, SUSPENDED... */
  readonly state: string;
  /** Why it waits (Priority, Resources...), "None" when it does not. */
  readonly reason: string;
  /** The node it runs on ("" while pending). */
  readonly node: string;
}

export type SqueueView =
  | { readonly reachable: true; readonly tasks: ReadonlyMap<string, SqueueTask> }
  | { readonly reachable: false; readonly why: string };

/** The key of an array task: "JOBID_TASK". */
export const taskKey = (jobId: string, index: number) => `${jobId}_${index}`;

/** squeue's output in our format (`%i|%T|%r|%N`, one task a line) into a map by task key. */
export function parseSqueue(text: string): Map<string, SqueueTask> {
  const tasks = new Map<string, SqueueTask>();
  for (const line of text.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (!id || !state) continue;
    tasks.set(id, { state, reason: reason ?? '', node: node ?? '' });
  }
  return tasks;
}

export type SqueueRunner = (args: readonly string[]) => { status: number | null; stdout: string; stderr: string; error?: Error | undefined };

const runSqueue: SqueueRunner = (args) => spawnSync('squeue', args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 2 ** 20 });

/** One squeue call for these jobs' array tasks; unreachable (with why) when squeue cannot answer. */
export function querySqueue(jobIds: readonly string[], run: SqueueRunner = runSqueue): SqueueView {
  if (jobIds.length === 0) return { reachable: true, tasks: new Map() };
  const result = run(['--noheader', '--array', `--jobs=${jobIds.join(',')}`, '--format=%i|%T|%r|%N']);
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return { reachable: false, why: code === 'ENOENT' ? 'squeue is not installed here (not on a cluster login node)' : `squeue could not run (${result.error.message})` };
  }
  if (result.status !== 0) {
    // Jobs that left the controller's memory (MinJobAge after they ended) are "invalid": none of them is queued.
    if (/Invalid job id/i.test(result.stderr)) return { reachable: true, tasks: new Map() };
    return { reachable: false, why: `squeue failed: ${result.stderr.trim().split('\n').slice(-2).join(' ') || `exit code ${result.status}`}` };
  }
  return { reachable: true, tasks: parseSqueue(result.stdout) };
}
