/**
 * Run one experiment end to end, as its protocol reads: measure the initial model (or restore a
 * checkpoint), train each phase of the protocol in turn (clean training, then adversarial
 * fine-tuning, for the paper's fine-tune protocol), each measured epoch by epoch and evaluated at
 * its end, then compare the clean and final models. Everything is reported on the event stream
 * (../../shared/events.ts) as it happens, and the result is returned. The pieces are in
 * ./experiment/.
 *
 * The hot loop never reads the device: losses accumulate in a tensor and are read once per
 * epoch; instruments, evaluations and the dead-network check run between epochs.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { resultSchemaVersion, type RunResult } from '../../shared/result.ts';
import { summariseRun } from './experiment/cleanToFinal.ts';
import { picturesOfRun } from './experiment/runPictures.ts';
import { ExperimentRun } from './experiment/experimentRun.ts';
import type { ExperimentHooks } from './experiment/hooks.ts';
import { measureInitialModel, restoreCheckpoint } from './experiment/startingPoint.ts';
import { trainPhase } from './experiment/trainPhase.ts';

export type { ExperimentHooks } from './experiment/hooks.ts';
export { DeadNetworkError, RunCancelledError } from './experiment/runErrors.ts';

export async function runExperiment(config: ResolvedExperiment, backend: BackendInfo, hooks: ExperimentHooks = {}): Promise<RunResult> {
  const run = new ExperimentRun(config, backend, hooks);
  run.emit({
    type: 'run-started',
    config,
    backend,
    phases: run.phases,
    stepsPerEpoch: run.stepsPerEpoch,
    time: new Date().toISOString(),
    ...(hooks.resume ? { resumedFromEpoch: hooks.resume.checkpoint.globalEpoch } : {}),
  });
  try {
    const start = hooks.resume ? restoreCheckpoint(run, hooks.resume) : measureInitialModel(run);
    for (let index = start.phase; index < run.phases.length; index++) await trainPhase(run, index, start);
  } catch (error) {
    run.testbed.dispose();
    throw error;
  } finally {
    run.trainer?.dispose();
  }
  const summary = summariseRun(run);
  const adversarial = picturesOfRun(run);
  run.testbed.dispose();
  const seconds = run.elapsedSeconds();
  run.emit({ type: 'finished', summary, seconds });
  return {
    schemaVersion: resultSchemaVersion,
    config,
    backend,
    metrics: run.metrics,
    instruments: run.instruments,
    evaluations: run.evaluations,
    warnings: run.warnings,
    summary,
    ...(adversarial ? { adversarial } : {}),
    timing: { seconds, trainSeconds: run.trainSeconds, evalSeconds: Math.max(0, seconds - run.trainSeconds - run.waitedSeconds), steps: run.steps },
  };
}
