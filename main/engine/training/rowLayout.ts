/**
 * The row layout of the fused two-layer trainers on tfjs tensors (./fusedTrainer.ts on wasm,
 * ../backend/webgpu/twoLayerWebgpu.ts on webgpu): they update W [m, d] (rows are neurons) and
 * its optimiser moments in the same layout, while the network and the generic trainer keep
 * Wt [d, m]. What is here converts at the edges: the working copy at the start of a phase, the
 * write-back at the end of each epoch, and the checkpoint, which always stores the generic
 * layout so that any trainer can resume it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { readBack } from '../backend/readBack.ts';
import type { OptimizerState } from './checkpoint.ts';
import type { Trainer } from './trainer.ts';

/** A tensor of the same values that owns its own memory (tf.clone shares it, and the kernels write in place). */
export function ownedCopy<T extends tf.Tensor>(t: T): T {
  return tf.add(t, 0) as T;
}

/** The network's weights as working rows W [m, d], in memory of their own (the trainer updates them in place). */
export function workingRows(net: TwoLayerNet): tf.Tensor2D {
  return tf.tidy(() => ownedCopy(tf.transpose(net.Wt)));
}

/** The optimiser's step count and moments [m, d]; a moment the optimiser does not keep is null. */
export interface RowMoments {
  t: number;
  first: tf.Tensor | null;
  second: tf.Tensor | null;
}

/** Zero moments: the first for momentum or Adam, the second for Adam. */
export function rowMoments(m: number, d: number, withFirst: boolean, withSecond: boolean): RowMoments {
  return { t: 0, first: withFirst ? tf.zeros([m, d]) : null, second: withSecond ? tf.zeros([m, d]) : null };
}

/** The moments the optimiser keeps, first then second. */
export function momentTensors(moments: RowMoments): tf.Tensor[] {
  return [moments.first, moments.second].filter((x): x is tf.Tensor => x !== null);
}

/**
 * The trainer's edges in the generic layout: `sync` writes W [m, d] back to the network as
 * Wt [d, m]; the checkpoint stores the moments transposed, as the generic trainer keeps them,
 * and a resume reads them back into the row layout (tensors of their own, replacing the zeros).
 */
export function rowLayoutEdges(net: TwoLayerNet, W: tf.Tensor2D, moments: RowMoments): Pick<Trainer, 'sync' | 'exportState' | 'importState'> {
  const [m, d] = W.shape;
  return {
    sync() {
      const Wt = tf.tidy(() => tf.transpose(W)) as tf.Tensor2D;
      net.setParameters(Wt, net.b);
    },
    exportState() {
      const tensors: Record<string, Float32Array> = {};
      const { first, second } = moments;
      if (first) tensors['first.0'] = readBack(() => tf.transpose(first)) as Float32Array;
      if (second) tensors['second.0'] = readBack(() => tf.transpose(second)) as Float32Array;
      return { t: moments.t, tensors };
    },
    importState(state: OptimizerState) {
      moments.t = state.t;
      moments.first = importRowMoment(moments.first, state.tensors['first.0'], d, m);
      moments.second = importRowMoment(moments.second, state.tensors['second.0'], d, m);
    },
  };
}

/** A moment [m, d] of its own from the checkpoint's Wt-layout `values`, freeing `current`; `current` where either is missing. */
function importRowMoment(current: tf.Tensor | null, values: Float32Array | undefined, d: number, m: number): tf.Tensor | null {
  if (!current || !values) return current;
  current.dispose();
  return tf.tidy(() => ownedCopy(tf.transpose(tf.tensor2d(values, [d, m]))));
}
