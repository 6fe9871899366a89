/**
 * The run store and job control: runs recorded as they go, names and notes, liveness, resume,
 * migrations, and clear errors for a store that cannot be used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { Evaluation, WarningEvent } from '../../shared/events.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { resolveStoreDir } from '../../main/lab/store/location.ts';
import { busyTimeoutMs, databaseFileName, RunStore } from '../../main/lab/store/runStore.ts';
import { decodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { decodeWeights } from '../../main/lab/weightsFile.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200, every: 2 },
};

const root = new URL('../../', import.meta.url).pathname;
const tempStore = () => mkdtempSync(join(tmpdir(), 'lab-store-'));

describe('store location', () => {
  it('--store, then the environment variable, then the platform convention', () => {
    expect(resolveStoreDir({ flag: '/a/b', env: { PURIFICATION_LAB_STORE: '/c' } })).toBe('/a/b');
    expect(resolveStoreDir({ env: { PURIFICATION_LAB_STORE: '/c' } })).toBe('/c');
    expect(resolveStoreDir({ env: { XDG_DATA_HOME: '/x' }, platform: 'linux', home: '/h' })).toBe('/x/purification-lab');
    expect(resolveStoreDir({ env: {}, platform: 'linux', home: '/h' })).toBe('/h/.local/share/purification-lab');
    expect(resolveStoreDir({ env: {}, platform: 'darwin', home: '/h' })).toBe('/h/Library/Application Support/Purification Lab');
    expect(resolveStoreDir({ env: { APPDATA: 'C:\\U\\AppData\\Roaming' }, platform: 'win32', home: '/h' })).toContain('Purification Lab');
  });
});

describe('a run through the job queue', () => {
  it('is recorded as it goes: events, metrics (long form), checkpoints, weights, summary, provenance', async () => {
    const store = RunStore.open(tempStore());
    const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 2 });
    const statuses: string[] = [];
    queue.subscribe((u) => u.kind === 'status' && statuses.push(u.status));
    const finals: Evaluation[] = [];
    queue.subscribe((u) => u.kind === 'event' && u.event.type === 'evaluation' && u.event.evaluation.label === 'final' && finals.push(u.event.evaluation));
    const config = resolveExperiment(tiny);
    const run = queue.submit({ input: tiny, config, preset: 'quick', name: 'tiny', notes: 'first' });
    expect(store.get(run.id).status).toBe('queued');
    await queue.idle();
    const done = store.get(run.id);
    expect(statuses).toEqual(['queued', 'running', 'finished']);
    expect(done.status).toBe('finished');
    expect(done.configHash).toBe(configHash(config));
    expect(done.codeVersion).toBe(codeVersion());
    // The stored summary holds the run's own numbers: those of its final evaluation as it streamed.
    expect(finals).toHaveLength(1);
    expect(done.summary?.final.robustAccuracy).toBe(finals[0]!.robustAccuracy.estimate);
    expect(done.summary?.final.cleanAccuracy).toBe(finals[0]!.cleanAccuracy.estimate);
    expect(done.summary?.final.worstCaseRobustAccuracy).toBe(finals[0]!.worstCase.accuracy[finals[0]!.worstCase.eps.indexOf(config.eval.eps)]!.estimate);
    expect(done.provenance).toMatchObject({ backend: { name: 'wasm' }, dependencies: { '@tensorflow/tfjs-core': expect.any(String) }, machine: { cores: expect.any(Number) } });
    const rows = store.metricRows([run.id]);
    expect(rows.filter((r) => r.metric === 'clean_accuracy').map((r) => r.global_epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(store.events(run.id).filter((e) => e.type === 'evaluation')).toHaveLength(2);
    const weights = decodeWeights(readFileSync(join(done.folder, 'weights-final.safetensors')), 'w');
    expect(weights.card).toMatchObject({ width: 16, inputDim: 24, thresholdMode: 'relative', thresholdRatio: 0.5, configHash: done.configHash });
    expect(existsSync(join(done.folder, 'checkpoint.safetensors'))).toBe(true);
    expect(store.result(run.id).summary).toEqual(done.summary);
    expect(store.findFinished(done.configHash, done.codeVersion)?.id).toBe(run.id);
    store.rename(run.id, 'renamed');
    store.setNotes(run.id, 'a note');
    expect(store.get(run.id)).toMatchObject({ name: 'renamed', notes: 'a note' });
    expect(store.get(run.id.slice(0, 12)).id).toBe(run.id); // prefixes work
    store.close();
  }, 120_000);

  it('an image run stores its model as named safetensors with an image model card', async () => {
    const store = RunStore.open(tempStore());
    const queue = new JobQueue(store, { backend: 'wasm' });
    const input: ExperimentInput = {
      task: { kind: 'mnist', trainSize: 200, classes: [3, 8] },
      model: { kind: 'mlp', width: 8 },
      train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, attack: { norm: 'linf', eps: 0.1, steps: 2 } },
      eval: { testSize: 100, every: 0, epsGrid: [0, 0.1], noiseDraws: 1 },
    };
    const run = queue.submit({ input, config: resolveExperiment(input) });
    await queue.idle();
    const done = store.get(run.id);
    expect(done.status).toBe('finished');
    for (const label of ['init', 'after-clean', 'final']) {
      const { tensors, metadata } = decodeSafetensors(readFileSync(join(done.folder, `weights-${label}.safetensors`)), label);
      expect(Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.shape]))).toEqual({
        'fc1.weight': [8, 784],
        'fc1.bias': [8],
        'fc2.weight': [2, 8],
        'fc2.bias': [2],
      });
      expect(JSON.parse(metadata.model_card!)).toMatchObject({ format: 'purification-lab/image-model', architecture: 'mlp', task: 'mnist', classes: ['3', '8'], checkpoint: label });
    }
    // The stored events carry the pictures for the UI.
    expect(store.events(run.id).filter((e) => e.type === 'instruments' && e.neuronImages).length).toBeGreaterThanOrEqual(3);
    store.close();
  }, 120_000);

  it('cancel stops at the next epoch with a checkpoint, and resume ends exactly as an uninterrupted run', async () => {
    const dir = tempStore();
    const store = RunStore.open(dir);
    const input = { ...tiny, train: { cleanEpochs: 4, adversarialEpochs: 3 } };
    const config = resolveExperiment(input);
    const reference = new JobQueue(store, { backend: 'wasm' });
    const whole = reference.submit({ input, config });
    await reference.idle();

    const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 100 });
    const run = queue.submit({ input, config });
    queue.subscribe((u) => {
      if (u.kind === 'event' && u.event.type === 'metrics' && u.event.globalEpoch === 2) queue.cancel(run.id);
    });
    await queue.idle();
    const cancelled = store.get(run.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.checkpointEpoch).toBe(2);
    queue.resume(run.id);
    await queue.idle();
    const resumed = store.get(run.id);
    expect(resumed.status).toBe('finished');
    expect(resumed.summary).toEqual(store.get(whole.id).summary);
    // The stored stream has each epoch once, as if nothing had happened.
    expect(store.metricRows([run.id]).filter((r) => r.metric === 'loss').map((r) => r.global_epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    store.close();
  }, 120_000);
});

describe('liveness', () => {
  it('a run left running by a dead process is marked interrupted; one owned by a live process is not', () => {
    const dir = tempStore();
    const store = RunStore.open(dir);
    const config = resolveExperiment(tiny);
    const mk = () => store.createRun({ input: tiny, config, configHash: configHash(config), codeVersion: 'test' });
    const dead = mk();
    const alive = mk();
    const backend = { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: false } as const;
    store.markRunning(dead.id, backend, {});
    store.markRunning(alive.id, backend, {});
    // A pid that does not exist, and our parent's pid (alive) as the owner of the other.
    store.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(2 ** 22 + 12345, dead.id);
    store.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(process.ppid, alive.id);
    store.close();
    const reopened = RunStore.open(dir);
    expect(reopened.get(dead.id).status).toBe('interrupted');
    expect(reopened.get(alive.id).status).toBe('running');
    // A live pid with a stale heartbeat (pid reuse after a crash long ago) is not trusted.
    reopened.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - 10 * 60_000, alive.id);
    reopened.markInterrupted();
    expect(reopened.get(alive.id).status).toBe('interrupted');
    reopened.close();
  });

  it('a heartbeat while another process holds the write lock is skipped, not thrown; the next one is saved', () => {
    const dir = tempStore();
    const store = RunStore.open(dir);
    const config = resolveExperiment(tiny);
    const run = store.createRun({ input: tiny, config, configHash: configHash(config), codeVersion: 'test' });
    store.markRunning(run.id, { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: false }, {});
    // Another connection (as another process would) takes the write lock and keeps it.
    const other = new Database(join(dir, databaseFileName));
    other.prepare('BEGIN IMMEDIATE').run();
    const progress = { done: 3, total: 10, phase: 'clean' as const, epoch: 1, epochs: 5 };
    // Before the fix this threw SQLITE_BUSY ("database is locked") out of the job queue's timer.
    expect(() => store.heartbeat(run.id, progress)).not.toThrow();
    expect(store.get(run.id).progress ?? null).toBeNull();
    other.prepare('COMMIT').run();
    other.close();
    store.heartbeat(run.id, progress);
    expect(store.get(run.id).progress).toEqual(progress);
    // The store's own busy timeout is back for every other write.
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(busyTimeoutMs);
    store.close();
  });
});

describe('a write while another process holds the write lock', () => {
  it('waits the lock out (here 6 s, past the 5 s writes once waited) and records the event; a lock never released fails the write saying what was not saved', async () => {
    const dir = tempStore();
    const store = RunStore.open(dir);
    const config = resolveExperiment(tiny);
    const run = store.createRun({ input: tiny, config, configHash: configHash(config), codeVersion: 'test' });
    // Another thread with its own connection (as another process would) takes the write lock and
    // keeps it for 6 s; the store's write, synchronous, waits for it meanwhile.
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.sqlite);
       const db = new Database(workerData.file);
       db.prepare('BEGIN IMMEDIATE').run();
       parentPort.postMessage('held');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
       db.prepare('COMMIT').run();
       db.close();
       parentPort.postMessage('released');`,
      { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), file: join(dir, databaseFileName), holdMs: 6000 } },
    );
    const messages: string[] = [];
    const released = new Promise<void>((resolve) => holder.on('message', (m: string) => (messages.push(m), m === 'released' && resolve())));
    await new Promise<void>((resolve) => holder.once('message', () => resolve()));
    expect(messages).toEqual(['held']);
    expect(busyTimeoutMs).toBeGreaterThan(6000);
    const event: WarningEvent = { type: 'warning', code: 'backend', message: 'written while another held the lock', globalEpoch: 0 };
    store.appendEvent(run.id, event);
    expect(store.events(run.id)).toContainEqual(event);
    await released;
    await holder.terminate();

    // A lock held past the wait (this connection's wait cut to 50 ms for the test): a StoreError naming what was not saved.
    const other = new Database(join(dir, databaseFileName));
    other.prepare('BEGIN IMMEDIATE').run();
    store.db.pragma('busy_timeout = 50');
    expect(() => store.rename(run.id, 'renamed')).toThrow(/Another process held the write lock of the run store .+ for 0\.05 s: the name of run .+ could not be saved/);
    other.prepare('ROLLBACK').run();
    other.close();
    store.close();
  }, 60_000);
});

/** A child process that queues a run in `dir` and waits; resolves once the run is queued. */
async function queueInChild(dir: string): Promise<{ child: ChildProcess; id: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/storeQueuer.ts', dir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const id = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the queuing process exited (${code}) before queuing`)));
  });
  return { child, id };
}

