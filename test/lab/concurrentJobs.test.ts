/**
 * Many runs at once, each in a worker of its own: everything that holds for one run holds for N.
 * Four runs at once write the store while a second handle on it (what `lab runs` or another
 * window is) reads it in a loop, and each gives exactly the numbers it gives alone; cancel stops
 * one and leaves the other; a worker that dies marks only its run interrupted, and resume
 * finishes it exactly; the number at once can change while runs run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import { maxJobs } from '../../shared/jobSettings.ts';
import type { RunResult } from '../../shared/result.ts';
import { workerExitSeedVariable } from '../../main/lab/jobHost/messages.ts';
import { JobQueue, type JobUpdate } from '../../main/lab/jobs.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { RunStore, type RunStatus } from '../../main/lab/store/runStore.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200, every: 2 },
};
const seeded = (seed: number, epochs?: number): ExperimentInput => ({ ...tiny, seed, ...(epochs ? { train: { cleanEpochs: epochs, adversarialEpochs: 2 } } : {}) });

/** The seed whose worker ends itself at its second epoch (the test hook of jobWorker.ts). */
const exitSeed = 8;

beforeAll(() => {
  process.env[workerExitSeedVariable] = String(exitSeed);
});
afterAll(() => {
  delete process.env[workerExitSeedVariable];
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Everything but the clock, as the store keeps it (JSON: a NaN loss at init reads back as null). */
const numbers = (result: RunResult) => JSON.parse(JSON.stringify({ ...result, backend: null, timing: null, metrics: result.metrics.map((m) => ({ ...m, elapsedSeconds: 0 })) }));

/** Each run's statuses in order, and the most runs running at one moment. */
function watch(queue: JobQueue) {
  const statuses = new Map<string, RunStatus[]>();
  const running = new Set<string>();
  let peak = 0;
  const order: string[] = [];
  queue.subscribe((u: JobUpdate) => {
    if (u.kind !== 'status') return;
    statuses.set(u.runId, [...(statuses.get(u.runId) ?? []), u.status]);
    order.push(`${u.runId} ${u.status}`);
    if (u.status === 'running') running.add(u.runId);
    else running.delete(u.runId);
    peak = Math.max(peak, running.size);
  });
  return { statuses, order, running, get peak() { return peak; } };
}

const newStore = () => RunStore.open(mkdtempSync(join(tmpdir(), 'lab-jobs-')));

describe('four runs at once, for real', () => {
  it('all run at once, the store stays whole while another handle reads it, and each gives the numbers it gives alone', async () => {
    const store = newStore();
    const reader = RunStore.open(store.dir);
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 4, checkpointEvery: 1 });
    const seen = watch(queue);
    const runs = [0, 1, 2, 3].map((seed) => queue.submit({ input: seeded(seed), config: resolveExperiment(seeded(seed)) }));
    // The UI's side: list and read every run's events in a loop while the four write.
    let reads = 0;
    let finished = false;
    const reading = (async () => {
      while (!finished) {
        for (const row of reader.list({})) {
          reader.events(row.id);
          reads += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await queue.idle();
    finished = true;
    await reading;
    expect(seen.peak).toBe(4);
    expect(reads).toBeGreaterThan(0);
    for (const run of runs) expect(seen.statuses.get(run.id)).toEqual(['queued', 'running', 'finished']);

    // The same four alone, in-process: the numbers are the same to the last bit.
    for (const [seed, run] of runs.entries()) {
      const alone = await runInProcess(resolveExperiment(seeded(seed)), { backend: 'wasm' });
      expect(numbers(store.result(run.id)), `seed ${seed}`).toEqual(numbers(alone));
      // The other handle reads the same finished run, events and all.
      expect(reader.get(run.id).status).toBe('finished');
      expect(reader.events(run.id)).toEqual(store.events(run.id));
    }
    await queue.shutdown();
    reader.close();
    store.close();
  });
});

describe('cancel with two running', () => {
  it('stops the one cancelled (cancelled, checkpointed) and the other finishes with its own numbers', async () => {
    const store = newStore();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 2, checkpointEvery: 1 });
    const seen = watch(queue);
    const long = queue.submit({ input: seeded(1, 12), config: resolveExperiment(seeded(1, 12)) });
    const cancelled = queue.submit({ input: seeded(2), config: resolveExperiment(seeded(2)) });
    await until(() => store.events(cancelled.id).some((e) => e.type === 'metrics' && e.globalEpoch === 1));
    expect(queue.cancel(cancelled.id)).toBe(true);
    await queue.idle();
    expect(seen.peak).toBe(2);
    expect(store.get(cancelled.id)).toMatchObject({ status: 'cancelled', error: null });
    expect(store.get(cancelled.id).checkpointEpoch).toBeGreaterThanOrEqual(1);
    expect(store.get(long.id).status).toBe('finished');
    expect(numbers(store.result(long.id))).toEqual(numbers(await runInProcess(resolveExperiment(seeded(1, 12)), { backend: 'wasm' })));
    await queue.shutdown();
    store.close();
  });
});

describe('a worker that dies with two running', () => {
  it('marks only its run interrupted; the other finishes; resume finishes the interrupted one exactly', async () => {
    const store = newStore();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 2, checkpointEvery: 1 });
    const seen = watch(queue);
    const other = queue.submit({ input: seeded(3, 6), config: resolveExperiment(seeded(3, 6)) });
    const dying = queue.submit({ input: seeded(exitSeed), config: resolveExperiment(seeded(exitSeed)) });
    await queue.idle();
    // Both were running before either ended.
    expect(seen.order.slice(0, 4).filter((s) => s.endsWith(' running'))).toHaveLength(2);
    expect(store.get(dying.id)).toMatchObject({
      status: 'interrupted',
      error: 'The run lost its worker, which stopped unexpectedly (exit code 1); resume continues from its last checkpoint',
      checkpointEpoch: 1,
    });
    expect(store.get(other.id).status).toBe('finished');
    expect(numbers(store.result(other.id))).toEqual(numbers(await runInProcess(resolveExperiment(seeded(3, 6)), { backend: 'wasm' })));

    delete process.env[workerExitSeedVariable];
    try {
      const resumeQueue = new JobQueue(store, { backend: 'wasm', concurrency: 2 });
      resumeQueue.resume(dying.id);
      await resumeQueue.idle();
      await resumeQueue.shutdown();
    } finally {
      process.env[workerExitSeedVariable] = String(exitSeed);
    }
    expect(store.get(dying.id).status).toBe('finished');
    const reference = await runInProcess(resolveExperiment(seeded(exitSeed)), { backend: 'wasm' });
    expect(store.get(dying.id).summary).toEqual(JSON.parse(JSON.stringify(reference.summary)));
    await queue.shutdown();
    store.close();
  });
});

