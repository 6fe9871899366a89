/**
 * Baseline 4 of claim C4 (the paper's "low-degree polynomials"): the degree-2 polynomial
 *
 *   f(x) = <v, x> + x^T Q x,   v in R^d, Q in R^{d x d} symmetric, both trained from 0.
 *
 * Every polynomial of degree <= 2 in x is of this form up to a constant (a bias cannot help a
 * classifier of symmetric classes). Gradients (see baseline.ts for g_n = dL/df_n):
 *   dL/dv            = X^T g
 *   dL/dQ            = sum_n g_n x_n x_n^T = (X * g)^T X           (symmetric, so Q stays symmetric)
 *   d(-margin)/dx_n  = -y_n (v + 2 Q x_n)                            (Q symmetric)
 * Checked against finite differences in the tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputGradientSession } from '../marginModel.ts';
import { logisticLoss, type BaselineGradients, type TrainableBaseline } from './baseline.ts';

export class QuadraticClassifier implements TrainableBaseline {
  readonly kind = 'quadratic' as const;
  readonly inputDim: number;
  /** v as a row [1, d] and Q [d, d]. */
  v: tf.Tensor2D;
  Q: tf.Tensor2D;

  constructor(d: number) {
    this.inputDim = d;
    this.v = tf.zeros([1, d]);
    this.Q = tf.zeros([d, d]);
  }

  forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.add(tf.sum(tf.mul(x, this.v), 1), tf.sum(tf.mul(tf.matMul(x, this.Q), x), 1))) as tf.Tensor1D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.forward(x), y)) as tf.Tensor1D;
  }

  parameters(): tf.Tensor[] {
    return [this.v, this.Q];
  }

  setParameters(params: tf.Tensor[]): void {
    const [v, Q] = params as [tf.Tensor2D, tf.Tensor2D];
    if (v !== this.v) this.v.dispose();
    if (Q !== this.Q) this.Q.dispose();
    this.v = v;
    this.Q = Q;
  }

  gradients(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): BaselineGradients {
    const { dv, dQ, loss } = tf.tidy(() => {
      const { loss, g } = logisticLoss(this.forward(x), y, scale);
      const gx = tf.mul(x, tf.reshape(g, [-1, 1])); // rows g_n x_n
      // dL/dv = g^T X as a row; dL/dQ = (X * g)^T X
      return { dv: tf.sum(gx, 0, true), dQ: tf.matMul(gx, x, true, false), loss };
    });
    return { grads: [dv, dQ], loss };
  }

  openInputGradient(): InputGradientSession {
    const Q2 = tf.mul(this.Q, 2) as tf.Tensor2D;
    return {
      marginGradient: (x, y) =>
        tf.tidy(() => {
          const margin = this.margins(x, y);
          const gradient = tf.mul(tf.reshape(tf.neg(y), [-1, 1]), tf.add(tf.matMul(x, Q2), this.v)) as tf.Tensor2D;
          return { margin, gradient };
        }),
      dispose: () => Q2.dispose(),
    };
  }

  dispose(): void {
    tf.dispose([this.v, this.Q]);
  }
}
