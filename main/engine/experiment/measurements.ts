/**
 * What a run measures of its model, and reports: the instruments snapshot, each epoch's metrics
 * (clean and mixture-direction accuracy, the robust accuracy when due, the silent fraction), the
 * dead-network check, the phase-end evaluation and the headline summary of a model. Each
 * measurement is recorded in the run and emitted on its event stream.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Evaluation, InstrumentsEvent, MetricsEvent, ModelSummary, Phase } from '../../../shared/events.ts';
import { cleanVerdicts, evaluateModel, headlineRobustAccuracy, robustAccuracies } from '../attacks/evaluate.ts';
import { mixtureDirectionAttack } from '../attacks/mixtureDirection.ts';
import { deadNetworkMessage, deadNetworkThreshold } from '../instruments/deadNetwork.ts';
import { evaluationStream } from '../random.ts';
import type { ExperimentRun } from './experimentRun.ts';
import { DeadNetworkError } from './runErrors.ts';

/** One instruments snapshot of the weights as they are; `detailed` adds the matrices or pictures. */
export function takeSnapshot(run: ExperimentRun, phase: Phase | 'init', epoch: number, globalEpoch: number, detailed: boolean): InstrumentsEvent {
  const event = run.testbed.snapshot(run.W0, { phase, epoch, globalEpoch, detailed });
  run.instruments.push(event);
  run.emit(event);
  return event;
}

/**
 * An epoch's metrics; the headline robust accuracy only `withRobust` (it costs an attack). One
 * clean forward pass serves the clean accuracy, the clean mistakes that both attacks need and,
 * where the testbed can, the silent share.
 */
export function measureEpoch(run: ExperimentRun, phase: Phase | 'init', epoch: number, globalEpoch: number, loss: number, lr: number, withRobust: boolean): MetricsEvent {
  const { config, testbed } = run;
  const { model, test, direction, clip } = testbed;
  // The two-layer testbed gives the margins and the silent share from one forward pass.
  const pass = testbed.cleanPass?.(test.x, test.y);
  const { accuracy: clean, mistakes: cleanWrong } = cleanVerdicts(model, test, pass?.margins);
  // Without a dictionary there is no mixture direction: the accuracy is unavailable (NaN), not 0.
  const mixture = direction
    ? robustAccuracies(mixtureDirectionAttack(model, test.x, test.y, { eps: [config.eval.eps], direction, clip }).success, cleanWrong)[0]!
    : { estimate: NaN, lower: NaN, upper: NaN, n: test.n };
  // The headline attack as configured (clip, restarts, random start), as the evaluation runs it.
  const robust = withRobust ? headlineRobustAccuracy(model, test, config.eval, { direction, clip, rng: run.epochEvalRng, cleanWrong }) : null;
  const silentFraction = pass ? pass.silentFraction : testbed.silentFraction(test.x);
  const event: MetricsEvent = {
    type: 'metrics',
    phase,
    epoch,
    globalEpoch,
    learningRate: lr,
    loss,
    cleanAccuracy: clean,
    mixtureDirectionAccuracy: mixture,
    robustAccuracy: robust,
    silentFraction,
    tensors: tf.memory().numTensors,
    elapsedSeconds: run.elapsedSeconds(),
  };
  run.metrics.push(event);
  run.emit(event);
  return event;
}

/**
 * A network whose neurons are silent on most samples learns nothing: a warning, or at
 * initialisation with instruments.deadNetwork = 'stop', a DeadNetworkError before any training.
 */
export function checkDeadNetwork(run: ExperimentRun, silentFraction: number, globalEpoch: number, when: string): void {
  if (silentFraction <= deadNetworkThreshold) return;
  const message = deadNetworkMessage(run.config, silentFraction, when);
  if (globalEpoch === 0 && run.config.instruments.deadNetwork === 'stop') throw new DeadNetworkError(message);
  run.warn({ type: 'warning', code: 'dead-network', message, globalEpoch });
}

/** The full evaluation of the model at a phase's end (every configured attack over the eps grid). */
export function evaluateAt(run: ExperimentRun, label: Evaluation['label'], globalEpoch: number): Evaluation {
  const { model, test, direction, clip } = run.testbed;
  const evaluation = evaluateModel(model, test, run.config.eval, { label, globalEpoch, direction, clip, rng: evaluationStream(run.config.seed, label) });
  run.evaluations.push(evaluation);
  run.emit({ type: 'evaluation', evaluation });
  return evaluation;
}

/**
 * The headline numbers of a model from its evaluation (at radius `eps`) and its instrument
 * snapshot; a median the snapshot lacks (no dictionary, or no snapshot) is unavailable (NaN).
 */
export function modelSummary(evaluation: Evaluation, snapshot: InstrumentsEvent | null, eps: number): ModelSummary {
  const pair = (a: { lower: number; upper: number }) => [a.lower, a.upper] as const;
  const worstAt = evaluation.worstCase.accuracy[evaluation.worstCase.eps.indexOf(eps)]!;
  return {
    cleanAccuracy: evaluation.cleanAccuracy.estimate,
    robustAccuracy: evaluation.robustAccuracy.estimate,
    worstCaseRobustAccuracy: worstAt.estimate,
    mixtureDirectionAccuracy: evaluation.mixtureDirectionAccuracy.estimate,
    mixtureRatioMedian: snapshot?.mixtureRatio?.summary.median ?? NaN,
    participationRatioMedian: snapshot?.participationRatio?.summary.median ?? NaN,
    coherenceMedian: snapshot?.coherence?.summary.median ?? NaN,
    coherentShareMedian: snapshot?.coherentShare?.summary.median ?? NaN,
    intervals: {
      cleanAccuracy: pair(evaluation.cleanAccuracy),
      robustAccuracy: pair(evaluation.robustAccuracy),
      worstCaseRobustAccuracy: pair(worstAt),
      mixtureDirectionAccuracy: pair(evaluation.mixtureDirectionAccuracy),
    },
    testSize: evaluation.cleanAccuracy.n,
  };
}
