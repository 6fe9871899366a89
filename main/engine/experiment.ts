/**
 * Run one experiment end to end: data, model, the protocol's phases, instruments and
 * evaluations, all reported on the event stream (../shared/events.ts), and the result returned.
 *
 * The hot loop never reads the device: losses accumulate in a tensor and are read once per
 * epoch; instruments, evaluations and the dead-network check run between epochs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WeightLayer } from './models/imageModel.ts';
import { isImageExperiment, sparseCodingOnly, type ResolvedExperiment } from '../../shared/config.ts';
import type {
  BackendInfo,
  Evaluation,
  InstrumentsEvent,
  MetricsEvent,
  ModelSummary,
  Phase,
  RunEvent,
  RunSummary,
  WarningEvent,
} from '../../shared/events.ts';
import { resultSchemaVersion, type RunResult } from '../../shared/result.ts';
import { cleanAccuracy, cleanMistakes, evaluateModel, headlineRobustAccuracy, robustAccuracies } from './attacks/evaluate.ts';
import { mixtureDirectionAttack } from './attacks/mixtureDirection.ts';
import { batchSizes } from './training/batches.ts';
import { cleanToRobustDecomposition } from './instruments/decomposition.ts';
import { deadNetworkMessage, deadNetworkThreshold } from './instruments/deadNetwork.ts';
import { distribution } from './instruments/snapshot.ts';
import { updateRank } from './instruments/updateRank.ts';
import type { TwoLayerNet } from './models/twoLayerNet.ts';
import { phasesOf } from './training/protocols.ts';
import type { EngineCheckpoint, ResumeState } from './training/checkpoint.ts';
import { epochEvaluationStreamName, evaluationStream, RandomStream } from './random.ts';
import { imageTestbed } from './testbeds/imageTestbed.ts';
import { sparseCodingTestbed } from './testbeds/sparseCodingTestbed.ts';
import type { Testbed, ModelWeights } from './testbeds/testbed.ts';
import { trainEpoch } from './training/trainEpoch.ts';
import type { Trainer } from './training/trainer.ts';

export class DeadNetworkError extends Error {
  override name = 'DeadNetworkError';
}

export class RunCancelledError extends Error {
  override name = 'RunCancelledError';
}

export interface ExperimentHooks {
  /** Receives every event, in order. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Aborting cancels the run between steps. */
  readonly signal?: AbortSignal;
  /** Builds the trainer for a two-layer network (the fused wasm path, or the generic tfjs one). */
  readonly makeTrainer?: (net: TwoLayerNet, config: ResolvedExperiment) => Trainer;
  /** Epochs between checkpoints handed to `onCheckpoint` (0: only at the end of a phase). */
  readonly checkpointEvery?: number;
  /** Receives each checkpoint; writing it is the caller's business (the run store). */
  readonly onCheckpoint?: (checkpoint: EngineCheckpoint) => void;
  /** Receives the model's weights at initialisation, after clean training, and at the end. */
  readonly onWeights?: (label: 'init' | 'after-clean' | 'final', weights: ModelWeights) => void;
  /** Continue a run from a checkpoint instead of starting afresh. */
  readonly resume?: ResumeState;
  /** A faster source of input gradients for evaluation attacks (the fused wasm path). */
  readonly inputGradientProvider?: TwoLayerNet['inputGradientProvider'];
  /**
   * Awaited after each epoch, before the next one checks `signal`. A worker waits here for its
   * parent to have handled the epoch's events, so that a cancel asked while handling them stops
   * the run at this epoch's end, as it does in-process.
   */
  readonly afterEpoch?: () => Promise<void>;
}

/** The headline numbers of a model from its evaluation (at radius `eps`) and its instrument snapshot. */
function modelSummary(evaluation: Evaluation, snapshot: InstrumentsEvent, eps: number): ModelSummary {
  const pair = (a: { lower: number; upper: number }) => [a.lower, a.upper] as const;
  const worstAt = evaluation.worstCase.accuracy[evaluation.worstCase.eps.indexOf(eps)]!;
  return {
    cleanAccuracy: evaluation.cleanAccuracy.estimate,
    robustAccuracy: evaluation.robustAccuracy.estimate,
    worstCaseRobustAccuracy: worstAt.estimate,
    mixtureDirectionAccuracy: evaluation.mixtureDirectionAccuracy.estimate,
    mixtureRatioMedian: snapshot.mixtureRatio?.summary.median ?? NaN,
    participationRatioMedian: snapshot.participationRatio?.summary.median ?? NaN,
    coherenceMedian: snapshot.coherence?.summary.median ?? NaN,
    coherentShareMedian: snapshot.coherentShare?.summary.median ?? NaN,
    intervals: {
      cleanAccuracy: pair(evaluation.cleanAccuracy),
      robustAccuracy: pair(evaluation.robustAccuracy),
      worstCaseRobustAccuracy: pair(worstAt),
      mixtureDirectionAccuracy: pair(evaluation.mixtureDirectionAccuracy),
    },
    testSize: evaluation.cleanAccuracy.n,
  };
}

