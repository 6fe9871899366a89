/**
 * Where each member of a Slurm sweep stands, from its job folder and one squeue call:
 *
 *   not submitted  no sbatch has run it yet
 *   queued         squeue lists its task pending (or it was submitted and squeue cannot be asked)
 *   running        its task runs: the last epoch and numbers come from the tail of its event log
 *   finished       its run folder says so (its summary is the sweep table's input)
 *   failed         its run failed (the error's last lines), or its task ended before the run
 *                  began (the last lines of the task's Slurm log)
 *   interrupted    its run was stopped (cancelled, time limit, node failure), or its folder says
 *                  running while squeue no longer lists its task: `lab sweep resubmit` continues it
 *
 * Built for 10,000 members: no process per member (one squeue for the sweep), run.json read and
 * checked per member (small), the event log read only from its end and only for running members,
 * a Slurm log only for a member that failed before its run began.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../../../shared/events.ts';
import { lastMetricsEvent } from '../store/eventLogTail.ts';
import { readRunFile, runFileName, type RunFile } from '../store/runFolder.ts';
import { latestSubmissionOf, memberLogFile, memberRunFolder, readJobFile, readSubmissions, type JobFile, type JobMember } from './jobFolder.ts';
import { querySqueue, taskKey, type SqueueTask, type SqueueView } from './squeue.ts';

export const memberStates = ['not submitted', 'queued', 'running', 'finished', 'failed', 'interrupted'] as const;
export type MemberState = (typeof memberStates)[number];

export interface MemberStatus {
  readonly member: JobMember;
  readonly state: MemberState;
  /** The array task that ran it last ("JOBID_N"), null before a submission. */
  readonly task: string | null;
  /** squeue's line for that task, null when squeue does not list it (or cannot be asked). */
  readonly squeue: SqueueTask | null;
  /** A running member's last epoch, from its event log. */
  readonly progress: { readonly phase: string; readonly epoch: number; readonly globalEpoch: number; readonly totalEpochs: number; readonly cleanAccuracy: number; readonly robustAccuracy: number | null } | null;
  /** A finished member's summary. */
  readonly summary: RunSummary | null;
  /** Why a failed or interrupted member stopped: the last lines of its error, or of its Slurm log. */
  readonly why: string[];
}

export interface SweepStatus {
  readonly job: JobFile;
  readonly jobIds: string[];
  readonly squeue: SqueueView;
  readonly members: MemberStatus[];
  readonly counts: Record<MemberState, number>;
}

/** The last `lines` lines of a text file, reading at most its last 16 KB. */
export function tailLines(file: string, lines: number): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-lines);
  } finally {
    closeSync(fd);
  }
}

const lastLines = (text: string, n: number) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-n);

const totalEpochs = (record: RunFile) => {
  const train = (record.input as { train?: { cleanEpochs?: number; adversarialEpochs?: number } }).train;
  return (train?.cleanEpochs ?? 0) + (train?.adversarialEpochs ?? 0);
};

function readSummary(folder: string): RunSummary | null {
  try {
    return JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8')) as RunSummary;
  } catch {
    return null;
  }
}

/** One member's status (the rules at the top of this file). */
function memberStatus(dir: string, member: JobMember, jobId: string | null, view: SqueueView, configs: (index: number) => { train: { cleanEpochs: number; adversarialEpochs: number } } | null): MemberStatus {
  const folder = memberRunFolder(dir, member);
  const task = jobId === null ? null : taskKey(jobId, member.index);
  const queued = task !== null && view.reachable ? (view.tasks.get(task) ?? null) : null;
  let record: RunFile | null = null;
  let unreadable: string | null = null;
  if (existsSync(join(folder, runFileName))) {
    try {
      record = readRunFile(folder);
    } catch (error) {
      unreadable = (error as Error).message;
    }
  }
  const base = { member, task, squeue: queued, progress: null, summary: null, why: [] as string[] };
  const slurmLog = () => (jobId === null ? [] : tailLines(memberLogFile(dir, jobId, member.index), 5));
  if (unreadable !== null) return { ...base, state: 'failed', why: [unreadable] };
  if (record?.status === 'finished') return { ...base, state: 'finished', summary: readSummary(folder) };
  if (jobId === null) return { ...base, state: record ? 'interrupted' : 'not submitted', why: record?.error ? lastLines(record.error, 3) : [] };
  const taskRuns = queued !== null && !/^PENDING|^CONFIGURING/.test(queued.state);
  if (queued !== null && !taskRuns) return { ...base, state: 'queued' };
  if (record === null) {
    if (queued !== null) return { ...base, state: 'running' }; // started, its folder not written yet
    if (!view.reachable) return { ...base, state: 'queued', why: [`squeue cannot be asked (${view.why}): submitted as ${task}, no run folder yet`] };
    return { ...base, state: 'failed', why: ['its Slurm task ended before the run began; the end of its log:', ...slurmLog()] };
  }
  if (record.status === 'running' || record.status === 'queued') {
    if (queued === null && view.reachable) {
      return { ...base, state: 'interrupted', why: [`its folder says ${record.status}, but Slurm no longer lists task ${task}: it was killed (cancelled, out of time, or its node failed)`, ...slurmLog().slice(-2)] };
    }
    const last = lastMetricsEvent(folder);
    const config = configs(member.index);
    const total = config ? config.train.cleanEpochs + config.train.adversarialEpochs : totalEpochs(record);
    const progress = last
      ? { phase: last.phase, epoch: last.epoch, globalEpoch: last.globalEpoch, totalEpochs: total, cleanAccuracy: last.cleanAccuracy.estimate, robustAccuracy: last.robustAccuracy?.estimate ?? null }
      : null;
    return { ...base, state: 'running', progress, why: view.reachable ? [] : [`squeue cannot be asked (${view.why}): as its folder says`] };
  }
  if (record.status === 'failed') return { ...base, state: 'failed', why: [...lastLines(record.error ?? 'failed (no error recorded)', 3), ...(taskRuns ? [] : slurmLog().slice(-2))] };
  // interrupted or cancelled; or resubmitted and running again though its folder has not said so yet
  if (taskRuns) return { ...base, state: 'running' };
  return { ...base, state: 'interrupted', why: lastLines(record.error ?? `${record.status}`, 3) };
}

/** The status of every member, from the job folder and one squeue call (`squeue` replaceable for tests). */
export function sweepStatus(dir: string, squeue: (jobIds: readonly string[]) => SqueueView = querySqueue): SweepStatus {
  const job = readJobFile(dir);
  const latest = latestSubmissionOf(readSubmissions(dir));
  const jobIds = [...new Set([...latest.values()].map((s) => s.jobId))];
  const view = squeue(jobIds);
  // Epoch totals from the member's resolved config, read only for running members.
  const configs = (index: number) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'members', `${index}.json`), 'utf8')) as { train: { cleanEpochs: number; adversarialEpochs: number } };
    } catch {
      return null;
    }
  };
  const members = job.members.map((m) => memberStatus(dir, m, latest.get(m.index)?.jobId ?? null, view, configs));
  const counts = Object.fromEntries(memberStates.map((s) => [s, 0])) as Record<MemberState, number>;
  for (const m of members) counts[m.state] += 1;
  return { job, jobIds, squeue: view, members, counts };
}
