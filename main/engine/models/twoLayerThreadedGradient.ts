/**
 * The two-layer network's input gradients on T kernel threads (../kernels/threadPool.ts): the
 * same maths as the fused session (./twoLayerFusedGradient.ts), U = X W^T, the margin kernel,
 * grad = Gx W, with the rows of each attack batch split across the threads (each row's gradient
 * is its own, so nothing is summed across threads and the result does not depend on T beyond
 * float32 rounding of the matMul). The batch is copied into the pool's shared memory and the
 * gradient copied back into a tfjs tensor (2 N d floats per gradient, against the 4 N m d flops of
 * its two matMuls); the PGD step itself stays the fused one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedPgdStep } from '../attacks/pgdStep.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import { rowScratch, type KernelThreadPool, type Region } from '../kernels/threadPool.ts';
import type { InputGradientSession } from './marginModel.ts';
import type { TwoLayerNet } from './twoLayerNet.ts';

/** Weights in the pool's memory: W [m, d] rows, thresholds b [m], the output weight a. */
export interface PooledTwoLayerWeights {
  readonly W: Region;
  readonly b: Region;
  readonly a: number;
  readonly m: number;
  readonly d: number;
}

/** Rows per thread: ceil(rows / T), rounded up to the SIMD width. */
export function threadChunk(rows: number, threads: number): number {
  return Math.ceil(Math.ceil(rows / threads) / 4) * 4;
}

/** Copies a float32 tfjs tensor's values into `dst` (straight from tfjs-wasm's memory). */
export function copyTensorInto(kernels: FusedKernels, t: tf.Tensor, dst: Float32Array): void {
  dst.set(new Float32Array(kernels.memory.buffer, kernels.offsetOf(t), t.size));
}

/** A session on pooled weights, which it only reads; `release` frees what the caller made for it. */
export function twoLayerThreadedSession(
  pool: KernelThreadPool, kernels: FusedKernels, weights: PooledTwoLayerWeights, release: () => void,
): InputGradientSession {
  const { W, b, a, m, d } = weights;
  const scratch = rowScratch(pool, (n) => ({ X: n * d * 4, Y: n * 4, U: n * m * 4, Gx: n * m * 4, margin: n * 4, grad: n * d * 4, dead: pool.threads * 4 }));
  const compute = (x: tf.Tensor2D, y: tf.Tensor1D) => {
    const n = x.shape[0];
    const { X, Y, U, Gx, margin, grad, dead } = scratch.of(n);
    copyTensorInto(kernels, x, pool.f32(X));
    copyTensorInto(kernels, y, pool.f32(Y));
    pool.run('twoLayerInputGradient', threadChunk(n, pool.threads), [
      X.offset, Y.offset, n, W.offset, m, d, b.offset, a, U.offset, Gx.offset, margin.offset, grad.offset, dead.offset,
    ]);
    return { grad: tf.tensor2d(pool.f32(grad.offset, n * d).slice(), [n, d]), margin };
  };
  return {
    marginGradient(x, y) {
      const { grad, margin } = compute(x, y);
      return { margin: tf.tensor1d(pool.f32(margin.offset, x.shape[0]).slice()), gradient: grad };
    },
    inputGradient(x, y) {
      return compute(x, y).grad;
    },
    pgdStep: fusedPgdStep(kernels),
    dispose() {
      scratch.free();
      release();
    },
  };
}

/** A threaded session on `net` as it is now, for evaluation attacks (it copies the weights it reads). */
export function threadedInputGradient(pool: KernelThreadPool, kernels: FusedKernels, net: TwoLayerNet): InputGradientSession {
  const m = net.width;
  const d = net.inputDim;
  const W = pool.alloc(m * d * 4);
  const b = pool.alloc(m * 4);
  pool.f32(W).set(net.weights());
  pool.f32(b).set(net.thresholdValues());
  return twoLayerThreadedSession(pool, kernels, { W, b, a: net.outputWeight, m, d }, () => {
    pool.free(W);
    pool.free(b);
  });
}
