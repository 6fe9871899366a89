/**
 * Evaluation of a margin model (../models/marginModel.ts) on a test set: clean accuracy, every
 * configured attack over the eps grid, and the per-sample worst case over all attacks that ran.
 * Every attack's robust accuracy is only an upper bound on the true robust accuracy; the worst
 * case is the tightest bound we have, and the result lists the attacks behind it. Accuracies
 * carry 95 % Wilson intervals (about +-0.01 at n = 2000).
 *
 * A sample counts as robust only if it is classified correctly both clean and under the attack
 * (RobustBench's convention), in every curve: an attack that happens to move a misclassified
 * sample across the boundary does not make it robust.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalAttack, Norm, ResolvedExperiment } from '../../../shared/config.ts';
import { wilsonInterval } from '../../../shared/distribution.ts';
import type { Accuracy, Evaluation, RobustCurve } from '../../../shared/events.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { RandomStream } from '../random.ts';
import { readBack, readScalar } from '../backend/readBack.ts';
import { CleanPointGradients } from './cleanPointGradients.ts';
import { fgmAttack } from './fgm.ts';
import { mixtureDirectionAttack } from './mixtureDirection.ts';
import { pgdAttack, type PgdResult } from './pgd.ts';
import { randomNoiseAttack } from './randomNoise.ts';
import { trustFlags } from './trustFlags.ts';

export interface TestSet {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  readonly n: number;
}

/** Accuracy with its Wilson interval from a count of correct samples. */
export function accuracyOf(correct: number, n: number): Accuracy {
  const { estimate, lower, upper } = wilsonInterval(correct, n);
  return { estimate, lower, upper, n };
}

/** Clean accuracy: the share of margins > 0 (f = 0 counts as wrong). */
export function cleanAccuracy(model: MarginModel, test: TestSet): Accuracy {
  const correct = readScalar(() => tf.sum(tf.cast(tf.greater(model.margins(test.x, test.y), 0), 'float32')));
  return accuracyOf(correct, test.n);
}

/**
 * The clean accuracy and the clean mistakes from one forward pass and one read-back of the
 * margins: correct where margin > 0, a mistake where margin <= 0 (the same comparisons as
 * cleanAccuracy and cleanMistakes, on the same margins). `margins`: the clean margins, when the
 * caller has them already.
 */
export function cleanVerdicts(model: MarginModel, test: TestSet, margins: ArrayLike<number> = readBack(() => model.margins(test.x, test.y))): { accuracy: Accuracy; mistakes: Int32Array } {
  const mistakes = new Int32Array(test.n);
  let correct = 0;
  for (let i = 0; i < test.n; i++) {
    const m = margins[i]!;
    if (m > 0) correct++;
    if (m <= 0) mistakes[i] = 1;
  }
  return { accuracy: accuracyOf(correct, test.n), mistakes };
}

/** A human name for an evaluation attack, e.g. "PGD-20 (l2, step 2.5·eps/20)". */
export function describeAttack(attack: EvalAttack, norm: Norm): string {
  switch (attack.kind) {
    case 'pgd': {
      const step = attack.stepSize === null ? `step 2.5·eps/${attack.steps}` : `step ${attack.stepSize}`;
      const extras = [attack.randomStart ? 'random start' : '', attack.restarts > 1 ? `${attack.restarts} restarts` : ''].filter(Boolean);
      return `PGD-${attack.steps} (${norm}, ${[step, ...extras].join(', ')})`;
    }
    case 'fgm':
      return norm === 'l2' ? 'FGM (l2)' : 'FGSM (linf)';
    case 'mixture-direction':
      return `mixture direction (${norm})`;
  }
}

/**
 * The attack `attack` at the radii `eps` (null: it cannot run here, e.g. no mixture direction).
 * `cleanPoint` shares the gradients at the clean test points between the gradient attacks.
 */
