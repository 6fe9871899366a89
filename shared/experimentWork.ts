/**
 * The work an experiment asks for, known from its config alone, in two currencies that run at
 * different speeds and so are measured apart:
 *
 *   training    flagship-size training-step equivalents: a clean step is 1; an adversarial step
 *               first runs the training attack, each of whose steps is an input gradient that
 *               costs about one training step (two matMuls either way), so PGD-s costs
 *               s + 1, FGM 2, and mixing clean and adversarial batches trains on both (one more);
 *   evaluation  flagship-size test-sample gradients: an input gradient of one test sample is 1, a
 *               forward pass (one matMul of the two) 0.5. Per epoch (and at init): clean accuracy,
 *               the silent share and, on the synthetic task, the mixture-direction attack (a
 *               forward each), the robust accuracy when `eval.every` makes it due (the first PGD
 *               attack's steps); the instrument snapshots (the neuron x atom product, m d D
 *               multiply-adds); after each phase, every attack over the eps grid (PGD steps x
 *               restarts gradients per radius, FGM one, the mixture direction and each noise draw
 *               a forward) plus the clean pass.
 *
 * Both scale with the multiply-adds of one sample's forward pass, relative to the flagship's d·m:
 * the rates that turn them into seconds are measured at the flagship's size. The per-phase
 * breakdown lets a running job's remaining time be predicted from what it has already spent.
 */
import type { ResolvedExperiment } from './config.ts';
import { multiplyAddsPerSample } from './modelSize.ts';

/** The flagship's size (d = m = 128): the unit that work and throughput are counted in. */
export const FLAGSHIP_MULTIPLY_ADDS = 128 * 128;

const FORWARD = 0.5;

/**
 * Evaluation units done in the time of one training-step equivalent, as measured on wasm with the
 * fused kernels (flagship: 180,000 units/s against 2,300 steps/s). Only the ratio matters where
 * it is used: to weigh work no epoch has timed yet against work already timed.
 */
export const NOMINAL_EVAL_UNITS_PER_STEP = 80;

export interface PhaseWork {
  readonly phase: 'clean' | 'adversarial';
  readonly epochs: number;
  /** Training-step equivalents of one epoch of this phase. */
  readonly trainPerEpoch: number;
  /** Evaluation units spent after each epoch (metrics, snapshots, robust checks), on average. */
  readonly evalPerEpoch: number;
  /** Evaluation units of the evaluation at the end of the phase (every attack over the eps grid). */
  readonly evalAtEnd: number;
}

export interface ExperimentWork {
  /** Optimiser steps over all phases. */
  readonly steps: number;
  /** Training-step equivalents, unscaled (steps with attack steps counted in). */
  readonly stepEquivalents: number;
  /** Flagship-size training-step equivalents. */
  readonly train: number;
  /** Flagship-size evaluation units. */
  readonly eval: number;
  /** Evaluation units at initialisation (before the first epoch). */
  readonly evalAtInit: number;
  readonly phases: readonly PhaseWork[];
}

/** The phases a protocol runs, in order (as main/engine/training/protocols.ts runs them). */
export function phasePlan(config: ResolvedExperiment): { phase: 'clean' | 'adversarial'; epochs: number }[] {
  const { protocol, cleanEpochs, adversarialEpochs } = config.train;
  if (protocol === 'clean') return [{ phase: 'clean', epochs: cleanEpochs }];
  if (protocol === 'adversarial') return [{ phase: 'adversarial', epochs: adversarialEpochs }];
  return [
    { phase: 'clean', epochs: cleanEpochs },
    { phase: 'adversarial', epochs: adversarialEpochs },
  ];
}

/** Training-step equivalents of one adversarial step (see the file's comment). */
export function adversarialStepCost(config: ResolvedExperiment): number {
  const attack = config.train.attack;
  return (attack.kind === 'fgm' ? 1 : attack.steps) + 1 + (config.train.mix.mode === 'replace' ? 0 : 1);
}

/** A step's cost relative to the flagship's: the matMuls scale with d·m. */
export function sizeScale(config: ResolvedExperiment): number {
  return multiplyAddsPerSample(config) / FLAGSHIP_MULTIPLY_ADDS;
}

