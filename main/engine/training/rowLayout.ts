/**
 * The row layout of the fused two-layer trainers on tfjs tensors (./fusedTrainer.ts on wasm,
 * ../backend/webgpu/twoLayerWebgpu.ts on webgpu): they update W [m, d] (rows are neurons) and
 * its optimiser moments in the same layout, while the network and the generic trainer keep
 * Wt [d, m]. These convert at the edges: the working copy at the start of a phase, the write-back at the end of each epoch, and the
 * checkpoint, which always stores the generic layout so that any trainer can resume it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { readBack } from '../backend/readBack.ts';
import type { OptimizerState } from './checkpoint.ts';

/** A tensor of the same values that owns its own memory (tf.clone shares it, and the kernels write in place). */
export function ownedCopy<T extends tf.Tensor>(t: T): T {
  return tf.add(t, 0) as T;
}

/** The network's weights as working rows W [m, d], in memory of their own (the trainer updates them in place). */
export function workingRows(net: TwoLayerNet): tf.Tensor2D {
  return tf.tidy(() => ownedCopy(tf.transpose(net.Wt)));
}

/** Write the working rows W [m, d] back to the network as Wt [d, m] (its thresholds unchanged). */
export function syncRows(net: TwoLayerNet, W: tf.Tensor2D): void {
  const Wt = tf.tidy(() => tf.transpose(W)) as tf.Tensor2D;
  net.setParameters(Wt, net.b);
}

/** The optimiser state for a checkpoint: the moments [m, d] stored transposed, as the generic Wt [d, m]. */
export function exportRowMoments(t: number, first: tf.Tensor | null, second: tf.Tensor | null): OptimizerState {
  const tensors: Record<string, Float32Array> = {};
  if (first) tensors['first.0'] = readBack(() => tf.transpose(first)) as Float32Array;
  if (second) tensors['second.0'] = readBack(() => tf.transpose(second)) as Float32Array;
  return { t, tensors };
}

/**
 * A moment [m, d] in memory of its own from the checkpoint's `values` (the generic Wt [d, m]
 * layout), replacing and freeing `current`; `current` itself where the trainer keeps no such
 * moment or the checkpoint holds none.
 */
export function importRowMoment(current: tf.Tensor | null, values: Float32Array | undefined, d: number, m: number): tf.Tensor | null {
  if (!current || !values) return current;
  current.dispose();
  return tf.tidy(() => ownedCopy(tf.transpose(tf.tensor2d(values, [d, m]))));
}