export function runAttack(
  model: MarginModel,
  test: TestSet,
  attack: EvalAttack,
  eps: readonly number[],
  context: { norm: Norm; direction: Float32Array | null; clip: readonly [number, number] | null; rng: RandomStream; cleanPoint?: CleanPointGradients },
): PgdResult | null {
  const clip = 'clip' in attack && attack.clip ? context.clip : null;
  switch (attack.kind) {
    case 'pgd':
      return pgdAttack(model, test.x, test.y, {
        eps,
        norm: context.norm,
        steps: attack.steps,
        stepSize: attack.stepSize,
        randomStart: attack.randomStart,
        restarts: attack.restarts,
        clip,
        rng: context.rng,
      }, context.cleanPoint);
    case 'fgm':
      return fgmAttack(model, test.x, test.y, { eps, norm: context.norm, clip }, context.cleanPoint);
    case 'mixture-direction':
      return context.direction ? mixtureDirectionAttack(model, test.x, test.y, { eps, direction: context.direction, clip: context.clip }) : null;
  }
}

/** 1 for each test sample misclassified clean (margin <= 0). */
export function cleanMistakes(model: MarginModel, test: TestSet): Int32Array {
  return readBack(() => tf.cast(tf.lessEqual(model.margins(test.x, test.y), 0), 'int32')) as Int32Array;
}

/** Robust accuracy at each radius: correct clean AND under the attack. */
export function robustAccuracies(success: readonly Uint8Array[], cleanWrong: ArrayLike<number>): Accuracy[] {
  const n = cleanWrong.length;
  return success.map((s) => {
    let correct = 0;
    for (let i = 0; i < n; i++) if (!s[i] && !cleanWrong[i]) correct++;
    return accuracyOf(correct, n);
  });
}

function curveOf(name: string, result: PgdResult, cleanWrong: ArrayLike<number>): RobustCurve {
  return { attack: name, eps: result.eps, accuracy: robustAccuracies(result.success, cleanWrong), zeroGradient: result.zeroGradient };
}

/**
 * The headline robust accuracy at the radius `evalSpec.eps` alone, with the configured attack:
 * the first of `evalSpec.attacks` that can run here, with its own step size, random start,
 * restarts and clipping, exactly as the evaluation runs it (the per-epoch number during training).
 * Null when no attack can run. `cleanWrong`: the clean mistakes, when the caller has them already.
 */
export function headlineRobustAccuracy(
  model: MarginModel,
  test: TestSet,
  evalSpec: ResolvedExperiment['eval'],
  context: { direction: Float32Array | null; clip: readonly [number, number] | null; rng: RandomStream; cleanWrong?: ArrayLike<number> },
): Accuracy | null {
  for (const attack of evalSpec.attacks) {
    const result = runAttack(model, test, attack, [evalSpec.eps], { ...context, norm: evalSpec.norm });
    if (result) return robustAccuracies(result.success, context.cleanWrong ?? cleanMistakes(model, test))[0]!;
  }
  return null;
}

/**
 * Evaluate `model` at the grid `evalSpec.epsGrid` plus the headline radius `evalSpec.eps`, with
 * every attack of `evalSpec.attacks`. `direction` is the mixture direction for `evalSpec.norm`
 * (null when the task has no dictionary).
 *
 * The attacks share their work where it is the same: one clean forward pass gives the clean
 * accuracy and mistakes, and the gradient attacks share the gradients at the clean points
 * (./cleanPointGradients.ts). Every attack still runs at every radius on its own.
 */
export function evaluateModel(
  model: MarginModel,
  test: TestSet,
  evalSpec: ResolvedExperiment['eval'],
  context: { label: Evaluation['label']; globalEpoch: number; direction: Float32Array | null; clip: readonly [number, number] | null; rng: RandomStream },
): Evaluation {
  const eps = [...new Set([...evalSpec.epsGrid, evalSpec.eps])].sort((a, b) => a - b);
  // Clean misclassifications are failures under every attack, at every radius.
  const { accuracy: clean, mistakes: cleanWrong } = cleanVerdicts(model, test);
  const cleanPoint = new CleanPointGradients(test.x, test.y);
  try {
    return evaluateWith(model, test, evalSpec, { ...context, cleanPoint }, eps, clean, cleanWrong);
  } finally {
    cleanPoint.dispose();
  }
}

