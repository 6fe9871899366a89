/**
 * An engine crash never takes the window down. First with fake engine processes that exit on
 * command (the supervisor, the store's recovery, what the page and the user are told), then for
 * real: the engine process the desktop app runs in development (engineProcess.ts under the
 * system Node, renderer channels relayed over its IPC pipe), SIGKILLed while a run trains,
 * restarted, the run marked interrupted in the store, and resumed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobStreamMessage } from '../../shared/api.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { controlService } from '../../main/desktop/engineControl.ts';
import { recoverRuns } from '../../main/lab/recovery.ts';
import { nodeEngine } from '../../main/desktop/engineChildren.ts';
import { describeCrash, EngineSupervisor, type EngineChild, type EngineEvent, type EngineExit } from '../../main/desktop/engineSupervisor.ts';
import { crashNotice, failureNotice, shellEventFor } from '../../main/desktop/notices.ts';
import { connectPort, nodePortEndpoint, servePort, type PortService } from '../../main/desktop/portProtocol.ts';
import type { JobUpdate } from '../../main/lab/jobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { LabService, type JobControl } from '../../main/lab/service.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';

const root = new URL('../../', import.meta.url).pathname;
const backend: BackendInfo = { name: 'cpu', device: 'cpu', label: 'cpu', skipped: [], forced: false, details: {}, fusedKernels: false };
const dirs: string[] = [];
const tempStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-crash-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const until = async (predicate: () => boolean, ms = 10_000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A queue stand-in: the test publishes its updates. */
function fakeQueue(): JobControl & { publish(u: JobUpdate): void; shutdown(): Promise<void> } {
  const listeners = new Set<(u: JobUpdate) => void>();
  return {
    submit: () => {
      throw new Error('not here');
    },
    resume: () => {
      throw new Error('not here');
    },
    cancel: () => false,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    backendInfo: async () => backend,
    active: [],
    publish: (u) => {
      for (const l of listeners) l(u);
    },
    shutdown: async () => {},
  };
}

/**
 * An engine "process" in this process: the real control service over the real store, on a
 * MessageChannel; `exit()` is its death.
 */
function fakeEngine(dir: string, options: { failHello?: string } = {}) {
  const store = RunStore.open(dir);
  const queue = fakeQueue();
  const service = new LabService(store, queue, { flushIntervalMs: 5, measureThroughput: false });
  const channel = new MessageChannel();
  const control: PortService = options.failHello
    ? { call: async () => Promise.reject(new Error(options.failHello)) }
    : controlService({ store, service, queue, stopped: () => exit({ code: 0, signal: null }) });
  const served = servePort(nodePortEndpoint(channel.port1), control);
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  const connected: MessagePort[] = [];
  let alive = true;
  const child: EngineChild<MessagePort> = {
    pid: 4242,
    control: nodePortEndpoint(channel.port2),
    connect: (port) => void connected.push(port),
    kill: () => exit({ code: null, signal: 'SIGKILL' }),
    onExit: (l) => void exitListeners.push(l),
  };
  const exit = (how: EngineExit) => {
    if (!alive) return;
    alive = false;
    served.close();
    service.close();
    store.close();
    for (const l of exitListeners) l(how);
  };
  return { child, store, queue, connected, exit, get alive() {
    return alive;
  } };
}

/** A run in the store, claimed as running by "the engine". */
function runningRun(store: RunStore): string {
  const config = resolveExperiment({});
  const run = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), preset: 'flagship' });
  store.markRunning(run.id, backend, {});
  return run.id;
}

