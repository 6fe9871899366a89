/**
 * The job host: compute (runs, baselines, the throughput measurement) in workers, off the event
 * loop of whoever hosts it: browser mode's server, the desktop engine process and the CLI. The
 * parent stays free to answer requests and signals however long a task computes, and a task
 * that does not stop when cancelled is stopped from outside after a grace period, without
 * touching the others.
 *
 * Why worker_threads and not child processes (measured: see the README, "Jobs and workers"):
 * - the installed app's engine is an Electron utility process, and the app's fuses turn
 *   ELECTRON_RUN_AS_NODE off, so it has no Node binary to fork: a thread is the one kind of
 *   worker that runs in all four places (CLI, tests, the development engine, the installed app);
 * - Worker.terminate() stops a thread even in a synchronous loop (V8 interrupts JS and wasm
 *   loops), so a stuck task ends as surely as with SIGKILL, and only its thread goes;
 * - a thread starts faster and costs less memory than a second Node process (one tfjs instance
 *   each either way), and typed arrays (checkpoints, weights) are transferred, not copied; two
 *   runs at once finish in the same time as two processes (bench/workerKinds.ts).
 * What a thread cannot do is survive a native crash of its own (a segfault in an addon takes the
 * process): the store marks such runs interrupted at its next open, as after any crash.
 *
 * Each worker loads its own backend once and runs one task at a time, or one stack: the members
 * of a stacked sweep (../stacks.ts), each its own task with its own events, cancel and result,
 * computed side by side in the one worker (startStack). Up to `concurrency` idle workers stay
 * warm for the next task.
 */
import { Worker } from 'node:worker_threads';
import type { BackendInfo, RunEvent } from '../../../shared/events.ts';
import type { EngineCheckpoint } from '../../engine/training/checkpoint.ts';
import type { BaselineEpoch, FromWorker, TaskResults, ToWorker, WorkerSetup, WorkerTask } from './messages.ts';
import { fromWireError, WorkerStoppedError } from './wireError.ts';

export interface JobHostOptions extends WorkerSetup {
  /** Idle workers kept warm (default 1; the job queue's runs at a time). */
  readonly concurrency?: number;
  /** How long a cancelled task may take to stop before its worker is terminated (default 10 s). */
  readonly cancelGraceMs?: number;
}

/** What a task reports while it runs (each a message from its worker, in order). */
export interface TaskHandlers {
  readonly onEvent?: (event: RunEvent) => void;
  readonly onCheckpoint?: (checkpoint: EngineCheckpoint) => void;
  readonly onWeights?: (label: 'init' | 'after-clean' | 'final', bytes: Uint8Array) => void;
  readonly onBaselineEpoch?: (epoch: BaselineEpoch) => void;
}

export interface HostedTask<K extends WorkerTask['kind']> {
  /**
   * The task's result; rejects with its own error (rebuilt: BackendError, DeadNetworkError,
   * RunCancelledError...) or with WorkerStoppedError when its worker was stopped or died.
   */
  readonly result: Promise<TaskResults[K]>;
  /** Ask it to stop at its next epoch; if it has not within the grace period, terminate its worker. */
  cancel(): void;
  /**
   * Test hook (JobQueueOptions.testHold): from the end of the current epoch on, the worker is not
   * told to start the next one; a cancel releases it so that it stops as a cancelled run does.
   */
  hold(): void;
}

export const defaultCancelGraceMs = 10_000;

/**
 * The worker's entry: the built JavaScript beside this file in the desktop build (out/app/...),
 * else a bootstrap that registers tsx in the worker and loads the TypeScript source (a worker
 * does not inherit its parent's module hooks: not under vitest, nor under `node --import tsx`).
 */
function workerEntry(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './sourceWorker.mjs' : './jobWorker.js', import.meta.url);
}

interface Current {
  readonly taskId: number;
  readonly handlers: TaskHandlers;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  graceTimer: NodeJS.Timeout | null;
  /** Held (a test hook): 'holding' until its epoch ends, then 'waiting' for a release. */
  held?: 'holding' | 'waiting';
}

let nextTaskId = 1;

/** One worker thread: its backend, and the task it runs now (or the members of one stack). */
class JobWorker {
  readonly ready: Promise<BackendInfo>;
  /** Resolves when the thread has exited. */
  readonly gone: Promise<void>;
  private readonly current = new Map<number, Current>();
  private exited = false;
  private stopReason: WorkerStoppedError | null = null;
  private readonly worker: Worker;

