/**
 * Reading a result back from the device: compute it in a tidy scope, copy its values to the
 * host, and free it, so that a read never leaves a tensor behind (the tensor count after the
 * last epoch must equal the count after the first).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The values of the tensor that `compute` returns, which is disposed after the copy. */
export function readBack(compute: () => tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const t = tf.tidy(compute);
  try {
    return t.dataSync() as Float32Array | Int32Array | Uint8Array;
  } finally {
    t.dispose();
  }
}

/** The single value of the scalar that `compute` returns. */
export function readScalar(compute: () => tf.Tensor): number {
  return readBack(compute)[0]!;
}
