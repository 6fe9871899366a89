/**
 * A margin model: what attacks and evaluation see of any network, its margins and their input
 * gradients, nothing about weights. The margin is > 0 iff a sample is classified correctly:
 * y * f(x) for the binary two-layer net (labels y in {-1, +1}, so f(x) = 0, every neuron silent,
 * counts as wrong), and z_y - max_{j != y} z_j for the image models (./multiclassMargin.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { PgdStep } from '../attacks/pgdStep.ts';

export interface InputGradientSession {
  /**
   * For a batch x [N, d] with labels y [N]: the margins y * f(x) [N], and the gradient of the
   * NEGATIVE margin w.r.t. x [N, d], i.e. the direction that hurts the model most to first
   * order. (The logistic loss gradient is this times sigma(-margin) > 0 per sample, so
   * normalised attack steps are identical, and no sigmoid underflow fakes a zero gradient.)
   */
  marginGradient(x: tf.Tensor2D, y: tf.Tensor1D): { margin: tf.Tensor1D; gradient: tf.Tensor2D };
  /**
   * Optional: the gradient alone, where the session can skip the margin or reuse its buffers (the
   * PGD loop takes one per step). Same values as marginGradient's gradient.
   */
  inputGradient?(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor2D;
  /**
   * Optional: the margins alone, computed by the same operations as marginGradient's margin but
   * without the backward pass (an attack's final margins need no gradient).
   */
  margin?(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D;
  /** Optional: a faster PGD step for this session's attacks (../attacks/pgdStep.ts); the tfjs one otherwise. */
  readonly pgdStep?: PgdStep;
  /**
   * Optional: the whole PGD loop on the device, from x0 (or clip(x0 + start)) through `steps`
   * steps, where the session fuses each step's input gradient with its projected step (the fused
   * WGSL kernels, one dispatch a step). Same maths and results as the loop of ../attacks/pgd.ts.
   */
  pgdRun?(
    x0: tf.Tensor2D,
    y: tf.Tensor1D,
    eps: Float32Array,
    alpha: Float32Array,
    start: tf.Tensor2D | null,
    options: { norm: 'l2' | 'linf'; steps: number; clip: readonly [number, number] | null | undefined },
  ): { x: tf.Tensor2D; zeroGradient: tf.Scalar };
  /** Free what the session cached (for example a transposed weight matrix). */
  dispose(): void;
}

export interface MarginModel {
  readonly inputDim: number;
  /** The margins of a batch (y f(x), or z_y - max_{j != y} z_j). */
  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D;
  /** Start a run of input-gradient evaluations with the weights as they are now. */
  openInputGradient(): InputGradientSession;
}