  constructor(
    setup: WorkerSetup,
    private readonly onGone: (worker: JobWorker) => void,
  ) {
    this.worker = new Worker(workerEntry(), { workerData: setup });
    let readyResolve!: (info: BackendInfo) => void;
    let readyReject!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {}); // a failed start is reported to whoever awaits it, never unhandled
    this.gone = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        readyResolve(message.backend);
        if (this.current.size === 0) this.idle(true);
      } else if (message.type === 'setup-failed') readyReject(fromWireError(message.error));
      else this.onTaskMessage(message);
    });
    this.worker.on('error', (error) => {
      this.stopReason ??= new WorkerStoppedError(`lost its worker to an error (${error.message})`, 'crashed');
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      const reason = this.stopReason ?? new WorkerStoppedError(`lost its worker, which stopped unexpectedly (exit code ${code})`, 'crashed');
      readyReject(reason);
      for (const taskId of [...this.current.keys()]) this.settle(taskId, null, reason);
      this.onGone(this);
    });
  }

  get busy(): boolean {
    return this.current.size > 0;
  }

  get alive(): boolean {
    return !this.exited && this.stopReason === null;
  }

  /**
   * An idle worker must not keep its process alive; a starting or busy one must (a CLI awaits
   * nothing else).
   */
  private idle(idle: boolean): void {
    if (idle) this.worker.unref();
    else this.worker.ref();
  }

  /** A task id for the next `run`, known beforehand so that a stack's members can be told apart. */
  static nextTaskId(): number {
    return nextTaskId++;
  }

  /**
   * Run a task. A worker runs one task at a time, except the members of one stack, which are
   * posted together (their ids from nextTaskId) and compute side by side in the worker.
   */
  run<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>, handlers: TaskHandlers, transfer: ArrayBuffer[], taskId = nextTaskId++): Promise<TaskResults[K]> {
    this.idle(false);
    return new Promise<TaskResults[K]>((resolve, reject) => {
      this.current.set(taskId, { taskId, handlers, resolve: resolve as (value: unknown) => void, reject, graceTimer: null });
      this.worker.postMessage({ type: 'task', taskId, task } satisfies ToWorker, transfer);
    });
  }

  /** Hold a task at the end of its epoch (the test hook of HostedTask.hold). */
  hold(taskId: number): void {
    const current = this.current.get(taskId);
    if (current && !current.graceTimer) current.held = 'holding';
  }

  /**
   * Ask a task to stop; terminate the worker if it is still running it `graceMs` later. A stack's
   * other members go with the worker then: a member stuck in a computation holds the thread that
   * all of them compute on.
   */
  cancel(taskId: number, graceMs: number): void {
    const current = this.current.get(taskId);
    if (!current || current.graceTimer) return;
    this.worker.postMessage({ type: 'cancel', taskId: current.taskId } satisfies ToWorker);
    // A held task waits at its epoch's end: let it go on, so that it sees the cancel and stops.
    if (current.held === 'waiting') this.worker.postMessage({ type: 'continue', taskId: current.taskId } satisfies ToWorker);
    current.held = undefined;
    current.graceTimer = setTimeout(() => {
      if (this.current.get(taskId) !== current) return;
      this.terminate(new WorkerStoppedError(`did not stop within ${graceMs / 1000} s of the cancel (stuck in a computation), so its worker was stopped`, 'unresponsive'));
    }, graceMs);
  }

  /** Stop the thread now, whatever it is doing; its task (if any) rejects with `reason`. */
  terminate(reason: WorkerStoppedError): void {
    if (this.exited) return;
    this.stopReason ??= reason;
    void this.worker.terminate();
  }

  /**
   * A handler that throws (the store cannot write: disk full, say) fails the task with that error,
   * as it failed the run in-process, and stops its worker: what it computes next could not be
   * recorded. The error never escapes into the host's process.
   */
  private onTaskMessage(message: Exclude<FromWorker, { type: 'ready' | 'setup-failed' }>): void {
    const current = this.current.get(message.taskId);
    if (!current) return; // a late message of a task given up on
    try {
      this.dispatch(message, current);
    } catch (error) {
      this.settle(message.taskId, null, error instanceof Error ? error : new Error(String(error)));
      this.terminate(new WorkerStoppedError('lost its worker after its results could not be recorded', 'closed'));
    }
  }

  private dispatch(message: Exclude<FromWorker, { type: 'ready' | 'setup-failed' }>, current: Current): void {
    const h = current.handlers;
    switch (message.type) {
      case 'event':
        return h.onEvent?.(message.event);
      case 'checkpoint':
        return h.onCheckpoint?.(message.checkpoint);
      case 'weights':
        return h.onWeights?.(message.label, message.bytes);
      case 'baseline-epoch':
        return h.onBaselineEpoch?.(message.epoch);
      case 'epoch-end':
        if (current.held) {
          current.held = 'waiting';
          return;
        }
        // Everything before it is handled (messages arrive in order): let the next epoch start.
        return this.worker.postMessage({ type: 'continue', taskId: message.taskId } satisfies ToWorker);
      case 'done':
        return this.settle(message.taskId, message.result, null);
      case 'failed':
        return this.settle(message.taskId, null, fromWireError(message.error));
    }
  }

  private settle(taskId: number, result: unknown, error: Error | null): void {
    const current = this.current.get(taskId);
    if (!current) return;
    this.current.delete(taskId);
    if (current.graceTimer) clearTimeout(current.graceTimer);
    if (!this.exited && this.current.size === 0) this.idle(true);
    if (error) current.reject(error);
    else current.resolve(result);
  }
}

