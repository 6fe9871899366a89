/**
 * The model interface that attacks and evaluation see: margins and input gradients, nothing
 * about weights. Binary tasks use labels y in {-1, +1} and the margin y * f(x): a sample is
 * classified correctly iff its margin is > 0, so f(x) = 0 (every neuron silent) counts as wrong.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface InputGradientSession {
  /**
   * For a batch x [N, d] with labels y [N]: the margins y * f(x) [N], and the gradient of the
   * NEGATIVE margin w.r.t. x [N, d], i.e. the direction that hurts the model most to first
   * order. (The logistic loss gradient is this times sigma(-margin) > 0 per sample, so
   * normalised attack steps are identical, and no sigmoid underflow fakes a zero gradient.)
   */
  marginGradient(x: tf.Tensor2D, y: tf.Tensor1D): { margin: tf.Tensor1D; gradient: tf.Tensor2D };
  /**
   * Optional: run T PGD steps at once on rows with their own radius and step size, from x0 or
   * from `start`, with a fused implementation (same maths as the generic loop in pgd.ts).
   */
  runPgd?(
    x0: tf.Tensor2D,
    y: tf.Tensor1D,
    eps: Float32Array,
    alpha: Float32Array,
    options: { norm: 'l2' | 'linf'; steps: number; clip: readonly [number, number] | null | undefined; start: tf.Tensor2D | null },
  ): { x: tf.Tensor2D; zeroGradient: number };
  /** Free what the session cached (for example a transposed weight matrix). */
  dispose(): void;
}

export interface BinaryClassifier {
  readonly inputDim: number;
  /** y * f(x) for a batch. */
  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D;
  /** Start a run of input-gradient evaluations with the weights as they are now. */
  openInputGradient(): InputGradientSession;
}
