/**
 * Baseline 3 of claim C4: the two-layer network linearised at its initialisation W0, its neural
 * tangent kernel model, trained in the tangent space:
 *
 *   f_lin(x; W) = f(x; W0) + <grad_W f(x; W0), W - W0>,
 *
 * W [m, d] the parameter (starting at W0, the network's own init), the features grad_W f(x; W0)
 * fixed at W0. The network is f(x; W) = sum_i a s_{b_i}(<w_i, x>) with s_b(t) = t - clip(t, -b, b).
 *
 * The maths. Write U0_i = <w_i^0, x>, b0_i the threshold at init, mask_i = 1[|U0_i| > b0_i] and
 * sigma_i = sign(U0_i) mask_i (both piecewise constant in x), Delta_i = w_i - w_i^0. Then
 *   d s_b(t)/dt = 1[|t| > b],   d s_b(t)/db = -sign(t) 1[|t| > b],
 * and in the relative mode b_i = rho ||w_i|| gives d b_i/d w_i = rho u_i, u_i = w_i^0/||w_i^0||
 * (at W0). So
 *   d f(x; W0)/d w_i = a (mask_i x - sigma_i rho u_i),
 *   f_lin(x; W) = f(x; W0) + a sum_i [ mask_i <Delta_i, x> - sigma_i c_i ],  c_i = rho <u_i, Delta_i>.
 * (Equivalently f_lin = a sum_i [mask_i <w_i, x> - sigma_i rho <u_i, w_i>]: the threshold is
 * replaced by its own linearisation rho <u_i, w_i>, which equals b0_i at W0.) In the fixed mode
 * (and the learned one, whose b is held at its initial value here) b does not depend on W: c = 0.
 *
 * f_lin is linear in W, so the logistic loss is convex in W. With g_n = dL/df_n (baseline.ts):
 *   dL/dw_i = a sum_n g_n mask_ni x_n  -  rho u_i a sum_n g_n sigma_ni
 *   i.e. dL/dW^T = X^T (mask ⊙ a g 1^T)  +  u^T-columns ⊙ (rho dL/dc),  dL/dc_i = -a sum_n g_n sigma_ni.
 *
 * The input gradient (for attacks). mask_i(x) and sigma_i(x) are piecewise constant in x, so
 * their derivative is 0 almost everywhere; c_i depends on W only. Hence
 *   grad_x f_lin(x; W) = a sum_i mask_i(x) (w_i^0 + Delta_i) = a sum_i mask_i(x) w_i,
 *   d(-margin)/dx_n   = -y_n a sum_i mask_ni w_i  =  (mask ⊙ (-y a) 1^T) W.
 * The activation pattern is the network's AT INIT (w^0), the directions are the trained w_i.
 * Note that f_lin is DISCONTINUOUS in x once W != W0: where mask_i(x) flips, f(x; W0) is
 * continuous but the correction mask_i <Delta_i, x> - sigma_i c_i jumps. Gradient attacks do not
 * see those jumps (the random-noise check sometimes does, and the evaluation flags it), so every
 * robust accuracy measured on this model is, as always, only an upper bound.
 *
 * f_lin(x; W0) = f(x; W0) exactly: the correction terms are computed from Delta = W - W0, which is
 * exactly 0 there, and f(x; W0) is computed with the network's own ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputGradientSession } from '../marginModel.ts';
import type { TwoLayerNet } from '../twoLayerNet.ts';
import { readBack } from '../../backend/readBack.ts';
import { logisticLoss, type BaselineGradients, type TrainableBaseline } from './baseline.ts';

export class TangentModel implements TrainableBaseline {
  readonly kind = 'tangent' as const;
  readonly inputDim: number;
  readonly width: number;
  /** The network's output weight a. */
  readonly outputWeight: number;
  /** rho in the relative mode, else 0 (the thresholds do not depend on W). */
  readonly thresholdRatio: number;
  /** W0^T [d, m] and b0 [m], frozen. */
  readonly W0t: tf.Tensor2D;
  readonly b0: tf.Tensor1D;
  /** u^T [d, m]: the unit directions w_i^0/||w_i^0|| as columns (relative mode), else null. */
  private readonly unitT: tf.Tensor2D | null;
  /** W^T [d, m]: the trained parameter. */
  Wt: tf.Tensor2D;

  constructor(spec: { outputWeight: number; relativeRatio: number | null }, W0t: tf.Tensor2D, b0: tf.Tensor1D) {
    const [d, m] = W0t.shape;
    this.inputDim = d;
    this.width = m;
    this.outputWeight = spec.outputWeight;
    this.thresholdRatio = spec.relativeRatio ?? 0;
    this.W0t = W0t;
    this.b0 = b0;
    this.unitT = spec.relativeRatio !== null ? (tf.tidy(() => tf.div(W0t, tf.maximum(tf.sqrt(tf.sum(tf.square(W0t), 0)), 1e-30))) as tf.Tensor2D) : null;
    this.Wt = tf.clone(W0t);
  }

  /** The tangent model of `net` at its current weights (copied), starting at W = W0. */
  static fromNetwork(net: TwoLayerNet): TangentModel {
    return new TangentModel(
      { outputWeight: net.outputWeight, relativeRatio: net.thresholdMode === 'relative' ? net.thresholdRatio : null },
      tf.clone(net.Wt),
      net.thresholds(),
    );
  }

  /** The pieces at W0: f(x; W0) / a summed later, the signs sigma and masks. Call inside a tidy. */
  private atInit(x: tf.Tensor2D): { act0: tf.Tensor2D; sigma: tf.Tensor2D; mask: tf.Tensor2D } {
    const U0 = tf.matMul(x, this.W0t);
    const act0 = tf.sub(U0, tf.minimum(tf.maximum(U0, tf.neg(this.b0)), this.b0)) as tf.Tensor2D;
    const sigma = tf.sign(act0) as tf.Tensor2D; // sign(U0) where active, 0 in the dead zone
    return { act0, sigma, mask: tf.abs(sigma) as tf.Tensor2D };
  }

  /** f_lin(x; W) from the pieces at init and Delta = W - W0. Call inside a tidy. */
  private linearised(x: tf.Tensor2D, parts: { act0: tf.Tensor2D; sigma: tf.Tensor2D; mask: tf.Tensor2D }): tf.Tensor1D {
    const a = this.outputWeight;
    const f0 = tf.mul(tf.sum(parts.act0, 1), a); // exactly the network's forward at W0
    const delta = tf.sub(this.Wt, this.W0t);
    let correction = tf.sum(tf.mul(parts.mask, tf.matMul(x, delta)), 1); // sum_i mask_i <Delta_i, x>
    if (this.unitT) {
      const c = tf.mul(tf.sum(tf.mul(this.unitT, delta), 0), this.thresholdRatio); // c_i = rho <u_i, Delta_i>
      correction = tf.sub(correction, tf.sum(tf.mul(parts.sigma, c), 1));
    }
    return tf.add(f0, tf.mul(correction, a)) as tf.Tensor1D;
  }

  forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.linearised(x, this.atInit(x)));
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.forward(x), y)) as tf.Tensor1D;
  }

  parameters(): tf.Tensor[] {
    return [this.Wt];
  }

  setParameters(params: tf.Tensor[]): void {
    const Wt = params[0] as tf.Tensor2D;
    if (Wt !== this.Wt) this.Wt.dispose();
    this.Wt = Wt;
  }

  gradients(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): BaselineGradients {
    const { dWt, loss } = tf.tidy(() => {
      const a = this.outputWeight;
      const parts = this.atInit(x);
      const { loss, g } = logisticLoss(this.linearised(x, parts), y, scale);
      const ga = tf.reshape(tf.mul(g, a), [-1, 1]); // a g_n [N, 1]
      // dL/dW^T = X^T (mask ⊙ a g)
      let dWt = tf.matMul(x, tf.mul(parts.mask, ga), true, false) as tf.Tensor2D;
      if (this.unitT) {
        // dL/dc_i = -a sum_n g_n sigma_ni;  dc_i/dw_i = rho u_i
        const dLdc = tf.neg(tf.sum(tf.mul(parts.sigma, ga), 0));
        dWt = tf.add(dWt, tf.mul(this.unitT, tf.mul(dLdc, this.thresholdRatio))) as tf.Tensor2D;
      }
      return { dWt, loss };
    });
    return { grads: [dWt], loss };
  }

  openInputGradient(): InputGradientSession {
    const W = tf.transpose(this.Wt) as tf.Tensor2D; // [m, d], the current weights, once per attack
    const a = this.outputWeight;
    return {
      marginGradient: (x, y) =>
        tf.tidy(() => {
          const parts = this.atInit(x);
          const margin = tf.mul(this.linearised(x, parts), y) as tf.Tensor1D;
          // d(-margin)/dx_n = -y_n a sum_i mask_ni(x) w_i  (masks from W0; thresholds do not depend on x)
          const G = tf.mul(parts.mask, tf.reshape(tf.mul(y, -a), [-1, 1]));
          return { margin, gradient: tf.matMul(G, W) as tf.Tensor2D };
        }),
      dispose: () => W.dispose(),
    };
  }

  /** W [m, d] row-major (a device read). */
  weights(): Float32Array {
    return readBack(() => tf.transpose(this.Wt)) as Float32Array;
  }

  dispose(): void {
    tf.dispose([this.W0t, this.b0, this.Wt, ...(this.unitT ? [this.unitT] : [])]);
  }
}
