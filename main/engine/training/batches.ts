/**
 * Minibatches of one epoch, laid out for the hot path: for each batch, x [B, d], its transpose
 * x^T [d, B] (so the weight gradient X^T G is a plain matMul), y [B], and the loss weights
 * [B] = 1/B. The shuffle is done once per epoch on the host, each batch uploaded and transposed
 * on the device then, so a training step itself spends no kernel on fetching its batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../tasks/dataset.ts';

export interface Batch {
  readonly x: tf.Tensor2D;
  readonly xT: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  /** Loss weight of each sample (1/B). */
  readonly scale: tf.Tensor1D;
  readonly size: number;
}

/** Batch sizes covering n samples: full batches, and a last smaller one if n is not a multiple. */
export function batchSizes(n: number, batchSize: number): number[] {
  const sizes: number[] = [];
  for (let start = 0; start < n; start += batchSize) sizes.push(Math.min(batchSize, n - start));
  return sizes;
}

/**
 * The epoch's batches in the order of `permutation`. Each batch is uploaded from the host on its
 * own (tfjs-wasm's split/slice copies the whole source tensor once per piece, which made an
 * epoch quadratic in the dataset size). Dispose them with `disposeBatches`.
 */
export function epochBatches(data: Dataset, permutation: Int32Array, batchSize: number): Batch[] {
  const { d } = data;
  const batches: Batch[] = [];
  let start = 0;
  for (const size of batchSizes(data.n, batchSize)) {
    const x = new Float32Array(size * d);
    const y = new Float32Array(size);
    for (let r = 0; r < size; r++) {
      const i = permutation[start + r]!;
      x.set(data.x.subarray(i * d, (i + 1) * d), r * d);
      y[r] = data.y[i]!;
    }
    const xTensor = tf.tensor2d(x, [size, d]);
    batches.push({
      x: xTensor,
      // The backend's transpose kernel (an exact copy): a strided transpose on the host took a
      // tenth of a quick run's training (bench/computeLedger.ts).
      xT: tf.transpose(xTensor),
      y: tf.tensor1d(y),
      scale: tf.fill([size], 1 / size) as tf.Tensor1D,
      size,
    });
    start += size;
  }
  return batches;
}

export function disposeBatches(batches: readonly Batch[]): void {
  for (const b of batches) tf.dispose([b.x, b.xT, b.y, b.scale]);
}
