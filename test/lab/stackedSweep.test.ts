/**
 * Stacked sweeps (issue 14, item 3): same-shaped sweep members compute as one stack per job
 * slot, side by side in one worker, each still an ordinary run, their training steps and training
 * attacks batched into one kernel call per step (main/engine/training/stackedProgram.ts). Which
 * members stack (the shape key, one stack per slot, the escape hatch); a stack in one slot gives
 * every member exactly the numbers it gives alone on the stack's kernels (the threaded trainer on
 * one thread), and the lone default run's accuracies within 2 test samples; it records its stack
 * and hot path in the provenance, and a member that fails or is cancelled leaves the others
 * running; a cancelled member resumed alone ends with the numbers of a run that never stopped.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { memoryEstimate } from '../../shared/memoryEstimate.ts';
import { presetByName } from '../../shared/presets.ts';
import type { RunResult } from '../../shared/result.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { loadFusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { createThreadedTrainer } from '../../main/engine/training/threadedTrainer.ts';
import { JobQueue, type JobUpdate } from '../../main/lab/jobs.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { maxStackBytes, onStackedKernels, stackedBefore, stackedHotPath, stackGpuBufferBytes, stackKernelBytes, stackMemoryBytes, stackShape, stacksOnKernels, sweepStacks } from '../../main/lab/stacks.ts';
import { expandSweep, startSweep } from '../../main/lab/sweep.ts';
import { RunStore, type RunStatus } from '../../main/lab/store/runStore.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200, every: 2 },
};

/** Everything but the clock (as concurrentJobs.test.ts compares runs). */
const numbers = (result: RunResult) => JSON.parse(JSON.stringify({ ...result, backend: null, timing: null, metrics: result.metrics.map((m) => ({ ...m, elapsedSeconds: 0, tensors: null })) }));

/** A run alone on the stack's kernels: the threaded trainer on one thread, whose floats a stacked member computes. */
async function aloneOnStackKernels(config: ReturnType<typeof resolveExperiment>): Promise<RunResult> {
  const { info, hooks } = await prepareBackend({ backend: 'wasm' });
  const kernels = (await loadFusedKernels())!;
  const pool = kernelThreadPool(1);
  return runExperiment(config, info, { ...hooks, makeTrainer: (net, c) => createThreadedTrainer(pool, kernels, net, c) ?? hooks.makeTrainer!(net, c) });
}

/** Every accuracy of a result's evaluations, as a count of test samples. */
const accuracies = (result: RunResult) =>
  result.evaluations.flatMap((e) => [e.cleanAccuracy, e.robustAccuracy, ...e.curves.flatMap((c) => c.accuracy)].map((a) => Math.round(a.estimate * a.n)));

const newStore = () => RunStore.open(mkdtempSync(join(tmpdir(), 'lab-stacked-')));

/** Each run's statuses in order, and the most runs running at one moment. */
function watch(queue: JobQueue) {
  const statuses = new Map<string, RunStatus[]>();
  const running = new Set<string>();
  let peak = 0;
  queue.subscribe((u: JobUpdate) => {
    if (u.kind !== 'status') return;
    statuses.set(u.runId, [...(statuses.get(u.runId) ?? []), u.status]);
    if (u.status === 'running') running.add(u.runId);
    else running.delete(u.runId);
    peak = Math.max(peak, running.size);
  });
  return { statuses, get peak() { return peak; } };
}