/** Evaluation units (unscaled, per test sample) of the evaluation after a phase. */
function phaseEndPerSample(config: ResolvedExperiment): number {
  const radii = new Set([...config.eval.epsGrid, config.eval.eps]).size;
  const synthetic = config.task.kind === 'sparse-coding';
  let units = 2 * FORWARD; // clean accuracy, and the clean misclassifications of the worst case
  let mixtureListed = false;
  for (const attack of config.eval.attacks) {
    if (attack.kind === 'pgd') units += radii * (attack.steps * attack.restarts + FORWARD);
    else if (attack.kind === 'fgm') units += radii * (1 + FORWARD);
    else if (synthetic) {
      units += radii * FORWARD;
      mixtureListed = true;
    }
  }
  if (synthetic && !mixtureListed) units += FORWARD; // the summary's mixture-direction accuracy
  units += config.eval.noiseDraws * radii * FORWARD;
  return units;
}

/** Evaluation units (unscaled, per test sample) after every epoch, without the robust check. */
function perEpochPerSample(config: ResolvedExperiment): number {
  return (config.task.kind === 'sparse-coding' ? 3 : 2) * FORWARD;
}

/** Evaluation units (unscaled, per test sample) of the robust check during training. */
function robustCheckPerSample(config: ResolvedExperiment): number {
  const pgd = config.eval.attacks.find((a) => a.kind === 'pgd');
  return (pgd && pgd.kind === 'pgd' ? pgd.steps : 20) + FORWARD;
}

/** Evaluation units (scaled) of one instrument snapshot: the neuron x atom product, m d D multiply-adds. */
function snapshotUnits(config: ResolvedExperiment): number {
  if (config.task.kind !== 'sparse-coding' || config.model.kind !== 'two-layer') return 0;
  const D = config.task.atoms ?? config.task.d;
  return (config.model.width * config.task.d * D) / (2 * FLAGSHIP_MULTIPLY_ADDS);
}

/** The work of a resolved experiment: all phases of its protocol, evaluation included. */
export function experimentWork(config: ResolvedExperiment): ExperimentWork {
  const batch = config.train.batchSize;
  const stepsPerEpoch = Math.ceil(config.task.trainSize / batch);
  const scale = sizeScale(config);
  const n = config.eval.testSize;
  const every = config.eval.every;
  const snapshot = snapshotUnits(config);
  const perEpoch = perEpochPerSample(config) * n * scale;
  const robustCheck = robustCheckPerSample(config) * n * scale;
  const evalAtInit = perEpoch + (every > 0 ? robustCheck : 0) + snapshot;
  let steps = 0;
  let stepEquivalents = 0;
  let evalUnits = evalAtInit;
  let globalEpoch = 0;
  const phases: PhaseWork[] = [];
  for (const { phase, epochs } of phasePlan(config)) {
    const cost = phase === 'adversarial' ? adversarialStepCost(config) : 1;
    // Robust checks fall on global epochs divisible by `every`, except at the phase's end.
    const checks = every > 0 ? Math.floor((globalEpoch + epochs - 1) / every) - Math.floor(globalEpoch / every) : 0;
    const snapshots = Math.floor(epochs / config.instruments.every) + (epochs % config.instruments.every === 0 ? 0 : 1);
    const evalDuring = epochs * perEpoch + checks * robustCheck + snapshots * snapshot;
    const evalAtEnd = phaseEndPerSample(config) * n * scale;
    phases.push({ phase, epochs, trainPerEpoch: stepsPerEpoch * cost * scale, evalPerEpoch: epochs > 0 ? evalDuring / epochs : 0, evalAtEnd });
    steps += epochs * stepsPerEpoch;
    stepEquivalents += epochs * stepsPerEpoch * cost;
    evalUnits += evalDuring + evalAtEnd;
    globalEpoch += epochs;
  }
  return { steps, stepEquivalents, train: stepEquivalents * scale, eval: evalUnits, evalAtInit, phases };
}
