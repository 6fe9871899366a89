/**
 * The training loss of an epoch, summed on the device step by step and read once at the end
 * (one device read per epoch instead of one per step: a read stalls the step pipeline).
 */
import * as tf from '@tensorflow/tfjs-core';

export class LossAccumulator {
  private sum: tf.Scalar = tf.scalar(0);

  /** Add a step's loss (the accumulator takes it and frees it). */
  add(loss: tf.Scalar): void {
    const next = tf.add(this.sum, loss) as tf.Scalar;
    tf.dispose([this.sum, loss]);
    this.sum = next;
  }

  /** The sum since the last take (one device read), then start again from 0. */
  take(): number {
    const value = this.sum.dataSync()[0]!;
    this.sum.dispose();
    this.sum = tf.scalar(0);
    return value;
  }

  dispose(): void {
    this.sum.dispose();
  }
}

/** The same for losses the kernels hand to the host step by step: a plain sum, read and reset by take. */
export class HostLossSum {
  private sum = 0;

  add(loss: number): void {
    this.sum += loss;
  }

  /** The sum since the last take, then start again from 0. */
  take(): number {
    const value = this.sum;
    this.sum = 0;
    return value;
  }
}
