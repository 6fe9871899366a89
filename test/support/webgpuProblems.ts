/**
 * The tiny problems that test/engine/webgpu.test.ts computes on wasm and on webgpu, through the
 * generic ops (./webgpuAgreement.ts) and through the fused hot paths (./webgpuFusedSide.ts): the
 * optimisers, the two-layer net on one batch of sparse-coding-like data, and the image MLP on
 * eight batches of 8 x 8 grey pictures. Each side draws its data from a stream of its own name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding, type ExperimentInput, type MlpModel } from '../../shared/config.ts';
import { RandomStream } from '../../main/engine/random.ts';

export type Numbers = number[];

export const optimizers: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.5 }],
  ['SGD with momentum', { lr: 0.2, momentum: 0.9 }],
  ['Adam', { kind: 'adam', lr: 0.01 }],
];

// ---- the two-layer net (sparse coding): d = 20, m = 12, a batch of 30

export const d = 20;
export const m = 12;
export const B = 30;

export function twoLayerConfig(optimizer: Record<string, unknown>, threshold?: Record<string, unknown>) {
  return resolveSparseCoding({
    task: { kind: 'sparse-coding', d, trainSize: 100 },
    model: { kind: 'two-layer', width: m, ...(threshold ? { threshold } : {}) },
    train: { batchSize: B, optimizer },
  } as ExperimentInput);
}

/** The batch: x [B, d] ~ 0.4 N(0, 1), its transpose, labels ±1, loss weights 1/B. */
export function twoLayerBatch(stream: string) {
  const rng = RandomStream.derive(5, stream);
  const xs = Float32Array.from({ length: B * d }, () => rng.normal() * 0.4);
  const ys = Float32Array.from({ length: B }, () => rng.sign());
  const x = tf.tensor2d(xs, [B, d]);
  return { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.tensor1d(ys), scale: tf.fill([B], 1 / B) as tf.Tensor1D };
}

// ---- the image MLP: 8 x 8 grey pictures (d = 64), width 20, 10 classes

export const picture = { height: 8, width: 8, channels: 1 };
export const pixels = 64;
export const classes = 10;

export function mlpSpec(activation: 'relu' | 'symmetric-threshold' = 'relu'): MlpModel {
  return { kind: 'mlp', width: 20, activation, thresholdRatio: 0.05, initScale: 1 };
}

/** Eight batches of 30 or 17 pictures with pixels ~ U(0, 1) and classes 0..9, as tensors. */
export function mlpBatches(stream: string) {
  const rng = RandomStream.derive(1, stream);
  return [30, 17, 30, 30, 17, 30, 30, 17].map((n) => {
    const xs = tf.tensor2d(Float32Array.from({ length: n * pixels }, () => rng.uniform()), [n, pixels]);
    return { xs, xT: tf.transpose(xs) as tf.Tensor2D, y: tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes))), scale: tf.fill([n], 1 / n) as tf.Tensor1D };
  });
}
