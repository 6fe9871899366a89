/**
 * The two-layer network's hot path on tfjs-wasm with the fused kernels of ./kernels: the same
 * maths as TwoLayerNet.gradients + Optimizer (and tested against them), in 2 matMuls and 4
 * kernel calls per training step and 2 matMuls and 2 calls per PGD step, instead of ~25 tfjs
 * kernel launches of ~8 µs each. Its training attack is the one PGD loop (../attacks/pgd.ts) on a
 * fused session over the working weights (../models/twoLayerFusedGradient.ts).
 *
 * Layout: the trainer works on W [m, d] (rows are neurons) so that the forward pass is
 * U^T = W X^T and the weight gradient is dW = G^T X: both matMuls take the batch as their
 * right-hand operand, which tfjs-wasm packs once per tensor (XNNPACK operator cache), while W,
 * which changes every step, is always on the left. W is written back to the network at the end of
 * each epoch (`sync`), where instruments and evaluations read it.
 *
 * Modes: relative and fixed thresholds, with SGD (momentum or not) or Adam. Learned thresholds
 * use the generic trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { KernelWorkspace, loadFusedKernels, type FusedKernels } from '../kernels/fusedKernels.ts';
import { createGenericTrainer } from './genericTrainer.ts';
import type { Trainer } from './trainer.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import { twoLayerFusedSession } from '../models/twoLayerFusedGradient.ts';
import { kernelThreadPool } from '../kernels/threadPool.ts';
import { HostLossSum } from './lossAccumulator.ts';
import { momentTensors, ownedCopy, rowLayoutEdges, rowMoments, workingRows } from './rowLayout.ts';
import { createThreadedTrainer } from './threadedTrainer.ts';

/** The fused trainer of one phase, or null when the network's mode has no fused path. */
export function createFusedTrainer(kernels: FusedKernels, net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
  if (net.thresholdMode === 'learned') return null;
  const { optimizer } = config.train;
  const m = net.width;
  const d = net.inputDim;
  const a = net.outputWeight;
  const rho = net.thresholdRatio;
  const relative = net.thresholdMode === 'relative';
  const workspace = new KernelWorkspace();
  const W = workingRows(net); // [m, d], ours to update in place
  const b = (relative ? tf.zeros([m]) : ownedCopy(net.b!)) as tf.Tensor1D;
  const invNorm = tf.zeros([m]);
  const dbl = tf.zeros([m]);
  const moments = rowMoments(m, d, optimizer.kind === 'adam' || optimizer.momentum > 0, optimizer.kind === 'adam');
  const lossSum = new HostLossSum();

  const refreshThresholds = () => {
    if (relative) kernels.thresholdFromRowNorms(W, rho, b, invNorm);
  };
  /** The training attack sees the working weights, through a fused session opened per batch. */
  const attackedWeights = {
    openInputGradient() {
      const Wt = tf.transpose(W) as tf.Tensor2D; // packed once per attack as the forward's right operand
      return twoLayerFusedSession(kernels, { W, Wt, b, a }, () => Wt.dispose());
    },
  };

  return {
    step(x, xT, y, scale, lr) {
      const B = x.shape[0];
      refreshThresholds();
      const UT = tf.tidy(() => tf.matMul(W, xT ?? tf.transpose(x))); // [m, B]
      const GT = workspace.get('GT', [m, B]);
      lossSum.add(kernels.logisticStepT(UT, b, y, scale, a, GT, dbl));
      const dW = tf.matMul(GT, x); // [m, d]
      if (relative) kernels.relativeThresholdGradientRows(dW, W, dbl, invNorm, rho);
      const { first, second } = moments;
      moments.t += 1;
      if (optimizer.kind === 'adam') kernels.adamUpdate(W, dW, first!, second!, lr, optimizer.beta1, optimizer.beta2, optimizer.epsilon, moments.t);
      else if (first) kernels.momentumUpdate(W, dW, first, lr, optimizer.momentum);
      else kernels.sgdUpdate(W, dW, lr);
      tf.dispose([UT, dW]);
    },
    perturb(x, y, attack) {
      refreshThresholds();
      return pgdPerturb(attackedWeights, x, y, attack);
    },
    takeLoss: () => lossSum.take(),
    // The moments are kept in the row layout W [m, d]; a checkpoint stores the generic Wt [d, m].
    ...rowLayoutEdges(net, W, moments),
    dispose() {
      workspace.dispose();
      tf.dispose([W, b, invNorm, dbl, ...momentTensors(moments)]);
    },
  };
}

/**
 * The factory the experiment uses: fused where the wasm kernels load and the mode allows, the
 * generic trainer otherwise. With `threads` > 1 the fused step runs on that many kernel threads
 * (./threadedTrainer.ts); one thread keeps tfjs-wasm's matMuls. Null when the kernels are not
 * available on this backend.
 */
export async function fusedTrainerFactory(threads = 1): Promise<((net: TwoLayerNet, config: ResolvedExperiment) => Trainer) | null> {
  const kernels = await loadFusedKernels();
  if (!kernels) return null;
  if (threads > 1) {
    const pool = kernelThreadPool(threads);
    return (net, config) => createThreadedTrainer(pool, kernels, net, config) ?? createGenericTrainer(net, config);
  }
  return (net, config) => createFusedTrainer(kernels, net, config) ?? createGenericTrainer(net, config);
}
