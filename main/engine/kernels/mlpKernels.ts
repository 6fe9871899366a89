/**
 * Wrappers of the image MLP's kernels (./assembly/mlp.ts), row layout (one row per sample):
 * U = X W [N, m] with W [d, m] (neuron i is column i), H [N, m], Z / dZ [N, C], V [m, C] used as
 * VT = V^T [C, m]. Float32 elementwise; long sums (over the hidden units or the rows) are float32
 * partial sums of <= 4 terms per lane accumulated in float64.
 *
 * A training step (VT [C, m], Z [B, C], dV, de, dU [B, m], dc: workspaces):
 *
 *   K.transposeInto(V, VT);
 *   const H = tf.matMul(Xb, W);                         // [B, m], W [d, m]
 *   K.biasActivation(H, c, null);                       // ReLU (or b [m]: the symmetric threshold)
 *   K.outputLogits(H, VT, e, Z);
 *   const loss = K.softmaxCrossEntropy(Z, y, scale);    // Z is now dZ
 *   K.outputLayerGradients(H, Z, dV, de);
 *   K.hiddenGradient(H, Z, VT, dU);
 *   K.columnSums(dU, dc);
 *   const dW = tf.matMul(XbT, dU);                      // [d, m]; then the optimiser kernels
 *
 * An attack step: the same forward, then K.multiclassMarginGradient(Z, y, margin) in place of the
 * softmax, K.hiddenGradient(H, Z, VT, dU) and grad = tf.matMul(dU, WT) with WT = W^T made once
 * per attack by K.transposeInto. There the right-hand operands are W (repacked once per step, and
 * reused by an attack's steps) and dU (N x m, the smallest operand of dW = X^T dU).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { finite, matrix, optionalVector, output, vector, type KernelTable } from './kernelArgs.ts';

export interface MlpKernels {
  /**
   * Column norms of W [d, m] (neuron i's weights are column i): nrm_i = sqrt(sum_j W[j,i]^2)
   * (float64 accumulation); writes bOut_i = rho nrm_i and invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0
   * (both [m]).
   */
  thresholdFromNorms(W: tf.Tensor, rho: number, bOut: tf.Tensor, invNormOut: tf.Tensor): void;

  /**
   * Chain rule through b_i = rho ||W[:, i]||: dW[j,i] -= dbl_i rho invNorm_i W[j,i], in place on
   * dW [d, m]. W [d, m], dbl [m], invNorm [m].
   */
  relativeThresholdGradient(dW: tf.Tensor, W: tf.Tensor, dbl: tf.Tensor, invNorm: tf.Tensor, rho: number): void;

  /** dst [cols, rows] = src [rows, cols]^T (4 x 4 tiles in registers). */
  transposeInto(src: tf.Tensor, dst: tf.Tensor): void;

  /**
   * H = s(U + c) in place on U [N, m] (c [m]): ReLU max(t, 0) when `b` is null, else the symmetric
   * thresholded ReLU s_b(t) = t - clamp(t, -b_i, b_i) with b [m] (b_i >= 0). Either way the
   * derivative mask is [H != 0], which the backward kernels read from H.
   */
  biasActivation(U: tf.Tensor, c: tf.Tensor, b: tf.Tensor | null): void;

  /** Logits Z [N, C] = H VT^T + e: z_nk = e_k + sum_i H[n,i] VT[k,i]. H [N, m], VT [C, m], e [C]. */
  outputLogits(H: tf.Tensor, VT: tf.Tensor, e: tf.Tensor, Z: tf.Tensor): void;

  /**
   * Softmax cross-entropy in place on the logits Z [N, C], which become dZ_n = s_n (softmax(z_n) -
   * e_{y_n}); returns sum_n s_n (logsumexp(z_n) - z_{n,y_n}) (float64 per row). y [N] holds class
   * indices (as float32; truncated like tf.cast; outside 0..C-1: no target, as tf.oneHot gives);
   * s = scale [N].
   */
  softmaxCrossEntropy(Z: tf.Tensor, y: tf.Tensor, scale: tf.Tensor): number;

  /**
   * The multi-class margin in place on the logits Z [N, C] (C >= 2), which become the gradient of the
   * NEGATIVE margin, dZ_n = e_{j*} - e_{y_n}: margin_n = z_{n,y} - z_{n,j*} into margin [N], j* the
   * first j != y_n of largest z_nj (a tie gives margin 0, which counts as a failure).
   */
  multiclassMarginGradient(Z: tf.Tensor, y: tf.Tensor, margin: tf.Tensor): void;

  /** Output-layer gradients: dV [m, C] = H^T dZ and de [C] = sum_n dZ_n. H [N, m], dZ [N, C]. */
  outputLayerGradients(H: tf.Tensor, dZ: tf.Tensor, dV: tf.Tensor, de: tf.Tensor): void;

  /**
   * Hidden-layer gradient dU [N, m] = (dZ VT) * [H != 0] (the sum over classes in float32, zero
   * entries of dZ skipped). H [N, m], dZ [N, C], VT [C, m].
   */
  hiddenGradient(H: tf.Tensor, dZ: tf.Tensor, VT: tf.Tensor, dU: tf.Tensor): void;

  /** out_i = sum_n A[n,i] (A [N, m], out [m]): a bias gradient. */
  columnSums(A: tf.Tensor, out: tf.Tensor): void;

  /**
   * out_i = sum_n A[n,i] sign(S[n,i]) (sign from S's sign bit; A, S [N, m]). With A = dU, S = H it
   * is dbl_i, the threshold term of `relativeThresholdGradient` (dL/db_i = -dbl_i).
   */
  signedColumnSums(A: tf.Tensor, S: tf.Tensor, out: tf.Tensor): void;
}

