/**
 * The job host: runs compute in worker threads and the parent writes the store. A run there
 * gives exactly the numbers of the same run in-process; a run stuck in a computation is
 * cancelled all the same (its worker terminated after the grace period, the run marked
 * cancelled with the reason), and the next queued run then runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import { JobHost } from '../../main/lab/jobHost/jobHost.ts';
import { stuckJobSeedVariable, workerExitSeedVariable } from '../../main/lab/jobHost/messages.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200, every: 2 },
};

/** The seeds the test hooks make spin, and end their worker (workers copy the environment when they start). */
const stuckSeed = 7;
const exitSeed = 8;

beforeAll(() => {
  process.env[stuckJobSeedVariable] = String(stuckSeed);
  process.env[workerExitSeedVariable] = String(exitSeed);
});
afterAll(() => {
  delete process.env[stuckJobSeedVariable];
  delete process.env[workerExitSeedVariable];
});

/** Poll until `check` holds (no sleeps of a fixed length: the machine may be loaded). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('runs in a worker', () => {
  it('give exactly the numbers of the same run in-process', async () => {
    const config = resolveExperiment(tiny);
    const inProcess = await runInProcess(config, { backend: 'wasm' });
    const store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-jobhost-')));
    const queue = new JobQueue(store, { backend: 'wasm' });
    const run = queue.submit({ input: tiny, config });
    await queue.idle();
    expect(store.get(run.id).status).toBe('finished');
    // Everything but the clock, as the store keeps it (JSON: a NaN loss at init reads back as null).
    const numbers = (result: RunResult) => JSON.parse(JSON.stringify({ ...result, backend: null, timing: null, metrics: result.metrics.map((m) => ({ ...m, elapsedSeconds: 0 })) }));
    expect(numbers(store.result(run.id))).toEqual(numbers(inProcess));
    await queue.shutdown();
    store.close();
  });

  it('the host reports its backend and measures throughput off this thread', async () => {
    const host = new JobHost({ backend: 'wasm' });
    expect((await host.backendInfo()).name).toBe('wasm');
    const throughput = await host.start({ kind: 'throughput', steps: 5 }).result;
    expect(throughput.trainPerSecond).toBeGreaterThan(0);
    expect(throughput.evalPerSecond).toBeGreaterThan(0);
    await host.close();
  });
});

describe('a parent that cannot record what a task sends', () => {
  it('fails that task with its error (as in-process) instead of throwing in the host process', async () => {
    const host = new JobHost({ backend: 'wasm' });
    const task = host.start(
      { kind: 'experiment', config: resolveExperiment(tiny), checkpointEvery: 0 },
      {
        onEvent: (event) => {
          if (event.type === 'metrics' && event.globalEpoch === 1) throw new Error('database or disk is full');
        },
      },
    );
    await expect(task.result).rejects.toThrow(/^database or disk is full$/);
    // The host goes on with a fresh worker.
    expect((await host.start({ kind: 'throughput', steps: 2 }).result).trainPerSecond).toBeGreaterThan(0);
    await host.close();
  });
});

describe('a run stuck in a computation', () => {
  it('is cancelled all the same: its worker is stopped after the grace, the reason recorded, and the next run runs', async () => {
    const store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-jobhost-')));
    const queue = new JobQueue(store, { backend: 'wasm' });
    const stuck = queue.submit({ input: { ...tiny, seed: stuckSeed }, config: resolveExperiment({ ...tiny, seed: stuckSeed }) });
    const next = queue.submit({ input: tiny, config: resolveExperiment(tiny) });
    // Stuck: it reported its second epoch and then nothing; this thread is free all along.
    await until(() => store.events(stuck.id).some((e) => e.type === 'metrics' && e.globalEpoch === 2));
    expect(store.get(stuck.id).status).toBe('running');
    expect(store.get(next.id).status).toBe('queued');

    expect(queue.cancel(stuck.id)).toBe(true);
    await until(() => store.get(stuck.id).status !== 'running');
    const cancelled = store.get(stuck.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toBe(
      'The run did not stop within 10 s of the cancel (stuck in a computation), so its worker was stopped; resume continues from its last checkpoint',
    );

    await queue.idle();
    expect(store.get(next.id).status).toBe('finished');
    await queue.shutdown();
    store.close();
  });
});

describe('a run whose worker dies', () => {
  it('alone is marked interrupted, with the reason; resume finishes it exactly; the next run runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-jobhost-'));
    const store = RunStore.open(dir);
    const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 1 });
    const config = resolveExperiment({ ...tiny, seed: exitSeed });
    const dying = queue.submit({ input: { ...tiny, seed: exitSeed }, config });
    const next = queue.submit({ input: tiny, config: resolveExperiment(tiny) });
    await queue.idle();
    expect(store.get(dying.id)).toMatchObject({
      status: 'interrupted',
      error: 'The run lost its worker, which stopped unexpectedly (exit code 1); resume continues from its last checkpoint',
      checkpointEpoch: 1,
    });
    expect(store.get(next.id).status).toBe('finished');
    // Resumed where the hook no longer applies (a fresh queue's workers without it), it ends as the run would have.
    delete process.env[workerExitSeedVariable];
    try {
      const resumeQueue = new JobQueue(store, { backend: 'wasm' });
      resumeQueue.resume(dying.id);
      await resumeQueue.idle();
      await resumeQueue.shutdown();
    } finally {
      process.env[workerExitSeedVariable] = String(exitSeed);
    }
    const reference = await runInProcess(config, { backend: 'wasm' });
    expect(store.get(dying.id).status).toBe('finished');
    expect(store.get(dying.id).summary).toEqual(JSON.parse(JSON.stringify(reference.summary)));
    await queue.shutdown();
    store.close();
  });
});