/** Let the event loop breathe (progress output, signals) without slowing the loop down. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runExperiment(config: ResolvedExperiment, backend: BackendInfo, hooks: ExperimentHooks = {}): Promise<RunResult> {
  const started = performance.now();
  const emit = (event: RunEvent) => hooks.onEvent?.(event);
  const metrics: MetricsEvent[] = [];
  const instruments: InstrumentsEvent[] = [];
  const evaluations: Evaluation[] = [];
  const warnings: WarningEvent[] = [];
  let trainSeconds = 0;
  let steps = 0;

  const subject: Testbed = isImageExperiment(config)
    ? imageTestbed(config, backend)
    : sparseCodingTestbed(sparseCodingOnly(config, 'The two-layer network'), { makeTrainer: hooks.makeTrainer, inputGradientProvider: hooks.inputGradientProvider });
  const { model, test, direction, clip } = subject;
  const phases = phasesOf(config);
  const stepsPerEpoch = batchSizes(config.task.trainSize, config.train.batchSize).length;
  // The robust accuracies during training have their own stream; each phase-end evaluation
  // draws from a fresh one (random.ts), so the final numbers do not depend on eval.every.
  const epochEvalRng = RandomStream.derive(config.seed, epochEvaluationStreamName);

  emit({
    type: 'run-started',
    config,
    backend,
    phases,
    stepsPerEpoch,
    time: new Date().toISOString(),
    ...(hooks.resume ? { resumedFromEpoch: hooks.resume.checkpoint.globalEpoch } : {}),
  });

  const snapshot = (phase: Phase | 'init', epoch: number, globalEpoch: number, detailed: boolean) => {
    const event = subject.snapshot(W0, { phase, epoch, globalEpoch, detailed });
    instruments.push(event);
    emit(event);
    return event;
  };

  const epochMetrics = (phase: Phase | 'init', epoch: number, globalEpoch: number, loss: number, lr: number, withRobust: boolean) => {
    const clean = cleanAccuracy(model, test);
    // Without a dictionary there is no mixture direction: the accuracy is unavailable (NaN), not 0.
    const mixture = direction
      ? robustAccuracies(mixtureDirectionAttack(model, test.x, test.y, { eps: [config.eval.eps], direction, clip }).success, cleanMistakes(model, test))[0]!
      : { estimate: NaN, lower: NaN, upper: NaN, n: test.n };
    // The headline attack as configured (clip, restarts, random start), as the evaluation runs it.
    const robust = withRobust ? headlineRobustAccuracy(model, test, config.eval, { direction, clip, rng: epochEvalRng }) : null;
    const silentFraction = subject.silentFraction(test.x);
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
      elapsedSeconds: (performance.now() - started) / 1000,
    };
    metrics.push(event);
    emit(event);
    return event;
  };

  const checkDead = (silentFraction: number, globalEpoch: number, when: string) => {
    if (silentFraction <= deadNetworkThreshold) return;
    const message = deadNetworkMessage(config, silentFraction, when);
    if (globalEpoch === 0 && config.instruments.deadNetwork === 'stop') throw new DeadNetworkError(message);
    const warning: WarningEvent = { type: 'warning', code: 'dead-network', message, globalEpoch };
    warnings.push(warning);
    emit(warning);
  };

  const evaluate = (label: Evaluation['label'], globalEpoch: number) => {
    const evaluation = evaluateModel(model, test, config.eval, { label, globalEpoch, direction, clip, rng: evaluationStream(config.seed, label) });
    evaluations.push(evaluation);
    emit({ type: 'evaluation', evaluation });
    return evaluation;
  };

  const resume = hooks.resume;
  let W0 = subject.weights();
  let Wclean: Float32Array | null = null;
  let afterClean: ModelSummary | undefined;
  let finalSummary: ModelSummary | null = null;
  let trainer: Trainer | null = null;
  let globalEpoch = 0;
  let startPhase = 0;
  let startEpoch = 1;
  let importOptimizer = false;
  let shuffleRng = RandomStream.derive(config.seed, 'train.shuffle');
  let attackRng = RandomStream.derive(config.seed, 'train.attack');
  const checkpointEvery = hooks.checkpointEvery ?? 0;
  const checkpointAt = (phaseIndex: number, epochInPhase: number, phaseTrainer: Trainer): EngineCheckpoint => ({
    version: 1,
    phaseIndex,
    epochInPhase,
    globalEpoch,
    steps,
    trainSeconds,
    rng: { shuffle: shuffleRng.state, attack: attackRng.state, eval: epochEvalRng.state },
    W: subject.weights(),
    b: subject.thresholds(),
    W0,
    Wclean,
    optimizer: phaseTrainer.exportState(),
    afterClean: afterClean ?? null,
  });
  try {
    if (resume) {
      const c = resume.checkpoint;
      subject.restore(c.W, c.b);
      metrics.push(...resume.metrics);
      instruments.push(...resume.instruments);
      evaluations.push(...resume.evaluations);
      warnings.push(...resume.warnings);
      globalEpoch = c.globalEpoch;
      steps = c.steps;
      trainSeconds = c.trainSeconds;
      shuffleRng = RandomStream.fromState(c.rng.shuffle);
      attackRng = RandomStream.fromState(c.rng.attack);
      epochEvalRng.restore(c.rng.eval);
      W0 = c.W0;
      Wclean = c.Wclean;
      afterClean = c.afterClean ?? undefined;
      startPhase = c.phaseIndex;
      startEpoch = c.epochInPhase + 1;
      importOptimizer = c.epochInPhase > 0;
      if (c.epochInPhase >= phases[c.phaseIndex]!.epochs) {
        // The checkpoint closed its phase (evaluation included): the next phase starts afresh.
        startPhase += 1;
        startEpoch = 1;
        importOptimizer = false;
      }
    } else {
      for (const message of subject.notes) {
        const warning: WarningEvent = { type: 'warning', code: 'backend', message, globalEpoch: 0 };
        warnings.push(warning);
        emit(warning);
      }
      hooks.onWeights?.('init', subject.modelWeights());
      snapshot('init', 0, 0, true);
      const initMetrics = epochMetrics('init', 0, 0, NaN, 0, config.eval.every > 0);
      checkDead(initMetrics.silentFraction, 0, 'at initialisation');
    }

    const totalSteps = phases.reduce((s, p) => s + p.epochs * stepsPerEpoch, 0);
    for (let index = startPhase; index < phases.length; index++) {
      const plan = phases[index]!;
      const firstEpoch = index === startPhase ? startEpoch : 1;
      emit({ type: 'phase-changed', phase: plan.phase, epochs: plan.epochs, startsAfterGlobalEpoch: globalEpoch - (firstEpoch - 1) });
      trainer?.dispose();
      trainer = subject.createTrainer(plan.phase);
      if (importOptimizer && index === startPhase && resume) trainer.importState(resume.checkpoint.optimizer);
      const isLastPhase = index === phases.length - 1;
      for (let epoch = firstEpoch; epoch <= plan.epochs; epoch++) {
        if (hooks.signal?.aborted) {
          // Stopping between epochs: hand over a checkpoint of where we are, so nothing is lost.
          if (hooks.onCheckpoint && epoch > 1) hooks.onCheckpoint(checkpointAt(index, epoch - 1, trainer));
          throw new RunCancelledError('The run was cancelled');
        }
        const t0 = performance.now();
        const { loss, lr } = trainEpoch(trainer, subject.train, config, {
          phase: plan.phase,
          epoch,
          epochs: plan.epochs,
          shuffleRng,
          attackRng,
          clip,
          onProgress: (step) => {
            const done = steps + step;
            const elapsed = (performance.now() - started) / 1000;
            emit({
              type: 'progress',
              phase: plan.phase,
              epoch,
              epochs: plan.epochs,
              step,
              stepsPerEpoch,
              done,
              total: totalSteps,
              elapsedSeconds: elapsed,
              rate: done / Math.max(trainSeconds + (performance.now() - t0) / 1000, 1e-9),
            });
          },
        });
        trainSeconds += (performance.now() - t0) / 1000;
        steps += stepsPerEpoch;
        globalEpoch += 1;
        const phaseEnd = epoch === plan.epochs;
        const robustDue = config.eval.every > 0 && globalEpoch % config.eval.every === 0 && !phaseEnd;
        const m = epochMetrics(plan.phase, epoch, globalEpoch, loss, lr, robustDue);
        if (!Number.isFinite(loss)) throw new Error(`The training loss became ${loss} at epoch ${globalEpoch}: lower train.optimizer.lr (${config.train.optimizer.lr})`);
        if (m.silentFraction > deadNetworkThreshold) checkDead(m.silentFraction, globalEpoch, `after epoch ${globalEpoch}`);
        const instrumentsDue = epoch % config.instruments.every === 0 || phaseEnd;
        const coefficientsDue = phaseEnd || (config.instruments.coefficientsEvery > 0 && globalEpoch % config.instruments.coefficientsEvery === 0);
        if (instrumentsDue) snapshot(plan.phase, epoch, globalEpoch, coefficientsDue);
        if (phaseEnd) {
          const evaluation = evaluate(isLastPhase ? 'final' : 'after-clean', globalEpoch);
          const last = instruments[instruments.length - 1]!;
          if (plan.phase === 'clean' && !isLastPhase) {
            Wclean = subject.weights();
            afterClean = modelSummary(evaluation, last, config.eval.eps);
            hooks.onWeights?.('after-clean', subject.modelWeights());
          }
          if (isLastPhase) {
            finalSummary = modelSummary(evaluation, last, config.eval.eps);
            hooks.onWeights?.('final', subject.modelWeights());
          }
        }
        const runEnds = isLastPhase && phaseEnd;
        const checkpointDue = (checkpointEvery > 0 && globalEpoch % checkpointEvery === 0) || phaseEnd;
        if (hooks.onCheckpoint && checkpointDue && !runEnds) hooks.onCheckpoint(checkpointAt(index, epoch, trainer));
        await breathe();
        if (!runEnds) await hooks.afterEpoch?.();
      }
    }
  } catch (error) {
    subject.dispose();
    throw error;
  } finally {
    trainer?.dispose();
  }

  const summary: RunSummary = { ...(afterClean ? { afterClean } : {}), final: finalSummary! };
  if (Wclean) {
    const Wfinal = subject.weights();
    const first = [Wclean, Wfinal, W0].map((W) => subject.firstLayer(W)) as [WeightLayer, WeightLayer, WeightLayer];
    const { rows, cols } = first[0];
    const dec = cleanToRobustDecomposition(first[0].values, first[1].values, first[2].values, rows, cols);
    const upd = updateRank(first[0].values, first[1].values, rows, cols);
    const unavailable = (rank: ReturnType<typeof updateRank>, layer: string) => {
      if (rank.unavailable === undefined) return {};
      const message = `${layer}: ${rank.unavailable}`;
      if (!warnings.some((w) => w.message === message)) {
        const warning: WarningEvent = { type: 'warning', code: 'instrument-unavailable', message, globalEpoch };
        warnings.push(warning);
        emit(warning);
      }
      return { unavailable: rank.unavailable };
    };
    Object.assign(summary, {
      decomposition: {
        shareAboveOne: dec.shareAboveOne,
        beta: distribution(dec.beta),
        normRatio: distribution(dec.normRatio),
        cosCleanInit: distribution(dec.cosCleanInit),
        cosRobustInit: distribution(dec.cosRobustInit),
      },
      update: {
        relativeChange: upd.relativeChange,
        effectiveRank: upd.effectiveRank,
        stableRank: upd.stableRank,
        singularValues: Array.from(upd.singularValues),
        ...unavailable(upd, first[0].layer),
      },
    });
    if (isImageExperiment(config)) {
      const cleanLayers = subject.weightLayers(Wclean);
      const finalLayers = subject.weightLayers(Wfinal);
      const initLayers = subject.weightLayers(W0);
      Object.assign(summary, {
        layers: cleanLayers.map((l, i) => {
          const u = updateRank(l.values, finalLayers[i]!.values, l.rows, l.cols);
          const share = cleanToRobustDecomposition(l.values, finalLayers[i]!.values, initLayers[i]!.values, l.rows, l.cols).shareAboveOne;
          return {
            layer: l.layer,
            relativeChange: u.relativeChange,
            effectiveRank: u.effectiveRank,
            stableRank: u.stableRank,
            singularValues: Array.from(u.singularValues),
            shareAboveOne: share,
            ...unavailable(u, l.layer),
          };
        }),
      });
    }
  }
  subject.dispose();
  const seconds = (performance.now() - started) / 1000;
  emit({ type: 'finished', summary, seconds });
  return {
    schemaVersion: resultSchemaVersion,
    config,
    backend,
    metrics,
    instruments,
    evaluations,
    warnings,
    summary,
    timing: { seconds, trainSeconds, evalSeconds: seconds - trainSeconds, steps },
  };
}