describe('the engine supervisor with engines that crash', () => {
  it('reports the crash, restarts the engine, and the new engine marks the run interrupted in the store', async () => {
    const dir = tempStore();
    const engines: ReturnType<typeof fakeEngine>[] = [];
    const events: EngineEvent[] = [];
    const supervisor = new EngineSupervisor<MessagePort>({
      start: () => {
        const engine = fakeEngine(dir);
        engines.push(engine);
        return engine.child;
      },
      onEvent: (e) => events.push(e),
      restartDelayMs: 5,
    });
    supervisor.start();
    await until(() => supervisor.state === 'ready', 10_000, 'ready');
    expect(events.map((e) => e.type)).toEqual(['starting', 'ready']);

    // The first engine runs a run (the main process learns it from the job stream)...
    const first = engines[0]!;
    const id = runningRun(first.store);
    first.queue.publish({ kind: 'status', runId: id, status: 'running' });
    await until(() => supervisor.activeRuns.includes(id), 5000, 'the run to be seen running');

    // ...and dies. A renderer connection made meanwhile waits for the next engine.
    first.exit({ code: 1, signal: null, detail: 'RangeError: Maximum call stack size exceeded' });
    const crashed = events.find((e) => e.type === 'crashed');
    expect(crashed).toMatchObject({ type: 'crashed', runs: [id], willRestart: true, message: 'The compute engine stopped unexpectedly (exit code 1).' });
    const waiting = new MessageChannel();
    supervisor.connect(waiting.port1);

    await until(() => events.filter((e) => e.type === 'ready').length === 2, 10_000, 'the restart');
    const ready = events.filter((e) => e.type === 'ready')[1]!;
    expect(ready).toMatchObject({ type: 'ready', restarted: true, interrupted: [id], store: dir });
    expect(engines).toHaveLength(2);
    expect(engines[1]!.connected).toEqual([waiting.port1]);
    // The store says so, with the crash as the reason.
    const run = engines[1]!.store.get(id);
    expect(run.status).toBe('interrupted');
    expect(run.error).toMatch(/engine stopped unexpectedly \(exit code 1\)/);

    // What the page and the user are told.
    expect(shellEventFor(crashed!)).toMatchObject({ type: 'engine', state: 'restarting' });
    expect(shellEventFor(ready)).toEqual({ type: 'engine', state: 'ready', interrupted: [id] });
    const notice = crashNotice(crashed as EngineEvent & { type: 'crashed' }, (ready as EngineEvent & { type: 'ready' }).interrupted);
    expect(notice.message).toBe('The compute engine stopped unexpectedly (exit code 1). It has been restarted.');
    expect(notice.detail).toContain(`Run ${id} is marked interrupted`);
    expect(notice.detail).toContain('RangeError');
    expect(notice.buttons).toEqual(['Resume run', 'Not now']);
    expect(notice.resumeIds).toEqual([id]);

    await supervisor.stop(1000);
    expect(supervisor.state).toBe('stopped');
    waiting.port1.close();
    waiting.port2.close();
  });

  it('stops restarting after repeated crashes, and says so', async () => {
    const dir = tempStore();
    const events: EngineEvent[] = [];
    const engines: ReturnType<typeof fakeEngine>[] = [];
    const supervisor = new EngineSupervisor<MessagePort>({
      start: () => {
        const engine = fakeEngine(dir);
        engines.push(engine);
        return engine.child;
      },
      onEvent: (e) => events.push(e),
      restartDelayMs: 5,
      maxCrashes: 2,
    });
    supervisor.start();
    for (let i = 0; i < 3; i++) {
      await until(() => supervisor.state === 'ready', 10_000, `engine ${i + 1}`);
      engines[i]!.exit({ code: null, signal: 'SIGSEGV' });
    }
    expect(supervisor.state).toBe('failed');
    expect(events.filter((e) => e.type === 'crashed').map((e) => (e as { willRestart: boolean }).willRestart)).toEqual([true, true, false]);
    const failed = events.at(-1) as EngineEvent & { type: 'failed' };
    expect(failed.message).toMatch(/signal SIGSEGV.*crashed 3 times/);
    expect(shellEventFor(failed)).toMatchObject({ type: 'engine', state: 'failed' });
    expect(failureNotice(failed.message).buttons).toEqual(['Try again', 'Close']);
    expect((await supervisor.call('runs.list', {})).ok).toBe(false);
    supervisor.retry();
    await until(() => supervisor.state === 'ready', 10_000, 'the retry');
    await supervisor.stop(1000);
  });

  it('a store that cannot be opened fails once, without a crash loop', async () => {
    const events: EngineEvent[] = [];
    const engines: ReturnType<typeof fakeEngine>[] = [];
    const supervisor = new EngineSupervisor<MessagePort>({
      start: () => {
        const engine = fakeEngine(tempStore(), { failHello: 'The run store folder /nope is not writable (EACCES)' });
        engines.push(engine);
        return engine.child;
      },
      onEvent: (e) => events.push(e),
      restartDelayMs: 5,
    });
    supervisor.start();
    await until(() => supervisor.state === 'failed', 5000, 'failed');
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.type)).toEqual(['starting', 'failed']);
    expect(engines).toHaveLength(1);
    expect(engines[0]!.alive).toBe(false);
  });

  it('recoverRuns: the runs a dead engine left running become interrupted, others are left alone', () => {
    const dir = tempStore();
    const store = RunStore.open(dir);
    try {
      const crashedRun = runningRun(store);
      const finished = store.createRun({ input: {}, config: resolveExperiment({}), configHash: 'h', codeVersion: 'c' });
      const queued = store.createRun({ input: {}, config: resolveExperiment({}), configHash: 'h', codeVersion: 'c' });
      store.end(finished.id, 'cancelled');
      const interrupted = recoverRuns(store, [crashedRun, 'gone-0000'], describeCrash({ code: 134, signal: null }, [crashedRun], true).reason);
      expect(interrupted).toEqual([crashedRun]);
      expect(store.get(crashedRun)).toMatchObject({ status: 'interrupted', error: expect.stringContaining('exit code 134') });
      expect(store.get(finished.id).status).toBe('cancelled');
      expect(store.get(queued.id).status).toBe('queued');
    } finally {
      store.close();
    }
  });
});

