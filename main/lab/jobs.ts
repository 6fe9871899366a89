/**
 * Job control, independent of any UI: a queue of runs (up to `concurrency` at once, each in a
 * worker of its own; ./jobCount.ts chooses the default of the CLI, browser mode and the desktop
 * app) that records
 * every run in the store as it goes, with progress, cancel, checkpoints every N epochs, and
 * resume from the last checkpoint. The CLI, browser mode and the desktop app all drive runs
 * through this. The runs compute in the job host's workers (jobHost/), never on the caller's
 * event loop; the store is written here, from the messages the workers send. A stack
 * (submitStack: sweep members of the same shapes, ./stacks.ts) takes one slot and one worker,
 * its members computing side by side there; each member is still a run of its own here,
 * recorded, cancelled, failed and resumed alone.
 */
import { join } from 'node:path';
import type { ExperimentInput, ResolvedExperiment, SparseCodingExperiment } from '../../shared/config.ts';
import { maxJobs } from '../../shared/jobSettings.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { FileEvaluation } from '../../shared/fileEvaluation.ts';
import type { RunResult } from '../../shared/result.ts';
import type { BackendRequest } from '../engine/backend/chooseBackend.ts';
import type { BaselineOptions, BaselineResult } from '../engine/baselines.ts';
import { RunCancelledError } from '../engine/experiment.ts';
import type { Throughput } from './costEstimate.ts';
import { JobHost, type HostedTask, type TaskHandlers } from './jobHost/jobHost.ts';
import type { WorkerTask } from './jobHost/messages.ts';
import { WorkerStoppedError } from './jobHost/wireError.ts';
import { codeVersion, configHash, provenance } from './provenance.ts';
import { onStackedKernels, stackedBefore, stackedHotPath } from './stacks.ts';
import { checkedThreads, defaultThreads, runsOnThreads, threadsForRun } from './threadCount.ts';
import { writeFileAtomic, type RunRecord, type RunStatus, type RunStore } from './store/runStore.ts';

export interface JobRequest {
  readonly input: ExperimentInput;
  readonly config: ResolvedExperiment;
  readonly preset?: string | undefined;
  readonly name?: string | undefined;
  readonly notes?: string | undefined;
  readonly sweepId?: string | undefined;
  /** A run id fixed beforehand (a Slurm job folder's member); else the store makes one. */
  readonly id?: string | undefined;
}

/** What a queue reports: each run's events, and its status changes. */
export type JobUpdate =
  | { readonly kind: 'event'; readonly runId: string; readonly event: RunEvent }
  | { readonly kind: 'status'; readonly runId: string; readonly status: RunStatus; readonly error?: string; readonly errorName?: string };

export interface JobQueueOptions {
  readonly backend?: BackendRequest | undefined;
  readonly fused?: boolean;
  /** Epochs between checkpoints (phase ends always checkpoint). */
  readonly checkpointEvery?: number;
  /**
   * Runs at a time, each in its own worker with its own tfjs instance (default 1; the entry
   * points pass ./jobCount.ts's defaultJobs, one per physical core). setConcurrency changes it.
   */
  readonly concurrency?: number;
  /**
   * Kernel threads per run (./threadCount.ts): a count, or 'auto', the physical cores shared
   * among the jobs at once (floor(cores / jobs), at least 1, following setConcurrency). Default 1;
   * the entry points pass 'auto' or the user's --threads. A resumed run uses its checkpoint's count.
   */
  readonly threads?: number | 'auto';
  /** How long a cancelled run may take to stop before its worker is terminated (default 10 s). */
  readonly cancelGraceMs?: number;
  /**
   * Test hook (as PURIFICATION_LAB_TEST_KILL_IN_CHECKPOINT is for checkpoints): once the checkpoint
   * of this global epoch is stored, the run is held there (its worker is never told to start the
   * next epoch) and `onHeld` is called, so a test can stop it mid-run at a known epoch without
   * relying on timing. Cancel, shutdown and abandon still work on a held run.
   */
  readonly testHold?: { readonly atCheckpoint: number; readonly onHeld: (runId: string) => void } | undefined;
}

