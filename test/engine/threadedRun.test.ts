/**
 * A whole run on kernel threads (issue 13 item 2): on 1, 2 and 3 threads the final accuracies
 * agree within 2 test samples; every checkpoint records its thread count; a run resumed from a
 * checkpoint on the same count ends exactly as the uninterrupted one. One tiny config per model
 * (the two-layer net, the image MLP), adversarial phase included (the training attack runs on the
 * threads too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { closeKernelThreadPools } from '../../main/engine/kernels/threadPool.ts';
import type { ModelWeights } from '../../main/engine/testbeds/testbed.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { useWasm } from '../support/backend.ts';
import { expectExactResume } from '../support/exactResume.ts';

beforeAll(useWasm);
afterAll(() => closeKernelThreadPools());

const testSize = 200;
const config = resolveExperiment({
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 400 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 2, adversarialEpochs: 2, optimizer: { kind: 'adam', lr: 0.01 }, attack: { randomStart: true } },
  eval: { testSize, every: 2, attacks: [{ kind: 'pgd', steps: 5, randomStart: true }] },
});

describe('a run on 1, 2 and 3 kernel threads', () => {
  it('ends with the same accuracies within 2 test samples, records its threads, and resumes exactly', async () => {
    const finals: { clean: number; robust: number }[] = [];
    for (const threads of [1, 2, 3]) {
      const { info, hooks } = await prepareBackend({ backend: 'wasm', threads });
      expect(info.threads).toBe(threads);
      const checkpoints: EngineCheckpoint[] = [];
      const full = await runExperiment(config, info, { ...hooks, checkpointEvery: 1, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) });
      expect(checkpoints.map((c) => c.threads)).toEqual(checkpoints.map(() => threads));
      const final = full.summary.final;
      expect(final.testSize).toBe(testSize);
      finals.push({ clean: final.cleanAccuracy, robust: final.worstCaseRobustAccuracy });
      if (threads === 2) {
        // resumed after the clean phase on the same count: the same numbers to the last bit
        const checkpoint = checkpoints.find((c) => c.globalEpoch === 2)!;
        await expectExactResume(config, info, hooks, full, checkpoint);
      }
    }
    console.log(`final clean / worst-case robust accuracy on 1, 2, 3 threads: ${finals.map((f) => `${f.clean} / ${f.robust}`).join(', ')}`);
    for (const f of finals.slice(1)) {
      expect(Math.abs(f.clean - finals[0]!.clean) * testSize, 'clean accuracy, in test samples').toBeLessThanOrEqual(2);
      expect(Math.abs(f.robust - finals[0]!.robust) * testSize, 'worst-case robust accuracy, in test samples').toBeLessThanOrEqual(2);
    }
  }, 120_000);
});

const mlpTestSize = 150;
const mlpConfig = resolveExperiment({
  task: { kind: 'mnist', trainSize: 300, classes: [0, 1, 2] },
  // 20 hidden units: the update phase's neuron blocks are 16 + 4 on 2 threads, 8 + 8 + 4 on 3
  model: { kind: 'mlp', width: 20, initScale: 1 },
  train: { cleanEpochs: 2, adversarialEpochs: 2, batchSize: 50, optimizer: { lr: 0.1, momentum: 0.9 }, attack: { kind: 'pgd', norm: 'linf', eps: 0.1, steps: 3, randomStart: true } },
  eval: { testSize: mlpTestSize, every: 2, epsGrid: [0, 0.1], noiseDraws: 1, attacks: [{ kind: 'pgd', steps: 5, randomStart: true }] },
});

describe('an image MLP run on 1, 2 and 3 kernel threads', () => {
  it('computes on the threads, ends with the same accuracies within 2 test samples, records its threads, and resumes exactly', async () => {
    const finals: { clean: number; robust: number }[] = [];
    const finalWeights: Float32Array[] = [];
    for (const threads of [1, 2, 3]) {
      const { info, hooks } = await prepareBackend({ backend: 'wasm', threads });
      expect(info.threads).toBe(threads);
      const checkpoints: EngineCheckpoint[] = [];
      let final: ModelWeights | null = null;
      const full = await runExperiment(mlpConfig, info, {
        ...hooks,
        checkpointEvery: 1,
        onCheckpoint: (c) => checkpoints.push(structuredClone(c)),
        onWeights: (label, weights) => {
          if (label === 'final') final = weights;
        },
      });
      expect(checkpoints.map((c) => c.threads)).toEqual(checkpoints.map(() => threads));
      const weights = final as ModelWeights | null;
      if (weights?.kind !== 'image') throw new Error('an image run reports image weights');
      finalWeights.push(Float32Array.from(weights.tensors[0]!.data));
      expect(full.summary.final.testSize).toBe(mlpTestSize);
      finals.push({ clean: full.summary.final.cleanAccuracy, robust: full.summary.final.worstCaseRobustAccuracy });
      if (threads === 2) {
        const checkpoint = checkpoints.find((c) => c.globalEpoch === 2)!;
        await expectExactResume(mlpConfig, info, hooks, full, checkpoint);
      }
    }
    console.log(`MLP final clean / worst-case robust accuracy on 1, 2, 3 threads: ${finals.map((f) => `${f.clean} / ${f.robust}`).join(', ')}`);
    // the threads computed (the one-thread fused path would give the one-thread run's bits)
    for (const T of [2, 3]) expect(Buffer.from(finalWeights[T - 1]!.buffer).equals(Buffer.from(finalWeights[0]!.buffer)), `T = ${T}: fc1.weight bit-identical to 1 thread`).toBe(false);
    expect(finals[0]!.clean, 'the run learned (chance is 1/3)').toBeGreaterThan(0.6);
    for (const f of finals.slice(1)) {
      expect(Math.abs(f.clean - finals[0]!.clean) * mlpTestSize, 'clean accuracy, in test samples').toBeLessThanOrEqual(2);
      expect(Math.abs(f.robust - finals[0]!.robust) * mlpTestSize, 'worst-case robust accuracy, in test samples').toBeLessThanOrEqual(2);
    }
  }, 180_000);
});