describe('the real engine process (development mode: a child of the system Node)', () => {
  it('SIGKILLed mid-run: the window side survives, the run is interrupted, the engine restarts, the run resumes', async () => {
    const dir = tempStore();
    const events: EngineEvent[] = [];
    const children: EngineChild<MessagePort>[] = [];
    const supervisor = new EngineSupervisor<MessagePort>({
      start: () => {
        const child = nodeEngine<MessagePort>({
          spawn,
          node: process.execPath,
          execArgv: ['--import', 'tsx'],
          entry: join(root, 'main/desktop/engineProcess.ts'),
          args: ['--backend', 'cpu'],
          cwd: root,
          env: { ...process.env, PURIFICATION_LAB_STORE: dir },
          toEndpoint: (port) => nodePortEndpoint(port),
          echo: () => {},
        });
        children.push(child);
        return child;
      },
      onEvent: (e) => events.push(e),
      restartDelayMs: 50,
    });

    /** What the window does: ask for a channel, talk over its end. */
    const rendererConnection = () => {
      const channel = new MessageChannel();
      supervisor.connect(channel.port1);
      return { client: connectPort(nodePortEndpoint(channel.port2)), close: () => channel.port2.close() };
    };

    supervisor.start();
    await until(() => supervisor.state === 'ready', 60_000, 'the engine to start');
    const ready = events.find((e) => e.type === 'ready') as EngineEvent & { type: 'ready' };
    expect(ready.store).toBe(dir); // the store the CLI would use with this environment

    const window1 = rendererConnection();
    const stream: JobStreamMessage[] = [];
    window1.client.subscribe((m) => stream.push(m));
    const started = await window1.client.request<{ id: string }>('runs.start', {
      preset: 'quick',
      input: { task: { d: 16, trainSize: 400 }, model: { width: 16 }, train: { protocol: 'clean', cleanEpochs: 2000 }, eval: { testSize: 100, every: 0 }, instruments: { every: 50 } },
    });
    expect(started.ok).toBe(true);
    const id = (started as { ok: true; result: { id: string } }).result.id;
    await until(() => stream.some((m) => m.type === 'events' && m.runId === id && m.events.some((e) => e.type === 'metrics')), 60_000, 'the run to train');
    expect(supervisor.activeRuns).toEqual([id]);

    // The engine dies without warning.
    process.kill(children[0]!.pid!, 'SIGKILL');
    await until(() => events.some((e) => e.type === 'crashed'), 10_000, 'the crash');
    expect(events.find((e) => e.type === 'crashed')).toMatchObject({ runs: [id], willRestart: true, message: 'The compute engine stopped unexpectedly (signal SIGKILL).' });
    await until(() => events.filter((e) => e.type === 'ready').length === 2, 60_000, 'the restart');
    expect(events.filter((e) => e.type === 'ready')[1]).toMatchObject({ restarted: true, interrupted: [id] });
    window1.close();

    // The window's next connection reaches the new engine: the run is interrupted, and resumes.
    const window2 = rendererConnection();
    const detail = await window2.client.request<{ status: string; error: string | null }>('runs.get', { id });
    expect(detail).toMatchObject({ ok: true, result: { status: 'interrupted', error: expect.stringContaining('signal SIGKILL') } });
    expect(await window2.client.request('runs.resume', { id })).toEqual({ ok: true, result: { id } });
    await until(() => supervisor.activeRuns.includes(id), 60_000, 'the resumed run to start');
    expect(await window2.client.request('runs.cancel', { id })).toEqual({ ok: true, result: { cancelled: true } });

    await supervisor.stop(30_000);
    expect(supervisor.state).toBe('stopped');
    window2.close();
    const store = RunStore.open(dir);
    try {
      expect(['cancelled', 'interrupted']).toContain(store.get(id).status);
    } finally {
      store.close();
    }
  }, 240_000);
});