function checkedJobs(jobs: number): number {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > maxJobs) throw new RangeError(`jobs at once: expected an integer from 1 to ${maxJobs}, got ${jobs}`);
  return jobs;
}

/** Heartbeats (and progress in the store) at most this often. */
const heartbeatIntervalMs = 1000;

/**
 * A run's owner is this process, alive even while the run's worker computes a long epoch (or is
 * stuck): it says so this often, well inside the store's staleness limit.
 */
const ownerHeartbeatMs = 30_000;

/**
 * What the API service needs of a job queue (the real JobQueue, or a stand-in in tests). Compute
 * goes through it, into its workers: runs, the throughput measurement and the Paper page's
 * baselines (a stand-in without the last two measures nothing and trains no baselines).
 */
export type JobControl = Pick<JobQueue, 'submit' | 'resume' | 'cancel' | 'subscribe' | 'backendInfo' | 'active'> &
  Partial<Pick<JobQueue, 'measureThroughput' | 'trainBaselines' | 'concurrency' | 'setConcurrency' | 'submitStack' | 'evaluateMlp'>>;

/** What one member of a stack runs in the stack's worker, and who hears from it. */
interface StackMember {
  readonly task: Extract<WorkerTask, { kind: 'experiment' }>;
  readonly handlers: TaskHandlers;
}

/** A stacked run's place in its stack: the stack's runs, and how it gets its task started. */
interface StackPlace {
  readonly runIds: readonly string[];
  readonly start: (member: StackMember) => Promise<HostedTask<'experiment'>>;
}

/** Runs queued to take one slot together: one run, or the members of a stack. */
interface PendingJob {
  readonly runIds: string[];
  readonly resume: boolean;
}

interface RunningJob {
  task: HostedTask<'experiment'> | null;
  cancelled: boolean;
}

export class JobQueue {
  private readonly pending: PendingJob[] = [];
  private readonly running = new Map<string, RunningJob>();
  /** Slots taken: a lone run or a whole stack each takes one. */
  private slotsTaken = 0;
  private readonly stopReason = new Map<string, 'cancelled' | 'interrupted'>();
  /** Why abandon() stopped a run: kept as its error when its worker's end is reported. */
  private readonly abandoned = new Map<string, string>();
  private readonly listeners = new Set<(update: JobUpdate) => void>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly host: JobHost;
  private limit: number;

  constructor(
    readonly store: RunStore,
    private readonly options: JobQueueOptions = {},
  ) {
    this.limit = checkedJobs(options.concurrency ?? 1);
    if (options.threads !== undefined && options.threads !== 'auto') checkedThreads(options.threads);
    this.host = new JobHost({
      backend: options.backend,
      ...(options.fused === false ? { fused: false } : {}),
      concurrency: this.limit,
      ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
    });
  }

  /** Kernel threads per new run now: the setting, or the cores shared among the jobs at once. */
  get threads(): number {
    const setting = this.options.threads ?? 1;
    return setting === 'auto' ? defaultThreads({ jobs: this.limit }) : setting;
  }

  /** Runs at a time now. */
  get concurrency(): number {
    return this.limit;
  }

  /**
   * Change the runs at a time. More: queued runs start now. Fewer: the running ones finish (none
   * is stopped), and no queued one starts until fewer than `jobs` run.
   */
  setConcurrency(jobs: number): void {
    this.limit = checkedJobs(jobs);
    this.host.setConcurrency(this.limit);
    this.pump();
  }

