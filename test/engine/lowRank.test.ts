/**
 * Low-rank adversarial fine-tuning (C5): W stays frozen and only U V^T of rank r trains. With
 * r = d it reproduces the full fine-tune's direction of effect (the mixture ratio falls by at
 * least 20 %); the update it makes has rank at most r; it resumes identically from a checkpoint.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { presetByName } from '../../shared/presets.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

async function run(input: ExperimentInput, extra: Parameters<typeof runExperiment>[2] = {}) {
  const { info, hooks } = await prepareBackend({ backend: 'wasm' });
  return runExperiment(resolveExperiment(input), info, { ...hooks, ...extra });
}

describe('low-rank adversarial fine-tuning', () => {
  it('with r = d, reproduces the full fine-tune\'s direction: robust and mixture-direction accuracy up, mixture ratio down', async () => {
    const quick = presetByName('quick').config;
    const result = await run(mergeConfig(quick, { train: { lowRank: { rank: 64 } } }));
    const { afterClean, final } = result.summary;
    expect(final.robustAccuracy).toBeGreaterThan(afterClean!.robustAccuracy + 0.03);
    expect(final.mixtureDirectionAccuracy).toBeGreaterThan(afterClean!.mixtureDirectionAccuracy + 0.05);
    // The full-rank update purifies: the median mixture ratio falls by at least 20 % (to 0.43-0.48
    // of its value after clean training, over seeds 0-2).
    expect(final.mixtureRatioMedian).toBeLessThanOrEqual(0.8 * afterClean!.mixtureRatioMedian);
  }, 300_000);

  it('a rank-r update has rank r, and resumes identically', async () => {
    const input: ExperimentInput = {
      task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
      model: { kind: 'two-layer', width: 16 },
      train: { cleanEpochs: 3, adversarialEpochs: 3, lowRank: { rank: 2 } },
      eval: { testSize: 200 },
    };
    const checkpoints: EngineCheckpoint[] = [];
    const full = await run(input, { checkpointEvery: 5, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) });
    const sv = full.summary.update!.singularValues;
    expect(sv[1]!).toBeGreaterThan(1e-4);
    expect(sv[2]! / sv[0]!).toBeLessThan(1e-5); // numerically rank 2
    const mid = checkpoints.find((c) => c.globalEpoch === 5)!;
    const upTo = (e: { globalEpoch: number }) => e.globalEpoch <= mid.globalEpoch;
    const resumed = await run(input, { resume: { checkpoint: mid, metrics: full.metrics.filter(upTo), instruments: full.instruments.filter(upTo), evaluations: full.evaluations.filter(upTo), warnings: [] } });
    expect(resumed.summary).toEqual(full.summary);
  }, 120_000);
});
