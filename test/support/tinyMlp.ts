/**
 * A tiny image MLP for comparing its training paths (generic tfjs, fused, threaded): 3 x 6
 * single-channel pictures (d = 18), 20 hidden units, 3 classes. d, m and the batches are not
 * multiples of the SIMD width, of 8 or of the thread count, so every tail path runs; m = 20 gives
 * the threaded update phase blocks of 16 + 4 neurons on 2 threads and 8 + 8 + 4 on 3.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, type MlpModel } from '../../shared/config.ts';
import { RandomStream } from '../../main/engine/random.ts';

export const picture = { height: 3, width: 6, channels: 1 };
export const d = 18;
export const width = 20;
export const classes = 3;

export function tinyMlpConfig(activation: MlpModel['activation'], optimizer: Record<string, unknown>) {
  return resolveExperiment({
    task: { kind: 'mnist', trainSize: 1000 },
    model: { kind: 'mlp', width, activation, thresholdRatio: 0.05, initScale: 1 },
    train: { batchSize: 30, optimizer },
  });
}
export type TinyMlpConfig = ReturnType<typeof tinyMlpConfig>;

export interface MlpBatch {
  x: tf.Tensor2D;
  xT: tf.Tensor2D;
  y: tf.Tensor1D;
  scale: tf.Tensor1D;
}

/** Batches of the given sizes from the named stream: pixels in [0, 1), labels in 0..classes-1, mean-loss weights. */
export function tinyMlpBatches(sizes: readonly number[], seed: number, label: string): MlpBatch[] {
  const rng = RandomStream.derive(seed, label);
  return sizes.map((n) => {
    const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.uniform()), [n, d]);
    return {
      x,
      xT: tf.transpose(x) as tf.Tensor2D,
      y: tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes))),
      scale: tf.fill([n], 1 / n) as tf.Tensor1D,
    };
  });
}