describe('queued runs', () => {
  it('a run queued by a process that was SIGKILLed becomes interrupted (resumable); one queued by a live process stays queued', async () => {
    const dir = tempStore();
    RunStore.open(dir).close();
    const killed = await queueInChild(dir);
    const alive = await queueInChild(dir);
    try {
      killed.child.kill('SIGKILL');
      await new Promise((r) => killed.child.once('exit', r));
      const store = RunStore.open(dir);
      expect(store.get(killed.id)).toMatchObject({ status: 'interrupted', error: 'the process that queued it stopped before the run started' });
      expect(store.get(alive.id)).toMatchObject({ status: 'queued', error: null });
      // Both the index and the run's own record say so.
      expect(JSON.parse(readFileSync(join(store.folderOf(killed.id), 'run.json'), 'utf8'))).toMatchObject({ status: 'interrupted', owner: null });
      expect(JSON.parse(readFileSync(join(store.folderOf(alive.id), 'run.json'), 'utf8'))).toMatchObject({ status: 'queued', owner: { pid: alive.child.pid } });
      // Interrupted means resumable: the queue takes it again.
      const queue = new JobQueue(store, { backend: 'wasm' });
      expect(() => queue.resume(killed.id)).not.toThrow();
      await queue.shutdown();
      store.close();
    } finally {
      alive.child.stdin!.end();
      await new Promise((r) => (alive.child.exitCode === null ? alive.child.once('exit', r) : r(null)));
    }
  }, 120_000);
});