  /** Subscribe to updates; returns the unsubscribe function. */
  subscribe(listener: (update: JobUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(update: JobUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  /** The backend, loaded once by the queue's first worker. */
  backendInfo(): Promise<BackendInfo> {
    return this.host.backendInfo();
  }

  /** Flagship-size training and evaluation throughput on this backend, measured in a worker (throughput.ts). */
  measureThroughput(steps = 200): Promise<Throughput> {
    return this.host.start({ kind: 'throughput', steps, threads: this.threads }).result;
  }

  /** An MLP weights file evaluated on a dataset file, in a worker (../mlpEvaluation.ts). */
  evaluateMlp(task: Omit<Extract<WorkerTask, { kind: 'evaluate-mlp' }>, 'kind'>): Promise<FileEvaluation> {
    return this.host.start({ kind: 'evaluate-mlp', ...task }).result;
  }

  /** C4's baselines of a config, trained in a worker (aborting the signal cancels them). */
  trainBaselines(config: SparseCodingExperiment, options: Pick<BaselineOptions, 'onEpoch' | 'signal'> = {}): Promise<BaselineResult[]> {
    if (options.signal?.aborted) return Promise.reject(new Error('The baselines run was cancelled'));
    const task = this.host.start({ kind: 'baselines', config }, { ...(options.onEpoch ? { onBaselineEpoch: options.onEpoch } : {}) });
    options.signal?.addEventListener('abort', () => task.cancel(), { once: true });
    return task.result;
  }

  /** Queue a new run; it is in the store (status queued) when this returns. */
  submit(request: JobRequest): RunRecord {
    const run = this.createRun(request);
    this.pending.push({ runIds: [run.id], resume: false });
    this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return run;
  }

  /**
   * Queue runs to compute as one stack: in one worker, side by side, taking one slot (./stacks.ts
   * says which configs may). Each is an ordinary run in the store, queued when this returns; its
   * provenance names the stack's runs. One request is a plain submit.
   */
  submitStack(requests: readonly JobRequest[]): RunRecord[] {
    if (requests.length <= 1) return requests.map((r) => this.submit(r));
    const runs = requests.map((request) => this.createRun(request));
    this.pending.push({ runIds: runs.map((r) => r.id), resume: false });
    for (const run of runs) this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return runs;
  }

  /** The store's record of a requested run, with its config's hash and this code's version. */
  private createRun(request: JobRequest): RunRecord {
    return this.store.createRun({
      input: request.input,
      config: request.config,
      configHash: configHash(request.config),
      codeVersion: codeVersion(),
      name: request.name,
      notes: request.notes,
      preset: request.preset,
      sweepId: request.sweepId,
      id: request.id,
    });
  }

  /** Queue an interrupted, failed or cancelled run to continue from its last checkpoint. */
  resume(id: string): RunRecord {
    const run = this.store.get(id);
    if (run.status === 'finished') throw new Error(`Run ${run.id} has finished: there is nothing to resume`);
    if (run.status === 'running' || this.running.has(run.id) || this.pending.some((p) => p.runIds.includes(run.id))) {
      throw new Error(`Run ${run.id} is already running or queued`);
    }
    const hasCheckpoint = run.checkpointEpoch !== null;
    this.store.requeue(run.id);
    this.pending.push({ runIds: [run.id], resume: hasCheckpoint });
    this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return this.store.get(run.id);
  }

  /**
   * Cancel a queued or running run. A running one stops at the end of its epoch, checkpointed;
   * one that has not stopped within the grace period (stuck) has its worker terminated and is
   * marked cancelled with that reason.
   */
  cancel(id: string): boolean {
    const run = this.store.get(id);
    const queued = this.pending.findIndex((p) => p.runIds.includes(run.id));
    if (queued >= 0) {
      const job = this.pending[queued]!;
      job.runIds.splice(job.runIds.indexOf(run.id), 1);
      if (job.runIds.length === 0) this.pending.splice(queued, 1);
      this.store.end(run.id, 'cancelled');
      this.publish({ kind: 'status', runId: run.id, status: 'cancelled' });
      return true;
    }
    const job = this.running.get(run.id);
    if (!job) return false;
    this.stopReason.set(run.id, 'cancelled');
    this.stop(job);
    return true;
  }

  /**
   * Stop everything: running runs checkpoint and become interrupted (resumable), or, stuck past
   * the grace period, are stopped without one; queued ones stay queued. The workers are closed.
   */
  async shutdown(): Promise<void> {
    for (const [id, job] of this.running) {
      this.stopReason.set(id, 'interrupted');
      this.stop(job);
    }
    this.pending.length = 0;
    await this.idle();
    await this.host.close();
  }

  /**
   * Stop at once, without waiting for the epoch's end (the CLI's second Ctrl-C): every running
   * run is marked interrupted (it resumes from its last checkpoint) and its worker terminated.
   * Returns the ids.
   */
  abandon(reason: string): string[] {
    const ids = [...this.running.keys()];
    for (const id of ids) {
      this.stopReason.set(id, 'interrupted');
      this.abandoned.set(id, reason);
      this.store.end(id, 'interrupted', reason);
    }
    this.pending.length = 0;
    void this.host.close();
    return ids;
  }

  private stop(job: RunningJob): void {
    job.cancelled = true;
    job.task?.cancel();
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ids of the runs this queue is running now. */
  get active(): string[] {
    return [...this.running.keys()];
  }

  private pump(): void {
    while (this.slotsTaken < this.limit && this.pending.length > 0) {
      const next = this.pending.shift()!;
      this.slotsTaken += 1;
      const jobs = next.runIds.map((runId) => [runId, { task: null, cancelled: false }] as const);
      for (const [runId, job] of jobs) this.running.set(runId, job);
      const done = next.runIds.length === 1 ? this.execute(next.runIds[0]!, next.resume, jobs[0]![1]) : this.executeStack(jobs);
      void done.finally(() => {
        this.slotsTaken -= 1;
        this.pump();
        if (this.running.size === 0 && this.pending.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  /**
   * A stack's members, side by side in one worker; each is recorded and ends on its own. The
   * worker's tasks are made at once when every member has said what it runs (or ended before:
   * a member whose record could not be marked running is left out).
   */
  private async executeStack(jobs: readonly (readonly [string, RunningJob])[]): Promise<void> {
    const runIds = jobs.map(([runId]) => runId);
    const asked: (StackMember | 'left' | null)[] = jobs.map(() => null);
    const handedOut: ((task: HostedTask<'experiment'> | null) => void)[] = [];
    const tasks = jobs.map(() => new Promise<HostedTask<'experiment'> | null>((resolve) => handedOut.push(resolve)));
    const startWhenAllAsked = () => {
      if (asked.some((a) => a === null)) return;
      const members = asked.flatMap((a, i) => (a === null || a === 'left' ? [] : [[i, a] as const]));
      const started = this.host.startStack(members.map(([, member]) => member));
      members.forEach(([i], k) => handedOut[i]!(started[k]!));
      asked.forEach((a, i) => a === 'left' && handedOut[i]!(null));
    };
    await Promise.all(
      jobs.map(async ([runId, job], i) => {
        const start = (member: StackMember) => {
          asked[i] = member;
          startWhenAllAsked();
          return tasks[i]!.then((task) => task!);
        };
        try {
          await this.execute(runId, false, job, { runIds, start });
        } finally {
          if (asked[i] === null) {
            asked[i] = 'left';
            startWhenAllAsked();
          }
        }
      }),
    );
  }

  private async execute(runId: string, resume: boolean, job: RunningJob, stack?: StackPlace): Promise<RunResult | null> {
    try {
      return await this.executeRun(runId, resume, job, stack);
    } finally {
      this.running.delete(runId);
      this.stopReason.delete(runId);
      this.abandoned.delete(runId);
    }
  }

  private async executeRun(runId: string, resume: boolean, job: RunningJob, stack?: StackPlace): Promise<RunResult | null> {
    const run = this.store.get(runId);
    let lastBeat = 0;
    let ownerBeat: NodeJS.Timeout | null = null;
    try {
      const backend = await this.backendInfo();
      const resumeState = resume ? this.store.prepareResume(run.id) : undefined;
      const threads = runsOnThreads(backend, run.config.model) ? threadsForRun(resumeState?.checkpoint, this.threads) : 1;
      const info: BackendInfo = { ...backend, threads };
      // A stacked member records the stack it computed in: its size and its runs, in order.
      // With it, the hot path: the stack's kernels (stacksOnKernels), or each member alone. A
      // member of a stack on its kernels resumes on them (a stack of one), so it continues with
      // the floats of the stack that never stopped, and keeps its record of the stack.
      const stacked = stack
        ? { size: stack.runIds.length, runIds: [...stack.runIds], hotPath: stackedHotPath(info, run.config, stack.runIds.length) }
        : resume ? stackedBefore(run.provenance) : null;
      const onStackKernels = stacked !== null && onStackedKernels(stacked.hotPath);
      this.store.markRunning(run.id, info, { ...provenance(info), ...(stacked ? { stacked } : {}) });
      this.publish({ kind: 'status', runId: run.id, status: 'running' });
      ownerBeat = setInterval(() => this.store.heartbeat(run.id), ownerHeartbeatMs);
      ownerBeat.unref();
      const startTask = stack?.start ?? ((member: StackMember) => Promise.resolve(this.host.start(member.task, member.handlers)));
      const task = await startTask({
        task: {
          kind: 'experiment',
          config: run.config,
          checkpointEvery: this.options.checkpointEvery ?? 5,
          weights: { configHash: run.configHash, codeVersion: run.codeVersion },
          ...(resumeState ? { resume: resumeState } : {}),
          threads,
          ...(onStackKernels ? { stacked: true } : {}),
        },
        handlers: {
          onCheckpoint: (checkpoint) => {
            this.store.writeCheckpoint(run.id, checkpoint);
            const hold = this.options.testHold;
            if (hold && checkpoint.globalEpoch === hold.atCheckpoint) {
              job.task?.hold();
              hold.onHeld(run.id);
            }
          },
          onWeights: (label, bytes) => writeFileAtomic(join(run.folder, `weights-${label}.safetensors`), bytes),
          onEvent: (event) => {
            this.store.appendEvent(run.id, event);
            if (event.type === 'progress') {
              const now = Date.now();
              if (now - lastBeat >= heartbeatIntervalMs) {
                lastBeat = now;
                this.store.heartbeat(run.id, { done: event.done, total: event.total, phase: event.phase, epoch: event.epoch, epochs: event.epochs });
              }
            }
            this.publish({ kind: 'event', runId: run.id, event });
          },
        },
      });
      job.task = task;
      if (job.cancelled) task.cancel(); // cancelled while the worker was starting
      const result = await task.result;
      this.store.finish(run.id, result);
      this.publish({ kind: 'status', runId: run.id, status: 'finished' });
      return result;
    } catch (error) {
      if (error instanceof RunCancelledError || error instanceof WorkerStoppedError) {
        // Cancelled or shut down (checkpointed at the epoch's end, or stopped without one when
        // it did not stop in time), or its worker died: the run can resume from its checkpoint.
        // A stack's member that nobody stopped lost the worker to another member's: interrupted.
        const status = error instanceof WorkerStoppedError && error.reason === 'crashed' ? 'interrupted' : (this.stopReason.get(run.id) ?? (stack ? 'interrupted' : 'cancelled'));
        const reason = this.abandoned.get(run.id) ?? (error instanceof WorkerStoppedError ? `The run ${error.message}; resume continues from its last checkpoint` : undefined);
        this.store.end(run.id, status, reason);
        this.publish({ kind: 'status', runId: run.id, status, ...(reason ? { error: reason } : {}) });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.store.end(run.id, 'failed', message);
        this.publish({ kind: 'event', runId: run.id, event: { type: 'failed', error: message } });
        this.publish({ kind: 'status', runId: run.id, status: 'failed', error: message, errorName: error instanceof Error ? error.name : 'Error' });
      }
      return null;
    } finally {
      if (ownerBeat) clearInterval(ownerBeat);
    }
  }
}