export const mlpTable: KernelTable<MlpKernels> = {
  thresholdFromNorms: {
    args: [matrix('W', 'd', 'm'), finite('rho'), output(vector('bOut', 'm')), output(vector('invNormOut', 'm'))],
    call: ['W', 'd', 'm', 'rho', 'bOut', 'invNormOut'],
  },
  relativeThresholdGradient: {
    args: [output(matrix('dW', 'd', 'm')), matrix('W', 'd', 'm'), vector('dbl', 'm'), vector('invNorm', 'm'), finite('rho')],
    call: ['dW', 'W', 'dbl', 'invNorm', 'rho', 'd', 'm'],
  },
  transposeInto: {
    args: [matrix('src', 'rows', 'cols'), output(matrix('dst', 'cols', 'rows'))],
    call: ['src', 'rows', 'cols', 'dst'],
  },
  biasActivation: {
    args: [output(matrix('U', 'N', 'm')), vector('c', 'm'), optionalVector('b', 'm', 'threshold')],
    call: ['U', 'c', 'b', 'threshold', 'N', 'm'],
  },
  outputLogits: {
    args: [matrix('H', 'N', 'm'), matrix('VT', 'C', 'm'), vector('e', 'C'), output(matrix('Z', 'N', 'C'))],
    call: ['H', 'VT', 'e', 'N', 'm', 'C', 'Z'],
  },
  softmaxCrossEntropy: {
    args: [output(matrix('Z', 'N', 'C')), vector('y', 'N'), vector('scale', 'N')],
    call: ['Z', 'y', 'scale', 'N', 'C'],
    prepare(v, fail) {
      if (v.get('C') < 1) fail('Z needs at least one class');
    },
  },
  multiclassMarginGradient: {
    args: [output(matrix('Z', 'N', 'C')), vector('y', 'N'), output(vector('margin', 'N'))],
    call: ['Z', 'y', 'N', 'C', 'margin'],
    prepare(v, fail) {
      if (v.get('C') < 2) fail(`the margin needs at least two classes, Z has ${v.get('C')}`);
    },
  },
  outputLayerGradients: {
    args: [matrix('H', 'N', 'm'), matrix('dZ', 'N', 'C'), output(matrix('dV', 'm', 'C')), output(vector('de', 'C'))],
    call: ['H', 'dZ', 'N', 'm', 'C', 'dV', 'de'],
  },
  hiddenGradient: {
    args: [matrix('H', 'N', 'm'), matrix('dZ', 'N', 'C'), matrix('VT', 'C', 'm'), output(matrix('dU', 'N', 'm'))],
    call: ['H', 'dZ', 'VT', 'N', 'm', 'C', 'dU'],
  },
  columnSums: {
    args: [matrix('A', 'N', 'm'), output(vector('out', 'm'))],
    call: ['A', 'N', 'm', 'out'],
  },
  signedColumnSums: {
    args: [matrix('A', 'N', 'm'), matrix('S', 'N', 'm'), output(vector('out', 'm'))],
    call: ['A', 'S', 'N', 'm', 'out'],
  },
};