describe('which members stack', () => {
  const quick = (changes: ExperimentInput = {}) => resolveExperiment(mergeConfig(presetByName('quick').config, changes));

  it('members differing only in per-member scalars share a shape; sizes, schedules and kinds do not', () => {
    const base = stackShape(quick());
    expect(base).not.toBeNull();
    expect(stackShape(quick({ seed: 7 }))).toBe(base);
    expect(stackShape(quick({ train: { attack: { eps: 0.1 }, optimizer: { lr: 0.1 } }, model: { kind: 'two-layer', initScale: 2, threshold: { ratio: 0.2 } }, task: { kind: 'sparse-coding', noise: 0.2 } }))).toBe(base);
    expect(stackShape(quick({ model: { kind: 'two-layer', width: 32 } }))).not.toBe(base);
    expect(stackShape(quick({ train: { batchSize: 50 } }))).not.toBe(base);
    expect(stackShape(quick({ train: { adversarialEpochs: 3 } }))).not.toBe(base);
    expect(stackShape(quick({ train: { optimizer: { kind: 'adam' } } }))).not.toBe(base);
    expect(stackShape(resolveExperiment(presetByName('mnist-mlp').config))).toBeNull();
  });

  it('a member trains on the stack kernels on wasm fused kernels with relative or fixed thresholds, else alone; a resumed run finds its stack in its provenance', () => {
    const wasm = { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: true } as const;
    expect(stacksOnKernels(wasm, quick())).toBe(true);
    expect(stacksOnKernels(wasm, quick({ model: { kind: 'two-layer', threshold: { mode: 'fixed', value: 0.1 } } }))).toBe(true);
    expect(stacksOnKernels(wasm, quick({ model: { kind: 'two-layer', threshold: { mode: 'learned' } } }))).toBe(false);
    expect(stacksOnKernels({ ...wasm, fusedKernels: false }, quick())).toBe(false);
    expect(stacksOnKernels({ ...wasm, name: 'cpu' }, quick())).toBe(false);
    expect(stackedHotPath(wasm, quick(), 16)).toBe('stacked kernels, 16 members');
    expect(stackedHotPath({ ...wasm, name: 'cpu' }, quick(), 16)).toBe('each member alone');
    // members whose weights, moments and batches would not fit the kernel threads' memory together
    const wide = quick({ task: { kind: 'sparse-coding', d: 2048 }, model: { kind: 'two-layer', width: 2048 } });
    expect(stackMemoryBytes(wide, 16)).toBeGreaterThan(stackKernelBytes);
    expect(stackMemoryBytes(wide, 1)).toBeLessThan(stackKernelBytes);
    expect(stackedHotPath(wasm, wide, 16)).toBe('each member alone');
    expect(stackedHotPath(wasm, wide, 1)).toBe('stacked kernels, 1 member');
    const recorded = { size: 2, runIds: ['a', 'b'], hotPath: 'stacked kernels, 2 members' };
    expect(stackedBefore({ stacked: recorded, code: 'x' })).toEqual(recorded);
    expect(stackedBefore({ stacked: { size: 2, runIds: ['a', 'b'] } })).toBeNull();
    expect(stackedBefore(null)).toBeNull();
  });

  it("on webgpu's fused kernels a member trains on the stacked WGSL kernels, where the stack's largest buffer fits the adapter's buffers and storage bindings", () => {
    const webgpu = { name: 'webgpu', device: 'gpu', label: 'webgpu', skipped: [], forced: true, details: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 }, fusedKernels: true } as const;
    expect(stacksOnKernels(webgpu, quick())).toBe(true);
    expect(stacksOnKernels(webgpu, quick({ model: { kind: 'two-layer', threshold: { mode: 'learned' } } }))).toBe(false);
    expect(stackedHotPath(webgpu, quick(), 16)).toBe('stacked WGSL kernels, 16 members');
    expect(stackedHotPath({ ...webgpu, fusedKernels: false }, quick(), 16)).toBe('each member alone');
    expect(stackedHotPath({ ...webgpu, details: {} }, quick(), 16)).toBe('each member alone');
    // d = m = 2048: 16 members take an arena of 32 slots of 16 MiB (512 MiB), 64 members 128 slots (2 GiB)
    const wide = quick({ task: { kind: 'sparse-coding', d: 2048 }, model: { kind: 'two-layer', width: 2048 } });
    expect(stackGpuBufferBytes(wide, 16)).toBe(32 * 2048 * 2048 * 4);
    expect(stackedHotPath(webgpu, wide, 16)).toBe('stacked WGSL kernels, 16 members');
    expect(stackedHotPath(webgpu, wide, 64)).toBe('each member alone');
    // A kernel binds each buffer whole: an adapter that makes 1 GiB buffers but binds only 128 MiB (WebGPU's default) takes no 512 MiB arena.
    const bindsLess = { ...webgpu, details: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 } };
    expect(stackedHotPath(bindsLess, wide, 16)).toBe('each member alone');
    expect(stackedHotPath(bindsLess, wide, 1)).toBe('stacked WGSL kernels, 1 member');
    expect(stackedHotPath({ ...webgpu, details: { maxBufferSize: 2 ** 30 } }, quick(), 16)).toBe('each member alone');
    expect(onStackedKernels('stacked WGSL kernels, 2 members')).toBe(true);
    expect(onStackedKernels('stacked kernels, 2 members')).toBe(true);
    expect(onStackedKernels('each member alone')).toBe(false);
  });

  it('a group is cut into one stack per job slot, in order; other shapes and image runs stack apart or alone', () => {
    const sixteen = Array.from({ length: 16 }, (_, seed) => quick({ seed }));
    expect(sweepStacks(sixteen, { jobs: 1 })).toEqual([Array.from({ length: 16 }, (_, i) => i)]);
    expect(sweepStacks(sixteen, { jobs: 2 })).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
    expect(sweepStacks(sixteen.slice(0, 5), { jobs: 3 })).toEqual([[0, 1], [2, 3], [4]]);
    expect(sweepStacks(sixteen.slice(0, 2), { jobs: 4 })).toEqual([[0], [1]]);
    const mixed = [quick(), quick({ model: { kind: 'two-layer', width: 32 } }), resolveExperiment(presetByName('mnist-mlp').config), quick({ seed: 1 }), quick({ seed: 1, model: { kind: 'two-layer', width: 32 } })];
    expect(sweepStacks(mixed, { jobs: 1 })).toEqual([[0, 3], [1, 4], [2]]);
    expect(sweepStacks(sixteen.slice(0, 3), { jobs: 1, stack: false })).toEqual([[0], [1], [2]]);
    // More members than one stack holds: cut further, whatever the slots.
    const many = Array.from({ length: 130 }, (_, seed) => quick({ seed }));
    expect(sweepStacks(many, { jobs: 1 }).map((s) => s.length)).toEqual([44, 43, 43]);
    // Or more than the memory holds: the stacks computing at once (one per job) must fit in it.
    const member = memoryEstimate(sixteen[0]!).bytes;
    expect(sweepStacks(sixteen, { jobs: 1, available: 3.5 * member }).map((s) => s.length)).toEqual([3, 3, 3, 3, 2, 2]);
    expect(sweepStacks(sixteen, { jobs: 2, available: 7 * member }).map((s) => s.length)).toEqual([3, 3, 3, 3, 2, 2]);
    expect(sweepStacks(sixteen.slice(0, 2), { jobs: 1, available: member / 2 })).toEqual([[0], [1]]);
    // One worker's wasm memory holds a stack, whatever the machine has free: 4 GiB.
    const big = [0, 1, 2].map((seed) => quick({ seed, task: { kind: 'sparse-coding', d: 1024, trainSize: 200_000 } }));
    const perBig = memoryEstimate(big[0]!).bytes;
    expect(Math.floor(maxStackBytes / perBig)).toBe(2);
    expect(sweepStacks(big, { jobs: 1, available: 1e15 })).toEqual([[0, 1], [2]]);
  });
});

