/**
 * The rank-r update of low-rank fine-tuning (claim C5), shared by the two-layer net's trainer
 * (./lowRankTrainer.ts) and the image MLP's (./lowRankMlpTrainer.ts): the clean weights W stay
 * frozen and the trained weights are
 *
 *   W' = W + U V^T,   U [m, r] starts at 0,  V [d, r] ~ N(0, s^2/d) small and random
 *
 * (both at zero would get no gradient: dL/dU = G V and dL/dV = G^T U). Both models store the layer
 * transposed, Wt [d, m], so Wt' = Wt + V U^T, and with G^T = dL/dWt' [d, m]:
 *   dL/dU = (G^T)^T V = G V,   dL/dV = G^T U.
 * The factors and the frozen W are the phase's state: a checkpoint holds them beside the
 * optimiser's moments, as lowRank.U, lowRank.V and lowRank.frozen.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { RandomStream } from '../random.ts';

export class LowRankUpdate {
  readonly m: number;
  readonly d: number;
  /** The rank: at most min(m, d). */
  readonly r: number;
  U: tf.Tensor2D;
  V: tf.Tensor2D;

  /** `frozen` is the clean layer, transposed: Wt [d, m]; the update owns it (pass a clone). */
  constructor(
    private frozen: tf.Tensor2D,
    rank: number,
    config: ResolvedExperiment,
  ) {
    [this.d, this.m] = frozen.shape;
    this.r = Math.min(rank, this.m, this.d);
    const values = new Float32Array(this.d * this.r);
    RandomStream.derive(config.seed, 'train.lowRank').fillNormal(values, config.train.lowRank.initScale / Math.sqrt(this.d));
    this.U = tf.zeros([this.m, this.r]);
    this.V = tf.tensor2d(values, [this.d, this.r]);
  }

  /** Wt' = Wt + V U^T, a new tensor. */
  composed(): tf.Tensor2D {
    return tf.tidy(() => {
      // r = 1 is an outer product: broadcast it (tfjs-wasm's matMul with an inner dimension of 1
      // was seen returning uninitialised memory).
      const product = this.r === 1 ? tf.mul(this.V, tf.reshape(this.U, [1, this.m])) : tf.matMul(this.V, this.U, false, true);
      return tf.add(this.frozen, product);
    });
  }

  /** dL/dU = G V and dL/dV = G^T U, from dWt = G^T [d, m], the model's gradient at W'. */
  factorGradients(dWt: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    return tf.tidy(() => [tf.matMul(dWt, this.V, true, false), tf.matMul(dWt, this.U)]);
  }

  /** The optimiser's new factors in place of the old (disposed). */
  replace(U: tf.Tensor, V: tf.Tensor): void {
    tf.dispose([this.U, this.V]);
    this.U = U as tf.Tensor2D;
    this.V = V as tf.Tensor2D;
  }

  /** The factors' shapes, in the optimiser's order. */
  get shapes(): [number, number][] {
    return [
      [this.m, this.r],
      [this.d, this.r],
    ];
  }

  /** The checkpoint's tensors of this update. */
  exportTensors(): Record<string, Float32Array> {
    return {
      'lowRank.U': Float32Array.from(this.U.dataSync()),
      'lowRank.V': Float32Array.from(this.V.dataSync()),
      'lowRank.frozen': Float32Array.from(this.frozen.dataSync()),
    };
  }

  /**
   * Restores U, V and the frozen W from a checkpoint's tensors (a resumed phase starts from W',
   * which the checkpoint's weights hold, so W must come back too); returns the other tensors,
   * the optimiser's moments.
   */
  importTensors(tensors: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
    const { 'lowRank.U': u, 'lowRank.V': v, 'lowRank.frozen': w, ...moments } = tensors;
    if (!u || !v || !w) throw new Error('The checkpoint of a low-rank fine-tune holds no lowRank.U, lowRank.V and lowRank.frozen');
    tf.dispose([this.U, this.V, this.frozen]);
    this.U = tf.tensor2d(u, [this.m, this.r]);
    this.V = tf.tensor2d(v, [this.d, this.r]);
    this.frozen = tf.tensor2d(w, [this.d, this.m]);
    return moments;
  }

  dispose(): void {
    tf.dispose([this.U, this.V, this.frozen]);
  }
}
