/**
 * The main process's hold on the engine: start it, say hello, hand it renderer connections,
 * notice when it dies, and start it again, so that an engine crash never takes the window down.
 *
 * On an unexpected exit the supervisor
 *   1. reports `crashed` with the runs the engine was running (it follows the job stream on the
 *      control channel) and a plain sentence of what happened;
 *   2. starts a new engine whose `desktop.hello` carries those runs: the new engine marks them
 *      interrupted in the store (RunStore.markInterrupted, then the crash as their reason), so
 *      each can be resumed from its last checkpoint;
 *   3. reports `ready` with `restarted: true` and the interrupted runs; the main process then
 *      hands the window a fresh port and offers the resume.
 * More than `maxCrashes` crashes within `crashWindowMs` stop the restarts (`failed`): a bug that
 * kills the engine at start must not spin. A store that cannot be opened is `failed` at once.
 *
 * Electron-free: the engine child is injected (engineChildren.ts builds the real ones), so the
 * whole cycle is tested with a fake child that exits.
 */
import type { JobStreamMessage } from '../../shared/api.ts';
import type { ControlMethod, ControlResults, HelloResult } from './engineControl.ts';
import { connectPort, type Endpoint, type Envelope, type PortClient } from './portProtocol.ts';

export interface EngineExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** What the process said last (stderr), or the utility process's fatal-error report. */
  readonly detail?: string;
}

/** One engine process, as the main process holds it. P: what a renderer connection is (a MessagePortMain). */
export interface EngineChild<P> {
  readonly pid: number | undefined;
  /** The control channel. */
  readonly control: Endpoint;
  /** Hand the engine one end of a renderer's channel. */
  connect(port: P): void;
  kill(): void;
  onExit(listener: (exit: EngineExit) => void): void;
}

export type EngineState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export type EngineEvent =
  | { readonly type: 'starting'; readonly restart: boolean }
  | { readonly type: 'ready'; readonly restarted: boolean; readonly pid: number; readonly store: string; readonly interrupted: readonly string[] }
  | { readonly type: 'crashed'; readonly exit: EngineExit; readonly runs: readonly string[]; readonly message: string; readonly detail: string; readonly willRestart: boolean }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' };

export interface SupervisorOptions<P> {
  start(): EngineChild<P>;
  onEvent(event: EngineEvent): void;
  /** Delay before a restart (default 500 ms). */
  readonly restartDelayMs?: number;
  /** Restarts stop after this many crashes within crashWindowMs (default 3 in 60 s). */
  readonly maxCrashes?: number;
  readonly crashWindowMs?: number;
  /** How long the engine may take to answer hello (default 60 s: tfjs loads at start). */
  readonly helloTimeoutMs?: number;
  readonly now?: () => number;
}

/** How an exit reads: "exit code 1", "signal SIGKILL". */
export function exitText(exit: EngineExit): string {
  if (exit.signal) return `signal ${exit.signal}`;
  return exit.code === null ? 'no exit code' : `exit code ${exit.code}`;
}

/** The sentence a crash is told with, and the reason recorded with each interrupted run. */
export function describeCrash(exit: EngineExit, runs: readonly string[], willRestart: boolean): { message: string; detail: string; reason: string } {
  const how = exitText(exit);
  const message = `The compute engine stopped unexpectedly (${how}).`;
  const lines = [
    runs.length === 0
      ? 'No run was training.'
      : `${runs.length === 1 ? `Run ${runs[0]} was` : `Runs ${runs.join(', ')} were`} interrupted: everything up to the last checkpoint is kept, and ${runs.length === 1 ? 'it' : 'each'} can be resumed from there.`,
    willRestart ? 'The engine is restarting; the window and the run store are unaffected.' : 'It crashed repeatedly, so it is not restarted: quit and start the app again, or run the same experiment with `npm run lab` to see the error.',
  ];
  if (exit.detail) lines.push(`Its last words: ${exit.detail}`);
  return { message, detail: lines.join('\n'), reason: `the engine stopped unexpectedly (${how}) while this run was training: resume it to continue from its last checkpoint` };
}

const terminal = new Set(['finished', 'failed', 'cancelled', 'interrupted']);

export class EngineSupervisor<P> {
  private child: EngineChild<P> | null = null;
  private client: PortClient | null = null;
  private current: EngineState = 'idle';
  private readonly active = new Set<string>();
  private pendingPorts: P[] = [];
  private crashes: number[] = [];
  private recover: { runIds: string[]; reason: string } | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private waiters: ((ok: boolean) => void)[] = [];
  private stopWaiters: (() => void)[] = [];
  private failure = '';

  constructor(private readonly options: SupervisorOptions<P>) {}

  get state(): EngineState {
    return this.current;
  }

