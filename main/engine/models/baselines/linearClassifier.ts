/**
 * Baseline 1 of claim C4: the linear classifier
 *
 *   f(x) = <v, x>,   v in R^d trained, v = 0 at the start.
 *
 * Gradients (see baseline.ts for g_n):
 *   dL/dv          = sum_n g_n x_n            = X^T g
 *   d(-margin)/dx_n = -y_n v                   (the same direction for every sample of a class)
 * A linear model's worst l2 perturbation is exactly -eps y v/||v||, so its robust accuracy at
 * radius eps is the share of samples with y <v, x> > eps ||v||: PGD is exact on it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputGradientSession } from '../marginModel.ts';
import { logisticLoss, type BaselineGradients, type TrainableBaseline } from './baseline.ts';

export class LinearClassifier implements TrainableBaseline {
  readonly kind = 'linear' as const;
  readonly inputDim: number;
  /** v as a column [d, 1], so f = X v is one matMul. */
  v: tf.Tensor2D;

  constructor(d: number, v?: Float32Array) {
    this.inputDim = d;
    if (v && v.length !== d) throw new RangeError(`v has ${v.length} values: expected d = ${d}`);
    this.v = tf.tensor2d(v ?? new Float32Array(d), [d, 1]);
  }

  forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(tf.matMul(x, this.v), [-1])) as tf.Tensor1D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.forward(x), y)) as tf.Tensor1D;
  }

  parameters(): tf.Tensor[] {
    return [this.v];
  }

  setParameters(params: tf.Tensor[]): void {
    const v = params[0] as tf.Tensor2D;
    if (v !== this.v) this.v.dispose();
    this.v = v;
  }

  gradients(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): BaselineGradients {
    const { dv, loss } = tf.tidy(() => {
      const { loss, g } = logisticLoss(this.forward(x), y, scale);
      // dL/dv = X^T g, as g^T X reshaped to a column
      const dv = tf.reshape(tf.matMul(tf.reshape(g, [1, -1]), x), [-1, 1]);
      return { dv, loss };
    });
    return { grads: [dv], loss };
  }

  openInputGradient(): InputGradientSession {
    const vRow = tf.reshape(this.v, [1, -1]) as tf.Tensor2D; // [1, d]
    return {
      marginGradient: (x, y) =>
        tf.tidy(() => {
          const margin = this.margins(x, y);
          // d(-y <v, x>)/dx = -y v: the outer product of -y [N, 1] and v [1, d], by broadcasting
          // (a matMul with inner dimension 1 returned NaNs on tfjs-wasm)
          const gradient = tf.mul(tf.reshape(tf.neg(y), [-1, 1]), vRow) as tf.Tensor2D;
          return { margin, gradient };
        }),
      dispose: () => vRow.dispose(),
    };
  }

  /** v [d] (a device read). */
  weights(): Float32Array {
    return Float32Array.from(this.v.dataSync());
  }

  dispose(): void {
    this.v.dispose();
  }
}
