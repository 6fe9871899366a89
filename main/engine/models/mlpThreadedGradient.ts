/**
 * The image MLP's input gradients on T kernel threads (../kernels/threadPool.ts): the maths of the
 * fused session (Mlp.openInputGradient with kernels), H = s(X W + c), the logits, the margin
 * kernel, dU = (dZ V^T) * [H != 0] and grad = dU W^T, with the rows of each attack batch split
 * across the threads (../kernels/assembly/mlpThreaded.ts). Each row's gradient is its own, so
 * nothing is summed across threads. The batch is copied into the pool's shared memory and the
 * gradient back into a tfjs tensor, PIECE_ROWS rows at a time (an evaluation's attack batch can
 * hold tens of thousands of rows: on CIFAR-10 whole, its input and gradient alone would pass the
 * pool's 1 GiB); the PGD step itself stays the fused one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedPgdStep } from '../attacks/pgdStep.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import { rowScratch, type KernelThreadPool, type Region } from '../kernels/threadPool.ts';
import type { InputGradientSession } from './marginModel.ts';
import type { Mlp } from './mlp.ts';
import { threadChunk } from './twoLayerThreadedGradient.ts';

/** Rows of an attack batch in the pool's memory at a time. */
const PIECE_ROWS = 4096;

/**
 * An MLP's weights in the pool's memory: the parameter block [W | c | V | e] (W [d, m], c [m],
 * V [m, C], e [C], each row-major), VT = V^T [C, m], and for the threshold activation b [m].
 */
export interface PooledMlpWeights {
  readonly params: Region;
  readonly VT: Region;
  readonly b: Region | null;
  readonly d: number;
  readonly m: number;
  readonly C: number;
}

/** Floats in the parameter block [W | c | V | e]. */
export function mlpBlockSize(d: number, m: number, C: number): number {
  return d * m + m + m * C + C;
}

/** A session on pooled weights, which it only reads; `release` frees what the caller made for it. */
export function mlpThreadedSession(pool: KernelThreadPool, kernels: FusedKernels, weights: PooledMlpWeights, release: () => void): InputGradientSession {
  const { params, VT, b, d, m, C } = weights;
  const WT = pool.alloc(m * d * 4);
  pool.call('transposeInto', [params.offset, d, m, WT.offset]);
  const scratch = rowScratch(pool, (n) => ({ X: n * d * 4, Y: n * 4, H: n * m * 4, Z: n * C * 4, dU: n * m * 4, margin: n * 4, grad: n * d * 4 }));
  /** The gradients [n, d] and margins [n] of a batch, piece by piece (each row's are its own). */
  const compute = (x: tf.Tensor2D, y: tf.Tensor1D) => {
    const n = x.shape[0];
    const piece = Math.min(n, PIECE_ROWS);
    const { X, Y, H, Z, dU, margin, grad } = scratch.of(piece);
    const xs = new Float32Array(kernels.memory.buffer, kernels.offsetOf(x), n * d);
    const ys = new Float32Array(kernels.memory.buffer, kernels.offsetOf(y), n);
    const gradients = new Float32Array(n * d);
    const margins = new Float32Array(n);
    for (let r0 = 0; r0 < n; r0 += piece) {
      const rows = Math.min(piece, n - r0);
      pool.f32(X.offset, rows * d).set(xs.subarray(r0 * d, (r0 + rows) * d));
      pool.f32(Y.offset, rows).set(ys.subarray(r0, r0 + rows));
      pool.run('mlpInputGradient', threadChunk(rows, pool.threads), [
        X.offset, Y.offset, rows, params.offset, b?.offset ?? 0, b ? 1 : 0, VT.offset, WT.offset, d, m, C, H.offset, Z.offset, dU.offset, margin.offset, grad.offset,
      ]);
      gradients.set(pool.f32(grad.offset, rows * d), r0 * d);
      margins.set(pool.f32(margin.offset, rows), r0);
    }
    return { gradients, margins };
  };
  return {
    marginGradient(x, y) {
      const { gradients, margins } = compute(x, y);
      return { margin: tf.tensor1d(margins), gradient: tf.tensor2d(gradients, x.shape) };
    },
    inputGradient(x, y) {
      return tf.tensor2d(compute(x, y).gradients, x.shape);
    },
    pgdStep: fusedPgdStep(kernels),
    dispose() {
      scratch.free();
      pool.free(WT);
      release();
    },
  };
}

/** A threaded session on `model` as it is now, for evaluation attacks (it copies the weights it reads). */
export function threadedMlpInputGradient(pool: KernelThreadPool, kernels: FusedKernels, model: Mlp): InputGradientSession {
  const d = model.inputDim;
  const m = model.width;
  const C = model.classes;
  const params = pool.alloc(mlpBlockSize(d, m, C) * 4);
  const VT = pool.alloc(C * m * 4);
  const threshold = model.spec.activation !== 'relu';
  const b = threshold ? pool.alloc(m * 4) : null;
  const invNorm = threshold ? pool.alloc(m * 4) : null;
  let at = 0;
  for (const p of model.parameters()) {
    pool.f32(params.offset + at * 4, p.size).set(p.dataSync());
    at += p.size;
  }
  pool.call('transposeInto', [params.offset + (d * m + m) * 4, m, C, VT.offset]);
  if (b && invNorm) pool.call('thresholdFromNorms', [params.offset, d, m, model.spec.thresholdRatio, b.offset, invNorm.offset]);
  return mlpThreadedSession(pool, kernels, { params, VT, b, d, m, C }, () => {
    for (const r of [params, VT, b, invNorm]) if (r) pool.free(r);
  });
}
