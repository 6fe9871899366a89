/**
 * Minibatches of one epoch, laid out for the hot path: for each batch, x [B, d], y [B], and the
 * loss weights [B] = 1/B. The shuffle is done once per epoch on the host, each batch uploaded to
 * the device then, so a training step itself spends no kernel on fetching its batch. The epoch
 * loop does not transpose the batches: x^T is made only by the trainers that read it
 * (./trainer.ts), or here on a caller's first read of `xT`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../tasks/dataset.ts';

export interface Batch {
  readonly x: tf.Tensor2D;
  /** x^T [d, B], made on first read (the backend's transpose kernel, an exact copy) and disposed with the batch. */
  readonly xT: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  /** Loss weight of each sample (1/B); one tensor shared by the batches of a size. */
  readonly scale: tf.Tensor1D;
  readonly size: number;
  /** Free its tensors (the scale it shares too: disposing a tensor twice is a no-op). */
  dispose(): void;
}

/** Batch sizes covering n samples: full batches, and a last smaller one if n is not a multiple. */
export function batchSizes(n: number, batchSize: number): number[] {
  const sizes: number[] = [];
  for (let start = 0; start < n; start += batchSize) sizes.push(Math.min(batchSize, n - start));
  return sizes;
}

/** A batch whose transpose is made on the first read of `xT`. */
class EpochBatch implements Batch {
  private transposed: tf.Tensor2D | null = null;

  constructor(
    readonly x: tf.Tensor2D,
    readonly y: tf.Tensor1D,
    readonly scale: tf.Tensor1D,
    readonly size: number,
  ) {}

  get xT(): tf.Tensor2D {
    // kept: a first read inside a caller's tidy must not free it with that scope
    this.transposed ??= tf.keep(tf.transpose(this.x));
    return this.transposed;
  }

  dispose(): void {
    tf.dispose([this.x, this.y, this.scale, ...(this.transposed ? [this.transposed] : [])]);
  }
}

/**
 * The epoch's batches in the order of `permutation`. Each batch is uploaded from the host on its
 * own (tfjs-wasm's split/slice copies the whole source tensor once per piece, which made an
 * epoch quadratic in the dataset size). The loss weights 1/B are filled once per batch size (all
 * batches but the last share one). Dispose them with `disposeBatches`.
 */
export function epochBatches(data: Dataset, permutation: Int32Array, batchSize: number): Batch[] {
  const { d } = data;
  const batches: EpochBatch[] = [];
  const scales = new Map<number, tf.Tensor1D>();
  let start = 0;
  for (const size of batchSizes(data.n, batchSize)) {
    const x = new Float32Array(size * d);
    const y = new Float32Array(size);
    for (let r = 0; r < size; r++) {
      const i = permutation[start + r]!;
      x.set(data.x.subarray(i * d, (i + 1) * d), r * d);
      y[r] = data.y[i]!;
    }
    let scale = scales.get(size);
    if (!scale) {
      scale = tf.fill([size], 1 / size) as tf.Tensor1D;
      scales.set(size, scale);
    }
    batches.push(new EpochBatch(tf.tensor2d(x, [size, d]), tf.tensor1d(y), scale, size));
    start += size;
  }
  return batches;
}

export function disposeBatches(batches: readonly Batch[]): void {
  for (const b of batches) b.dispose();
}
