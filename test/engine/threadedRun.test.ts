/**
 * A whole run on kernel threads (issue 13 item 2): on 1, 2 and 3 threads the final accuracies
 * agree within 2 test samples; every checkpoint records its thread count; a run resumed from a
 * checkpoint on the same count ends exactly as the uninterrupted one. One tiny config, adversarial
 * phase included (the training attack runs on the threads too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { closeKernelThreadPools } from '../../main/engine/kernels/threadPool.ts';
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