function evaluateWith(
  model: MarginModel,
  test: TestSet,
  evalSpec: ResolvedExperiment['eval'],
  context: Parameters<typeof evaluateModel>[3] & { cleanPoint: CleanPointGradients },
  eps: number[],
  clean: Accuracy,
  cleanWrong: Int32Array,
): Evaluation {
  const headline = eps.indexOf(evalSpec.eps);
  const n = test.n;
  const curves: RobustCurve[] = [];
  const attacks: string[] = [];
  const worst = eps.map(() => new Uint8Array(n));
  const worstZero = eps.map(() => 0);
  let headlineCurve: RobustCurve | null = null;
  let mixtureCurve: RobustCurve | null = null;
  const gradientResults: PgdResult[] = [];
  let noise: PgdResult | null = null;
  const attackList: (EvalAttack | { kind: 'random-noise' })[] = [...evalSpec.attacks];
  if (evalSpec.noiseDraws > 0) attackList.push({ kind: 'random-noise' });
  for (const attack of attackList) {
    const result =
      attack.kind === 'random-noise'
        ? (noise = randomNoiseAttack(model, test.x, test.y, { eps, norm: evalSpec.norm, draws: evalSpec.noiseDraws, rng: context.rng, clip: context.clip }))
        : runAttack(model, test, attack, eps, { ...context, norm: evalSpec.norm });
    if (!result) continue;
    if (attack.kind === 'pgd' || attack.kind === 'fgm') gradientResults.push(result);
    const name = attack.kind === 'random-noise' ? `random noise (${evalSpec.norm}, ${evalSpec.noiseDraws} draws)` : describeAttack(attack, evalSpec.norm);
    const curve = curveOf(name, result, cleanWrong);
    curves.push(curve);
    attacks.push(name);
    headlineCurve ??= curve;
    if (attack.kind === 'mixture-direction') mixtureCurve = curve;
    result.success.forEach((s, k) => {
      for (let i = 0; i < n; i++) worst[k]![i]! |= s[i]!;
      worstZero[k] = Math.max(worstZero[k]!, result.zeroGradient[k]!);
    });
  }
  if (!mixtureCurve && context.direction) {
    // The summary always reports the mixture-direction accuracy, even when it is not in the list.
    const result = mixtureDirectionAttack(model, test.x, test.y, { eps: [evalSpec.eps], direction: context.direction, clip: context.clip });
    mixtureCurve = curveOf(describeAttack({ kind: 'mixture-direction' }, evalSpec.norm), result, cleanWrong);
  }
  for (const w of worst) for (let i = 0; i < n; i++) w[i]! |= cleanWrong[i]!;
  const worstCase: RobustCurve = {
    attack: `worst case over ${attacks.join(', ')}`,
    eps,
    accuracy: worst.map((s) => accuracyOf(n - s.reduce((acc, v) => acc + v, 0), n)),
    zeroGradient: worstZero,
  };
  // Without a dictionary there is no mixture direction: the accuracy is unavailable (NaN), not 0.
  const mixtureAt = mixtureCurve ? mixtureCurve.accuracy[mixtureCurve.eps.indexOf(evalSpec.eps)]! : { estimate: NaN, lower: NaN, upper: NaN, n };
  return {
    label: context.label,
    globalEpoch: context.globalEpoch,
    norm: evalSpec.norm,
    cleanAccuracy: clean,
    robustAccuracy: headlineCurve ? headlineCurve.accuracy[headline]! : worstCase.accuracy[headline]!,
    mixtureDirectionAccuracy: mixtureAt,
    curves,
    worstCase,
    attacks,
    flags: trustFlags({ n, eps, gradientAttacks: gradientResults, noise, worstCase: worst, zeroGradient: gradientResults[0]?.zeroGradient[0] ?? 0 }),
  };
}
