/**
 * The two-layer network's input gradients through the fused wasm kernels (../kernels/): the same
 * maths as TwoLayerNet.openInputGradient, in 2 matMuls and 1 kernel call per gradient,
 *   U = X Wt;  G = d(-margin)/dU and the margins (the margin kernel);  grad = G W,
 * with the PGD steps of its attacks through the fused step (../attacks/pgdStep.ts). Wt = W^T sits
 * as the forward's right operand, which tfjs-wasm packs once per session (XNNPACK operator cache).
 * Sessions serve the evaluation attacks (on the network as it is) and the fused trainer's training
 * attack (on its working weights, ../training/fusedTrainer.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedPgdStep } from '../attacks/pgdStep.ts';
import { KernelWorkspace, loadFusedKernels, type FusedKernels } from '../kernels/fusedKernels.ts';
import type { InputGradientSession } from './marginModel.ts';
import type { TwoLayerNet } from './twoLayerNet.ts';
import { kernelThreadPool } from '../kernels/threadPool.ts';
import { threadedInputGradient } from './twoLayerThreadedGradient.ts';

/** The weights a session reads: W [m, d], Wt = W^T [d, m], the thresholds b [m], the output weight a. */
export interface TwoLayerWeights {
  readonly W: tf.Tensor2D;
  readonly Wt: tf.Tensor2D;
  readonly b: tf.Tensor1D;
  readonly a: number;
}

/**
 * A fused session on `weights`, which it only reads; `release` frees what the caller made for it.
 * The per-step buffers (the kernel's G and margins) are made once per batch shape and reused.
 */
export function twoLayerFusedSession(kernels: FusedKernels, weights: TwoLayerWeights, release: () => void): InputGradientSession {
  const { W, Wt, b, a } = weights;
  const m = W.shape[0];
  const work = new KernelWorkspace();
  /** grad = G W with G the margin kernel's output for x; `margin` receives the margins. */
  const gradientInto = (x: tf.Tensor2D, y: tf.Tensor1D, Gx: tf.Tensor, margin: tf.Tensor): tf.Tensor2D => {
    const U = tf.matMul(x, Wt);
    kernels.marginGradient(U, b, y, a, Gx, margin);
    U.dispose();
    return tf.matMul(Gx, W) as tf.Tensor2D;
  };
  return {
    margin(x, y) {
      // The margin kernel writes G as well (elementwise, cheap); the second matMul is skipped.
      const n = x.shape[0];
      const margin = tf.zeros([n]) as tf.Tensor1D;
      const U = tf.matMul(x, Wt);
      kernels.marginGradient(U, b, y, a, work.get('Gx', [n, m]), margin);
      U.dispose();
      return margin;
    },
    marginGradient(x, y) {
      const n = x.shape[0];
      const margin = tf.zeros([n]) as tf.Tensor1D;
      return { margin, gradient: gradientInto(x, y, work.get('Gx', [n, m]), margin) };
    },
    inputGradient(x, y) {
      const n = x.shape[0];
      return gradientInto(x, y, work.get('Gx', [n, m]), work.get('margin', [n]));
    },
    pgdStep: fusedPgdStep(kernels),
    dispose() {
      work.dispose();
      release();
    },
  };
}

/** A fused session on `net` as it is now, for evaluation attacks (it copies the weights it reads). */
export function fusedInputGradient(kernels: FusedKernels, net: TwoLayerNet): InputGradientSession {
  const W = tf.tidy(() => tf.add(tf.transpose(net.Wt), 0)) as tf.Tensor2D; // owned memory, as the kernels need
  const Wt = tf.add(net.Wt, 0) as tf.Tensor2D;
  const b = net.thresholds();
  return twoLayerFusedSession(kernels, { W, Wt, b, a: net.outputWeight }, () => tf.dispose([W, Wt, b]));
}

/**
 * Route a network's input gradients (evaluation attacks) through the fused kernels, when they
 * load: on `threads` kernel threads when more than one (./twoLayerThreadedGradient.ts).
 */
export async function fusedInputGradientProvider(threads = 1): Promise<((net: TwoLayerNet) => InputGradientSession) | null> {
  const kernels = await loadFusedKernels();
  if (!kernels) return null;
  if (threads > 1) {
    const pool = kernelThreadPool(threads);
    return (net) => threadedInputGradient(pool, kernels, net);
  }
  return (net) => fusedInputGradient(kernels, net);
}
