/**
 * A run resumed from any of its checkpoints ends exactly as the uninterrupted run: same losses,
 * same accuracies, same summary, for every optimiser and for both hot paths.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { useWasm } from '../support/backend.ts';
import { expectExactResume } from '../support/exactResume.ts';

beforeAll(useWasm);

const optimizers = [{}, { kind: 'adam', lr: 0.01 }, { momentum: 0.9, lr: 0.1 }] as const;

describe('resume from a checkpoint', () => {
  for (const optimizer of optimizers) {
    for (const fused of [true, false]) {
      it(`continues identically (${JSON.stringify(optimizer)}, ${fused ? 'fused' : 'generic'} path)`, async () => {
        const config = resolveExperiment({
          task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
          model: { kind: 'two-layer', width: 16 },
          train: { cleanEpochs: 4, adversarialEpochs: 3, optimizer, attack: { randomStart: true } },
          eval: { testSize: 200, every: 2, attacks: [{ kind: 'pgd', steps: 5, randomStart: true }] },
        });
        const { info, hooks } = await prepareBackend({ backend: 'wasm', fused });
        const checkpoints: EngineCheckpoint[] = [];
        const full = await runExperiment(config, info, { ...hooks, checkpointEvery: 3, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) });
        expect(checkpoints.map((c) => c.globalEpoch)).toEqual([3, 4, 6]); // every 3 epochs, and the end of the clean phase
        for (const checkpoint of checkpoints) {
          await expectExactResume(config, info, hooks, full, checkpoint);
        }
      }, 120_000);
    }
  }
});
