/**
 * One phase of the protocol (../training/protocols.ts): clean training, or adversarial training
 * (the fine-tuning after clean training, or from scratch), epoch by epoch. After each epoch the
 * run measures the model and takes the instruments snapshot when due; at the phase's end it
 * evaluates the model with every configured attack: 'after-clean' closes the clean phase of the
 * fine-tune protocol (and keeps its weights for the clean-to-final comparison), 'final' the last.
 * Checkpoints are handed over every `checkpointEvery` epochs, at each phase's end, and on cancel.
 */
import type { PhasePlan } from '../training/protocols.ts';
import { timedTraining } from '../training/timedTraining.ts';
import { trainEpoch } from '../training/trainEpoch.ts';
import type { ExperimentRun } from './experimentRun.ts';
import { checkDeadNetwork, evaluateAt, measureEpoch, modelSummary, takeSnapshot } from './measurements.ts';
import { RunCancelledError } from './runErrors.ts';
import type { StartingPoint } from './startingPoint.ts';

/** Let the event loop breathe (progress output, signals) without slowing the loop down. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Train phase `index` from epoch `firstEpoch` to its end. */
export async function trainPhase(run: ExperimentRun, index: number, start: StartingPoint): Promise<void> {
  const { hooks } = run;
  const plan = run.phases[index]!;
  const firstEpoch = index === start.phase ? start.epoch : 1;
  run.emit({ type: 'phase-changed', phase: plan.phase, epochs: plan.epochs, startsAfterGlobalEpoch: run.globalEpoch - (firstEpoch - 1) });
  run.trainer?.dispose();
  const trainer = run.testbed.createTrainer(plan.phase);
  run.trainer = trainer;
  if (start.importOptimizer && index === start.phase && hooks.resume) trainer.importState(hooks.resume.checkpoint.optimizer);
  const isLastPhase = index === run.phases.length - 1;
  const checkpointEvery = hooks.checkpointEvery ?? 0;
  for (let epoch = firstEpoch; epoch <= plan.epochs; epoch++) {
    if (hooks.signal?.aborted) {
      // Stopping between epochs: hand over a checkpoint of where we are, so nothing is lost.
      if (hooks.onCheckpoint && epoch > 1) hooks.onCheckpoint(run.checkpoint(index, epoch - 1, trainer));
      throw new RunCancelledError('The run was cancelled');
    }
    const loss = await trainOneEpoch(run, plan, epoch);
    const phaseEnd = epoch === plan.epochs;
    measureAfterEpoch(run, plan, epoch, loss, phaseEnd);
    if (phaseEnd) evaluatePhase(run, plan, isLastPhase);
    const runEnds = isLastPhase && phaseEnd;
    const checkpointDue = (checkpointEvery > 0 && run.globalEpoch % checkpointEvery === 0) || phaseEnd;
    if (hooks.onCheckpoint && checkpointDue && !runEnds) hooks.onCheckpoint(run.checkpoint(index, epoch, trainer));
    // the other members of a stack compute in these waits: neither this run's training nor its evaluation
    const t0 = performance.now();
    await breathe();
    if (!runEnds) await hooks.afterEpoch?.();
    run.waitedSeconds += (performance.now() - t0) / 1000;
  }
}

/** One epoch of training with progress events; advances the run's counters. Returns the epoch's mean loss and rate. */
async function trainOneEpoch(run: ExperimentRun, plan: PhasePlan, epoch: number): Promise<{ loss: number; lr: number }> {
  const t0 = performance.now();
  const { result, seconds, waitedSeconds } = await timedTraining(run.trainer!, () => trainEpoch(run.trainer!, run.testbed.train, run.config, {
    phase: plan.phase,
    epoch,
    epochs: plan.epochs,
    shuffleRng: run.shuffleRng,
    attackRng: run.attackRng,
    clip: run.testbed.clip,
    onProgress: (step) => {
      const done = run.steps + step;
      run.emit({
        type: 'progress',
        phase: plan.phase,
        epoch,
        epochs: plan.epochs,
        step,
        stepsPerEpoch: run.stepsPerEpoch,
        done,
        total: run.totalSteps,
        elapsedSeconds: run.elapsedSeconds(),
        rate: done / Math.max(run.trainSeconds + (performance.now() - t0) / 1000, 1e-9),
      });
    },
  }));
  run.trainSeconds += seconds;
  run.waitedSeconds += waitedSeconds;
  run.steps += run.stepsPerEpoch;
  run.globalEpoch += 1;
  return result;
}

/** The epoch's metrics (the robust accuracy every eval.every epochs), the loss and dead-network checks, the snapshot when due. */
function measureAfterEpoch(run: ExperimentRun, plan: PhasePlan, epoch: number, { loss, lr }: { loss: number; lr: number }, phaseEnd: boolean): void {
  const { config, globalEpoch } = run;
  const robustDue = config.eval.every > 0 && globalEpoch % config.eval.every === 0 && !phaseEnd;
  const m = measureEpoch(run, plan.phase, epoch, globalEpoch, loss, lr, robustDue);
  if (!Number.isFinite(loss)) throw new Error(`The training loss became ${loss} at epoch ${globalEpoch}: lower train.optimizer.lr (${config.train.optimizer.lr})`);
  checkDeadNetwork(run, m.silentFraction, globalEpoch, `after epoch ${globalEpoch}`);
  const instrumentsDue = epoch % config.instruments.every === 0 || phaseEnd;
  const coefficientsDue = phaseEnd || (config.instruments.coefficientsEvery > 0 && globalEpoch % config.instruments.coefficientsEvery === 0);
  if (instrumentsDue) takeSnapshot(run, plan.phase, epoch, globalEpoch, coefficientsDue);
}

/** The phase-end evaluation: 'after-clean' (the clean model kept for the comparison) or 'final'. */
function evaluatePhase(run: ExperimentRun, plan: PhasePlan, isLastPhase: boolean): void {
  const { config, testbed, hooks } = run;
  const evaluation = evaluateAt(run, isLastPhase ? 'final' : 'after-clean', run.globalEpoch);
  const last = run.instruments[run.instruments.length - 1]!;
  if (plan.phase === 'clean' && !isLastPhase) {
    run.Wclean = testbed.weights();
    run.bClean = testbed.thresholds();
    run.afterClean = modelSummary(evaluation, last, config.eval.eps);
    hooks.onWeights?.('after-clean', testbed.modelWeights());
  }
  if (isLastPhase) {
    run.finalSummary = modelSummary(evaluation, last, config.eval.eps);
    hooks.onWeights?.('final', testbed.modelWeights());
  }
}
