/**
 * Where a run starts: afresh (the initial model measured and reported), or from a checkpoint
 * (its weights, streams, counters and everything reported so far restored), and at which phase
 * and epoch training continues.
 */
import type { ResumeState } from '../training/checkpoint.ts';
import { RandomStream } from '../random.ts';
import type { ExperimentRun } from './experimentRun.ts';
import { checkDeadNetwork, measureEpoch, takeSnapshot } from './measurements.ts';

export interface StartingPoint {
  /** The phase to train first (index into run.phases) and its first epoch. */
  readonly phase: number;
  readonly epoch: number;
  /** Continue the phase's optimiser state from the checkpoint (resumed mid-phase). */
  readonly importOptimizer: boolean;
}

/** A fresh run: the testbed's notes, the initial weights, the init snapshot and metrics, the dead-network check. */
export function measureInitialModel(run: ExperimentRun): StartingPoint {
  const { config, testbed } = run;
  for (const message of testbed.notes) run.warn({ type: 'warning', code: 'backend', message, globalEpoch: 0 });
  run.hooks.onWeights?.('init', testbed.modelWeights());
  takeSnapshot(run, 'init', 0, 0, true);
  const initMetrics = measureEpoch(run, 'init', 0, 0, NaN, 0, config.eval.every > 0);
  checkDeadNetwork(run, initMetrics.silentFraction, 0, 'at initialisation');
  return { phase: 0, epoch: 1, importOptimizer: false };
}

/** A resumed run: restore the checkpoint and what was reported up to it. */
export function restoreCheckpoint(run: ExperimentRun, resume: ResumeState): StartingPoint {
  const c = resume.checkpoint;
  run.testbed.restore(c.W, c.b);
  run.metrics.push(...resume.metrics);
  run.instruments.push(...resume.instruments);
  run.evaluations.push(...resume.evaluations);
  run.warnings.push(...resume.warnings);
  run.globalEpoch = c.globalEpoch;
  run.steps = c.steps;
  run.trainSeconds = c.trainSeconds;
  run.shuffleRng = RandomStream.fromState(c.rng.shuffle);
  run.attackRng = RandomStream.fromState(c.rng.attack);
  run.epochEvalRng.restore(c.rng.eval);
  run.W0 = c.W0;
  run.Wclean = c.Wclean;
  run.afterClean = c.afterClean ?? undefined;
  // The checkpoint closed its phase (evaluation included): the next phase starts afresh.
  if (c.epochInPhase >= run.phases[c.phaseIndex]!.epochs) return { phase: c.phaseIndex + 1, epoch: 1, importOptimizer: false };
  return { phase: c.phaseIndex, epoch: c.epochInPhase + 1, importOptimizer: c.epochInPhase > 0 };
}