describe('a stack in one job slot, for real', () => {
  // One store and one queue (one worker) for both: a worker's start is the dearest part here.
  let store: RunStore;
  let queue: JobQueue;
  beforeAll(() => {
    store = newStore();
    queue = new JobQueue(store, { backend: 'wasm', concurrency: 1, checkpointEvery: 1 });
  });
  afterAll(async () => {
    await queue.shutdown();
    store.close();
  });

  it('runs its members at once in one slot, each with exactly the numbers it gives alone on the stack kernels; a member that fails leaves the others running', async () => {
    const seen = watch(queue);
    // Two seeds x two radii, and a member whose thresholds silence its network: it stops at init.
    const members = [
      ...expandSweep(tiny, [['train.attack.eps', [0.2, 0.4]]], 2),
      ...expandSweep(tiny, [['model.threshold.ratio', [0.95]]], 1),
    ];
    const t0 = performance.now();
    const sweep = startSweep(store, queue, { base: tiny, grid: [['train.attack.eps', [0.2, 0.4]]], seeds: 2, members, preset: 'tiny' });
    expect(sweep.stacks).toBe(1);
    await queue.idle();
    const wall = (performance.now() - t0) / 1000;
    // One slot, five runs running at once: the stack.
    expect(seen.peak).toBe(5);
    const ids = sweep.runs.map((r) => r.runId);
    const dead = store.get(ids[4]!);
    expect(dead.status).toBe('failed');
    expect(dead.error).toMatch(/model\.threshold\.ratio/);
    // Each member's training seconds are its own (main/engine/training/memberClock.ts): the four
    // that trained, computing in one worker, took no more than the sweep's wall time together.
    const trained = ids.slice(0, 4).map((id) => store.result(id).timing);
    expect(trained.reduce((sum, t) => sum + t.trainSeconds, 0), `training seconds ${trained.map((t) => t.trainSeconds.toFixed(3)).join(' + ')} against the wall ${wall.toFixed(3)}`).toBeLessThanOrEqual(wall);
    for (const [i, member] of members.slice(0, 4).entries()) {
      const run = store.get(ids[i]!);
      expect(seen.statuses.get(run.id)).toEqual(['queued', 'running', 'finished']);
      expect(run.provenance?.['stacked']).toEqual({ size: 5, runIds: ids, hotPath: 'stacked kernels, 5 members' });
      const result = store.result(run.id);
      expect(numbers(result), member.name).toEqual(numbers(await aloneOnStackKernels(member.config)));
      // against the default lone run (tfjs-wasm's matMuls in training): every accuracy within 2 test samples
      const alone = accuracies(await runInProcess(member.config, { backend: 'wasm' }));
      const stacked = accuracies(result);
      expect(stacked.length).toBe(alone.length);
      stacked.forEach((count, k) => expect(Math.abs(count - alone[k]!), `${member.name}: accuracy ${k}`).toBeLessThanOrEqual(2));
    }
  }, 240_000);

  it('cancel stops one member and leaves the others running (one not started yet computes nothing); resumed alone, it ends with the numbers of a run never stopped', async () => {
    const long: ExperimentInput = { ...tiny, train: { cleanEpochs: 8, adversarialEpochs: 2 } };
    const configs = [0, 1, 2].map((seed) => resolveExperiment({ ...long, seed }));
    const [kept, cancelled, early] = queue.submitStack(configs.map((config, seed) => ({ input: { ...long, seed }, config })));
    // Cancelled before the stack's worker starts it: it ends without computing anything.
    expect(queue.cancel(early!.id)).toBe(true);
    // Cancelled while its first epoch's metrics are handled: it stops at that epoch's end, as a
    // cancel asked while handling a run's events always does (the worker waits for the parent).
    const answers: boolean[] = [];
    const unsubscribe = queue.subscribe((u) => {
      if (u.kind === 'event' && u.runId === cancelled!.id && u.event.type === 'metrics' && u.event.globalEpoch === 1) answers.push(queue.cancel(u.runId));
    });
    await queue.idle();
    unsubscribe();
    expect(answers).toEqual([true]);
    expect(store.get(cancelled!.id)).toMatchObject({ status: 'cancelled', error: null, checkpointEpoch: 1 });
    expect(store.get(early!.id)).toMatchObject({ status: 'cancelled', error: null, checkpointEpoch: null });
    expect(store.events(early!.id).map((e) => e.type)).toEqual([]);
    expect(store.get(kept!.id).status).toBe('finished');
    expect(numbers(store.result(kept!.id))).toEqual(numbers(await aloneOnStackKernels(configs[0]!)));

    queue.resume(cancelled!.id);
    await queue.idle();
    expect(store.get(cancelled!.id).status).toBe('finished');
    const reference = await aloneOnStackKernels(configs[1]!);
    expect(store.get(cancelled!.id).summary).toEqual(JSON.parse(JSON.stringify(reference.summary)));
    // resumed alone, it kept its stack's record and hot path (a stack of one on the same kernels)
    expect(store.get(cancelled!.id).provenance?.['stacked']).toMatchObject({ size: 3, hotPath: 'stacked kernels, 3 members' });
  }, 240_000);
});
