/**
 * Wrappers of the two-layer network's kernels (./assembly/twoLayer.ts). Neuron weights are rows,
 * W [m, d]; a training step works on the transposed activations UT = W XbT [m, B], which keeps
 * the data batch as the right-hand operand of both matMuls (see the assembly file for why and by
 * how much that is faster). The attack's gradient works per sample, on U = Xadv Wt [N, m].
 */
import type * as tf from '@tensorflow/tfjs-core';
import { finite, matrix, output, vector, type KernelTable } from './kernelArgs.ts';

export interface TwoLayerKernels {
  /**
   * Row norms of W [m, d]: nrm_i = sqrt(sum_j W[i,j]^2) (float64 accumulation);
   * writes bOut_i = rho nrm_i and invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0 (both [m]).
   */
  thresholdFromRowNorms(W: tf.Tensor, rho: number, bOut: tf.Tensor, invNormOut: tf.Tensor): void;

  /**
   * Logistic loss and gradients on UT = U^T [m, B], writing GT = G^T [m, B]:
   * f_n = a sum_i s_{b_i}(UT_in) with s_b(t) = t - clamp(t, -b, b), z_n = y_n f_n,
   * loss_n = log(1 + exp(-z_n)) (stable), c_n = sampleScale_n a (-y_n sigmoid(-z_n)),
   * GT_in = c_n [|UT_in| > b_i], dbl_i = sum_n c_n sign(act_in) (float64 accumulation;
   * dL/db_i = -dbl_i). Returns sum_n sampleScale_n loss_n. b [m], y [B], sampleScale [B].
   */
  logisticStepT(
    UT: tf.Tensor, b: tf.Tensor, y: tf.Tensor, sampleScale: tf.Tensor, a: number, GT: tf.Tensor, dbl: tf.Tensor,
  ): number;

  /**
   * Chain rule through b_i = rho ||w_i||: dW[i,j] -= dbl_i rho invNorm_i W[i,j], in place on
   * dW [m, d]. W [m, d], dbl [m], invNorm [m].
   */
  relativeThresholdGradientRows(dW: tf.Tensor, W: tf.Tensor, dbl: tf.Tensor, invNorm: tf.Tensor, rho: number): void;

  /**
   * margin_n = y_n a sum_i s_{b_i}(U_ni) into margin [N]; Gx [N, m]: Gx_ni = -y_n a [|U_ni| > b_i]
   * (so Gx @ W, W [m, d], is the gradient of -margin w.r.t. x). Returns the number of rows whose
   * mask is all zero. U [N, m], b [m], y [N].
   */
  marginGradient(U: tf.Tensor, b: tf.Tensor, y: tf.Tensor, a: number, Gx: tf.Tensor, margin: tf.Tensor): number;
}

export const twoLayerTable: KernelTable<TwoLayerKernels> = {
  thresholdFromRowNorms: {
    args: [matrix('W', 'm', 'd'), finite('rho'), output(vector('bOut', 'm')), output(vector('invNormOut', 'm'))],
    call: ['W', 'm', 'd', 'rho', 'bOut', 'invNormOut'],
  },
  logisticStepT: {
    args: [
      matrix('UT', 'm', 'B'), vector('b', 'm'), vector('y', 'B'), vector('sampleScale', 'B'), finite('a'),
      output(matrix('GT', 'm', 'B')), output(vector('dbl', 'm')),
    ],
    call: ['UT', 'b', 'y', 'sampleScale', 'a', 'B', 'm', 'GT', 'dbl'],
  },
  relativeThresholdGradientRows: {
    args: [output(matrix('dW', 'm', 'd')), matrix('W', 'm', 'd'), vector('dbl', 'm'), vector('invNorm', 'm'), finite('rho')],
    call: ['dW', 'W', 'dbl', 'invNorm', 'rho', 'm', 'd'],
  },
  marginGradient: {
    args: [matrix('U', 'N', 'm'), vector('b', 'm'), vector('y', 'N'), finite('a'), output(matrix('Gx', 'N', 'm')), output(vector('margin', 'N'))],
    call: ['U', 'b', 'y', 'a', 'N', 'm', 'Gx', 'margin'],
  },
};