describe('bad stores get clear errors and nothing is touched', () => {
  it('a store folder without write permission', () => {
    // Root may write anywhere a mode allows, but nobody creates a folder inside a regular file.
    const file = join(tempStore(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => RunStore.open(join(file, 'store'))).toThrow(/The run store folder .*a-file\/store is not writable \(ENOTDIR\)/);
    if (process.getuid?.() !== 0) {
      const dir = tempStore();
      chmodSync(dir, 0o500);
      expect(() => RunStore.open(dir)).toThrow(/not writable/);
    }
  });

  it('a database from a newer schema is refused, not rewritten', () => {
    const dir = tempStore();
    RunStore.open(dir).close();
    const db = new Database(join(dir, 'runs.sqlite'));
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(join(dir, 'runs.sqlite'));
    expect(() => RunStore.open(dir)).toThrow(/schema version 99, newer than this version/);
    expect(readFileSync(join(dir, 'runs.sqlite')).equals(before)).toBe(true);
  });

  it('a corrupt checkpoint names the file', async () => {
    const store = RunStore.open(tempStore());
    const config = resolveExperiment(tiny);
    const run = store.createRun({ input: tiny, config, configHash: configHash(config), codeVersion: 'test' });
    writeFileSync(join(run.folder, 'checkpoint.safetensors'), Buffer.from('garbage that is not safetensors'));
    expect(() => store.readCheckpoint(run.id)).toThrow(/checkpoint\.safetensors/);
    store.close();
  });

  it('an unknown id says so', () => {
    const store = RunStore.open(tempStore());
    expect(() => store.get('nope')).toThrow(/No run "nope"/);
    store.close();
  });
});
