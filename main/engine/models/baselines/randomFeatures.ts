/**
 * Baseline 2 of claim C4: random features. The two-layer network's first layer is frozen at its
 * initialisation W0 (the same draw as the network's, `TwoLayerNet.initialise`) and only the
 * output weights a in R^m train:
 *
 *   f(x) = sum_i a_i s_{b_i}(<w_i^0, x>),   s_b(t) = t - clip(t, -b, b),
 *
 * with the thresholds b frozen at the network's initial ones (relative mode: b_i = rho ||w_i^0||).
 * a starts at the network's output weight (1 or 1/sqrt(m) for every neuron), so at the start the
 * model IS the network at init. f is linear in a: the loss is convex and this is a kernel method.
 *
 * With U = X W0^T [N, m], the features S = s_b(U) and the masks mask_ni = 1[|U_ni| > b_i]:
 *   dL/da_i         = sum_n g_n S_ni              = (S^T g)_i
 *   d(-margin)/dx_n = -y_n sum_i a_i mask_ni w_i^0 (masks are piecewise constant in x, b does
 *                                                    not depend on x)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputGradientSession } from '../marginModel.ts';
import type { TwoLayerNet } from '../twoLayerNet.ts';
import { logisticLoss, type BaselineGradients, type TrainableBaseline } from './baseline.ts';

export class RandomFeatures implements TrainableBaseline {
  readonly kind = 'random-features' as const;
  readonly inputDim: number;
  readonly width: number;
  /** W0^T [d, m], frozen. */
  readonly W0t: tf.Tensor2D;
  /** W0 [m, d], frozen (the input gradient is G W0). */
  private readonly W0: tf.Tensor2D;
  /** b [m], frozen. */
  readonly b: tf.Tensor1D;
  /** a as a column [m, 1]: the trained output weights. */
  a: tf.Tensor2D;

  constructor(W0t: tf.Tensor2D, b: tf.Tensor1D, a: Float32Array) {
    const [d, m] = W0t.shape;
    if (a.length !== m) throw new RangeError(`a has ${a.length} values: expected m = ${m}`);
    if (b.shape[0] !== m) throw new RangeError(`b has ${b.shape[0]} values: expected m = ${m}`);
    this.inputDim = d;
    this.width = m;
    this.W0t = W0t;
    this.W0 = tf.transpose(W0t);
    this.b = b;
    this.a = tf.tensor2d(a, [m, 1]);
  }

  /** Random features on `net`'s current first layer and thresholds (copied), a = its output weight. */
  static fromNetwork(net: TwoLayerNet): RandomFeatures {
    return new RandomFeatures(tf.clone(net.Wt), net.thresholds(), new Float32Array(net.width).fill(net.outputWeight));
  }

  /** The features S = s_b(X W0^T) [N, m]. */
  features(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const U = tf.matMul(x, this.W0t);
      return tf.sub(U, tf.minimum(tf.maximum(U, tf.neg(this.b)), this.b)) as tf.Tensor2D;
    });
  }

  forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(tf.matMul(this.features(x), this.a), [-1])) as tf.Tensor1D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.forward(x), y)) as tf.Tensor1D;
  }

  parameters(): tf.Tensor[] {
    return [this.a];
  }

  setParameters(params: tf.Tensor[]): void {
    const a = params[0] as tf.Tensor2D;
    if (a !== this.a) this.a.dispose();
    this.a = a;
  }

  gradients(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): BaselineGradients {
    const { da, loss } = tf.tidy(() => {
      const S = this.features(x);
      const { loss, g } = logisticLoss(tf.reshape(tf.matMul(S, this.a), [-1]) as tf.Tensor1D, y, scale);
      // dL/da = S^T g, computed as (g^T S)^T
      const da = tf.reshape(tf.matMul(tf.reshape(g, [1, -1]), S), [-1, 1]);
      return { da, loss };
    });
    return { grads: [da], loss };
  }

  openInputGradient(): InputGradientSession {
    const aRow = tf.reshape(this.a, [1, -1]); // [1, m]
    return {
      marginGradient: (x, y) =>
        tf.tidy(() => {
          const S = this.features(x);
          const margin = tf.mul(tf.reshape(tf.matMul(S, this.a), [-1]), y) as tf.Tensor1D;
          // d(-margin)/dU_ni = -y_n a_i mask_ni, and dU/dx = W0
          const G = tf.mul(tf.abs(tf.sign(S)), tf.mul(tf.reshape(tf.neg(y), [-1, 1]), aRow));
          return { margin, gradient: tf.matMul(G, this.W0) as tf.Tensor2D };
        }),
      dispose: () => aRow.dispose(),
    };
  }

  /** a [m] (a device read). */
  outputWeights(): Float32Array {
    return Float32Array.from(this.a.dataSync());
  }

  dispose(): void {
    tf.dispose([this.W0t, this.W0, this.b, this.a]);
  }
}