export class JobHost {
  private readonly workers = new Set<JobWorker>();
  /** Workers handed out for a task and not yet given back. */
  private readonly reserved = new Set<JobWorker>();
  private backend: Promise<BackendInfo> | null = null;

  private warm: number;

  constructor(private readonly options: JobHostOptions = {}) {
    this.warm = Math.max(1, options.concurrency ?? 1);
  }

  /** Idle workers kept warm for the next task (the job queue runs this many at a time). */
  get concurrency(): number {
    return this.warm;
  }

  /** Keep this many idle workers warm from now on; idle ones beyond it are stopped now. */
  setConcurrency(warm: number): void {
    this.warm = Math.max(1, warm);
    const idle = [...this.workers].filter((w) => w.alive && !w.busy && !this.reserved.has(w));
    for (const worker of idle.slice(this.warm)) worker.terminate(new WorkerStoppedError('lost its worker, an idle one beyond the warm ones', 'closed'));
  }

  /** The backend the workers load (the first worker's report; loading it starts that worker). */
  backendInfo(): Promise<BackendInfo> {
    this.backend ??= (async () => {
      const worker = this.acquire();
      try {
        return await worker.ready;
      } finally {
        this.release(worker);
      }
    })();
    return this.backend;
  }

  /**
   * Run a task in a worker of its own: an idle one, else a new one. The host sets no limit of
   * its own: the job queue runs `concurrency` runs at a time, the Paper page's baselines as many
   * sets beside them, so a measurement or a baseline set never waits behind a run (stuck or not).
   */
  start<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>, handlers: TaskHandlers = {}, transfer: ArrayBuffer[] = []): HostedTask<K> {
    return this.startStack([{ task, handlers, transfer }])[0]!;
  }

  /**
   * Run the members of one stack side by side in one worker (an idle one, else a new one): each
   * member is a task of its own, with its own handlers, result, cancel and hold. The worker is
   * given back when the last member ends.
   */
  startStack(members: readonly { readonly task: Extract<WorkerTask, { kind: 'experiment' }>; readonly handlers?: TaskHandlers; readonly transfer?: ArrayBuffer[] }[]): HostedTask<'experiment'>[];
  startStack<K extends WorkerTask['kind']>(members: readonly { readonly task: Extract<WorkerTask, { kind: K }>; readonly handlers?: TaskHandlers; readonly transfer?: ArrayBuffer[] }[]): HostedTask<K>[];
  startStack<K extends WorkerTask['kind']>(members: readonly { readonly task: Extract<WorkerTask, { kind: K }>; readonly handlers?: TaskHandlers; readonly transfer?: ArrayBuffer[] }[]): HostedTask<K>[] {
    const worker = this.acquire();
    const taskIds = members.map(() => JobWorker.nextTaskId());
    const cancelled = new Set<number>();
    const started = (async () => {
      await worker.ready;
      return members.map((m, i) => {
        const running = worker.run(m.task, m.handlers ?? {}, m.transfer ?? [], taskIds[i]);
        if (cancelled.has(taskIds[i]!)) worker.cancel(taskIds[i]!, this.graceMs);
        return running;
      });
    })();
    let left = members.length;
    const results = members.map(async (_, i) => {
      try {
        return await (await started)[i]!;
      } finally {
        // Given back before the last member's caller hears of its end, as a lone task's worker is.
        if (--left === 0) this.release(worker);
      }
    });
    return taskIds.map((taskId, i) => ({
      result: results[i]!,
      cancel: () => {
        cancelled.add(taskId);
        worker.cancel(taskId, this.graceMs);
      },
      hold: () => worker.hold(taskId),
    }));
  }

  /** Terminate every worker (tasks still running reject); the host starts fresh ones if used again. */
  async close(): Promise<void> {
    const all = [...this.workers];
    for (const worker of all) worker.terminate(new WorkerStoppedError('lost its worker when the job host closed', 'closed'));
    await Promise.all(all.map((w) => w.gone));
    this.backend = null;
  }

  private get graceMs(): number {
    return this.options.cancelGraceMs ?? defaultCancelGraceMs;
  }

  private acquire(): JobWorker {
    let worker = [...this.workers].find((w) => w.alive && !w.busy && !this.reserved.has(w));
    if (!worker) {
      worker = new JobWorker(this.options, (gone) => {
        this.workers.delete(gone);
        this.reserved.delete(gone);
      });
      this.workers.add(worker);
    }
    this.reserved.add(worker);
    return worker;
  }

  /** A task ended: keep its worker warm unless enough idle ones are. */
  private release(worker: JobWorker): void {
    this.reserved.delete(worker);
    if (!worker.alive) return;
    const idle = [...this.workers].filter((w) => w.alive && !w.busy && !this.reserved.has(w));
    if (idle.length > this.concurrency) worker.terminate(new WorkerStoppedError('lost its worker, an idle one beyond the warm ones', 'closed'));
  }
}
