/**
 * A testbed: one task with the model trained on it and the instruments that read that model,
 * behind one interface, so that the protocols, the epoch loop, evaluations, checkpoints and
 * resume (../experiment.ts) are the same for the synthetic sparse-coding task with the paper's
 * two-layer network and for real images with an MLP or a CNN. A testbed owns its data, its model,
 * the trainer of each phase and its instruments.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { InstrumentsEvent, Phase } from '../../../shared/events.ts';
import type { TestSet } from '../attacks/evaluate.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { HostTensor, WeightLayer } from '../models/imageModel.ts';
import type { Dataset } from '../tasks/dataset.ts';
import type { Trainer } from '../training/trainer.ts';

/** A model's weights as handed to the `onWeights` hook (the run store writes them as safetensors). */
export type ModelWeights =
  | { readonly kind: 'two-layer'; readonly W: Float32Array; readonly b: Float32Array | null }
  | { readonly kind: 'image'; readonly tensors: readonly HostTensor[] };

export interface Testbed {
  readonly model: MarginModel;
  readonly train: Dataset;
  readonly test: TestSet;
  /** The data range attacks clip to (images), or null. */
  readonly clip: readonly [number, number] | null;
  /** The mixture direction of the evaluation norm (sparse coding), or null. */
  readonly direction: Float32Array | null;
  /** Image tasks: how an input row reshapes to a picture (row-major, channel last); null for vectors. */
  readonly picture: { readonly height: number; readonly width: number; readonly channels: number } | null;
  /** Sparse coding: the dictionary M [d, atoms] row-major, for M^T v; null for images. */
  readonly dictionary: { readonly values: Float64Array; readonly d: number; readonly atoms: number } | null;
  /** The predicted labels of a batch: argmax of the logits, or sign f(x) for the binary net (0 where f(x) = 0). */
  predict(x: tf.Tensor2D): Int32Array;
  /** Things the run should say once at its start (e.g. a kernel computed another way). */
  readonly notes: readonly string[];
  /** Every trained value, flat: what checkpoints hold as W. */
  weights(): Float32Array;
  /** Thresholds b of the two-layer net's fixed and learned modes, else null. */
  thresholds(): Float32Array | null;
  /** Continue from checkpointed weights (throws, naming the sizes, when they do not fit the config). */
  restore(W: Float32Array, b: Float32Array | null): void;
  /** The trainer of a phase. */
  createTrainer(phase: Phase): Trainer;
  /** One instruments snapshot of the current weights; `detailed` adds the matrices or pictures. */
  snapshot(W0: Float32Array, options: { phase: Phase | 'init'; epoch: number; globalEpoch: number; detailed: boolean }): InstrumentsEvent;
  /** Share of samples on which every hidden unit is silent. */
  silentFraction(x: tf.Tensor2D): number;
  /**
   * Optional: the margins of (x, y) and the silent share of x from one forward pass, the same
   * numbers as model.margins and silentFraction (the epoch's metrics need both).
   */
  cleanPass?(x: tf.Tensor2D, y: tf.Tensor1D): { margins: Float32Array; silentFraction: number };
  /** The first layer [units, fan-in] of a flat weight vector: what the decomposition reads. */
  firstLayer(W: Float32Array): WeightLayer;
  /** Every weight layer of a flat weight vector (the two-layer net has one). */
  weightLayers(W: Float32Array): WeightLayer[];
  /** The weights for the `onWeights` hook. */
  modelWeights(): ModelWeights;
  dispose(): void;
}
