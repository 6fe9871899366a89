/**
 * The resume check of test/engine/resume.test.ts and threadedRun.test.ts: a run resumed from one
 * of its checkpoints, with the records it had up to it, ends exactly as the uninterrupted run.
 */
import { expect } from 'vitest';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';
import { runExperiment, type ExperimentHooks } from '../../main/engine/experiment.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';

/** Resume `full` from `checkpoint`: the same summary, losses and accuracies to the last bit. */
export async function expectExactResume(config: ResolvedExperiment, info: BackendInfo, hooks: ExperimentHooks, full: RunResult, checkpoint: EngineCheckpoint): Promise<void> {
  const upTo = (e: { globalEpoch: number }) => e.globalEpoch <= checkpoint.globalEpoch;
  const resumed = await runExperiment(config, info, {
    ...hooks,
    resume: { checkpoint, metrics: full.metrics.filter(upTo), instruments: full.instruments.filter(upTo), evaluations: full.evaluations.filter(upTo), warnings: [] },
  });
  expect(resumed.summary).toEqual(full.summary);
  expect(resumed.metrics.map((m) => [m.loss, m.cleanAccuracy, m.robustAccuracy])).toEqual(full.metrics.map((m) => [m.loss, m.cleanAccuracy, m.robustAccuracy]));
}
