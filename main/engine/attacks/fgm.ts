/**
 * The fast gradient method (Goodfellow et al.; cleverhans `fast_gradient_method`): one full step
 * to the edge of the ball,
 *   l2 (FGM):    delta = eps g / ||g||_2
 *   linf (FGSM): delta = eps sign(g)
 * with g the input gradient of the negative margin. It is PGD with one step of size eps from
 * the clean point, and shares its code, its zero-gradient rule and its data-range clipping.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../shared/config.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { CleanPointGradients } from './cleanPointGradients.ts';
import { pgdAttack, pgdPerturb, type PgdResult } from './pgd.ts';

export interface FgmOptions {
  readonly eps: readonly number[];
  readonly norm: Norm;
  readonly clip?: readonly [number, number] | null;
}

/**
 * FGM/FGSM at every radius of `options.eps`: per-sample success and margins. Its one gradient is
 * the clean point's, which `cleanPoint` shares with the evaluation's other attacks.
 */
export function fgmAttack(model: MarginModel, x: tf.Tensor2D, y: tf.Tensor1D, options: FgmOptions, cleanPoint?: CleanPointGradients): PgdResult {
  return pgdAttack(model, x, y, { ...options, steps: 1, stepScale: 1, randomStart: false, restarts: 1 }, cleanPoint);
}

/** One batch's FGM perturbation at radius eps, left on the device. */
export function fgmPerturb(model: MarginModel, x: tf.Tensor2D, y: tf.Tensor1D, options: { eps: number; norm: Norm; clip?: readonly [number, number] | null }): tf.Tensor2D {
  return pgdPerturb(model, x, y, { ...options, steps: 1, stepScale: 1 });
}