describe('changing the runs at once', () => {
  it('more: queued runs start at once; fewer: the running ones finish and the next waits for them', async () => {
    const store = newStore();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 1 });
    const seen = watch(queue);
    const runs = [0, 1, 2].map((seed) => queue.submit({ input: seeded(seed), config: resolveExperiment(seeded(seed)) }));
    await until(() => seen.running.size === 1);
    expect(queue.concurrency).toBe(1);
    queue.setConcurrency(3);
    expect(queue.concurrency).toBe(3);
    await until(() => seen.peak === 3 || seen.statuses.get(runs[0]!.id)!.length === 3);
    expect(seen.peak).toBe(3);
    await queue.idle();

    const later = [4, 5, 6, 7].map((seed) => queue.submit({ input: seeded(seed), config: resolveExperiment(seeded(seed)) }));
    await until(() => seen.running.size === 3);
    queue.setConcurrency(1);
    await queue.idle();
    for (const run of later) expect(seen.statuses.get(run.id)).toEqual(['queued', 'running', 'finished']);
    // The fourth started only after all three running when the count fell had ended.
    const at = (id: string, status: RunStatus) => seen.order.indexOf(`${id} ${status}`);
    for (const run of later.slice(0, 3)) expect(at(run.id, 'finished')).toBeLessThan(at(later[3]!.id, 'running'));
    await queue.shutdown();
    store.close();
  });

  it('refuses a count that is not an integer from 1 to the bound', () => {
    const store = newStore();
    const queue = new JobQueue(store, { backend: 'wasm' });
    for (const bad of [0, -1, 1.5, maxJobs + 1, Number.NaN]) expect(() => queue.setConcurrency(bad)).toThrow(`jobs at once: expected an integer from 1 to ${maxJobs}, got ${bad}`);
    expect(queue.concurrency).toBe(1);
    expect(() => new JobQueue(store, { concurrency: 0 })).toThrow(RangeError);
    store.close();
  });
});