  /** The runs the engine is running now, as its job stream said. */
  get activeRuns(): readonly string[] {
    return [...this.active];
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.current === 'starting' || this.current === 'ready') return;
    this.restartTimer = null;
    const restart = this.recover !== null;
    this.current = 'starting';
    this.options.onEvent({ type: 'starting', restart });
    let child: EngineChild<P>;
    try {
      child = this.options.start();
    } catch (error) {
      this.fail(`The compute engine could not be started: ${(error as Error).message}`);
      return;
    }
    this.child = child;
    const client = connectPort(child.control);
    this.client = client;
    client.subscribe((message) => this.follow(message));
    child.onExit((exit) => this.exited(child, exit));
    void client
      .request<HelloResult>('desktop.hello', this.recover ? { recover: this.recover } : {}, { timeoutMs: this.options.helloTimeoutMs ?? 60_000 })
      .then((envelope) => {
        if (this.child !== child || this.current !== 'starting') return;
        if (!envelope.ok) {
          this.fail(envelope.error.message);
          child.kill();
          return;
        }
        this.recover = null;
        this.current = 'ready';
        for (const port of this.pendingPorts.splice(0)) child.connect(port);
        const hello = envelope.result;
        this.options.onEvent({ type: 'ready', restarted: restart, pid: hello.pid, store: hello.store, interrupted: hello.interrupted });
        this.settleWaiters(true);
      });
  }

  /** Hand a renderer connection to the engine now, or as soon as it is ready. */
  connect(port: P): void {
    if (this.current === 'ready' && this.child) this.child.connect(port);
    else this.pendingPorts.push(port);
  }

  /** A control call, once the engine is ready (an error envelope if it is not within `timeoutMs`). */
  async call<M extends ControlMethod>(method: M, params: unknown, timeoutMs?: number): Promise<Envelope<ControlResults[M]>>;
  async call<T = unknown>(method: string, params: unknown, timeoutMs?: number): Promise<Envelope<T>>;
  async call(method: string, params: unknown, timeoutMs = 30_000): Promise<Envelope> {
    if (!(await this.ready(timeoutMs)) || !this.client) {
      return { ok: false, error: { message: this.current === 'failed' ? this.failure : 'The compute engine is not running (it is starting or restarting); try again in a moment' } };
    }
    return this.client.request(method, params);
  }

  /** Resolves true once the engine is ready, false if it failed or did not come up in time. */
  ready(timeoutMs = 30_000): Promise<boolean> {
    if (this.current === 'ready') return Promise.resolve(true);
    if (this.current === 'failed' || this.current === 'stopped' || this.current === 'stopping') return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.push(done);
    });
  }

  /**
   * Stop for good: ask the engine to checkpoint its runs and exit (desktop.shutdown), and kill it
   * if it has not exited within `timeoutMs`.
   */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child || this.current === 'stopped') {
      this.current = 'stopped';
      return;
    }
    this.current = 'stopping';
    this.settleWaiters(false);
    const exited = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    void this.client?.request('desktop.shutdown', {}, { timeoutMs });
    const timer = setTimeout(() => child.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** After `failed`: try once more (the user asked to). */
  retry(): void {
    if (this.current !== 'failed') return;
    this.crashes = [];
    this.current = 'idle';
    this.start();
  }

  private follow(message: JobStreamMessage): void {
    if (message.type !== 'status') return;
    if (message.status === 'running') this.active.add(message.runId);
    else if (terminal.has(message.status)) this.active.delete(message.runId);
  }

  private settleWaiters(ok: boolean): void {
    for (const waiter of this.waiters.splice(0)) waiter(ok);
  }

  private fail(message: string): void {
    this.current = 'failed';
    this.failure = message;
    this.pendingPorts = [];
    this.options.onEvent({ type: 'failed', message });
    this.settleWaiters(false);
  }

  private exited(child: EngineChild<P>, exit: EngineExit): void {
    if (child !== this.child) return;
    this.child = null;
    this.client?.close('The compute engine stopped');
    this.client = null;
    if (this.current === 'stopping' || this.current === 'stopped') {
      this.current = 'stopped';
      this.options.onEvent({ type: 'stopped' });
      for (const resolve of this.stopWaiters.splice(0)) resolve();
      return;
    }
    if (this.current === 'failed') return; // killed after a failed hello: already reported
    const runs = [...this.active];
    this.active.clear();
    this.pendingPorts = [];
    const now = (this.options.now ?? Date.now)();
    const window = this.options.crashWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    const willRestart = this.crashes.length <= (this.options.maxCrashes ?? 3);
    const { message, detail, reason } = describeCrash(exit, runs, willRestart);
    // Runs of an engine that died before its hello are still owed their recovery.
    this.recover = { runIds: [...new Set([...(this.recover?.runIds ?? []), ...runs])], reason };
    this.current = 'idle';
    this.options.onEvent({ type: 'crashed', exit, runs, message, detail, willRestart });
    if (willRestart) {
      this.restartTimer = setTimeout(() => this.start(), this.options.restartDelayMs ?? 500);
    } else {
      this.fail(`${message} It crashed ${this.crashes.length} times within ${Math.round(window / 1000)} s, so it was not restarted.`);
    }
  }
}
