/**
 * What the lower-bound baselines of claim C4 share: each is a
 * MarginModel (so every attack and `evaluateModel` run on it unchanged) with trainable
 * parameters and the hand-written gradients of the logistic loss
 *
 *   L = sum_n s_n log(1 + exp(-y_n f(x_n))),   g_n = dL/df_n = -s_n y_n sigma(-y_n f_n),
 *
 * (s_n = 1/B for a plain mean; tfjs-core has no autodiff kernels registered here, so every
 * gradient is written out and checked against finite differences in the tests).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MarginModel } from '../marginModel.ts';

export const baselineKinds = ['linear', 'quadratic', 'random-features', 'tangent'] as const;
export type BaselineKind = (typeof baselineKinds)[number];

export interface BaselineGradients {
  /** dL/dp for each parameter p of `parameters()`, same order and shapes. */
  readonly grads: tf.Tensor[];
  /** The (scaled) loss sum, a scalar. */
  readonly loss: tf.Scalar;
}

export interface TrainableBaseline extends MarginModel {
  readonly kind: BaselineKind;
  /** f(x) [N]. */
  forward(x: tf.Tensor2D): tf.Tensor1D;
  /** The trained parameters (owned by the model). */
  parameters(): tf.Tensor[];
  /** Replace the parameters (same order and shapes; the old tensors are disposed). */
  setParameters(params: tf.Tensor[]): void;
  /** The logistic loss on x [N, d], y [N] with per-sample weights `scale` [N], and its gradients. */
  gradients(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): BaselineGradients;
  dispose(): void;
}

/**
 * The loss sum and g_n = dL/df_n for outputs f [N]: L = sum s_n softplus(-y_n f_n) and
 * g_n = -s_n y_n sigma(-y_n f_n). Call inside a tidy.
 */
export function logisticLoss(f: tf.Tensor1D, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; g: tf.Tensor1D } {
  const negMargin = tf.neg(tf.mul(f, y));
  const loss = tf.sum(tf.mul(tf.softplus(negMargin), scale)) as tf.Scalar;
  const g = tf.neg(tf.mul(tf.sigmoid(negMargin), tf.mul(y, scale))) as tf.Tensor1D;
  return { loss, g };
}
