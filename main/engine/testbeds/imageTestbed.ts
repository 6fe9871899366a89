/**
 * The real-image testbed: MNIST or CIFAR-10 (../tasks/imageTask.ts), an MLP or a CNN trained
 * with softmax cross-entropy, attacks clipped to the data range [0, 1], and the picture
 * instruments (roughness of every first-layer unit, the shown units as images, every layer's
 * relative change). The kernels the model needs are checked against the backend before anything
 * runs (../backend/kernelPlan.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageExperiment } from '../../../shared/config.ts';
import { createFusedImageTrainer } from '../training/fusedImageTrainer.ts';
import { createImageTrainer } from '../training/imageTrainer.ts';
import { createLowRankMlpTrainer } from '../training/lowRankMlpTrainer.ts';
import { loadFusedKernelsSync } from '../kernels/fusedKernels.ts';
import { layerChanges, pictureSnapshot } from '../instruments/neuronPictures.ts';
import { describePlan, planKernels } from '../backend/kernelPlan.ts';
import { runKernels } from '../backend/runKernels.ts';
import { Cnn } from '../models/cnn.ts';
import type { ImageModel } from '../models/imageModel.ts';
import { flatten } from '../models/imageModel.ts';
import { Mlp } from '../models/mlp.ts';
import { imageTask } from '../tasks/imageTask.ts';
import type { Testbed } from './testbed.ts';
import type { ImageHotPath } from '../experiment/hooks.ts';

export function imageTestbed(config: ImageExperiment, backend: { name: string; forced: boolean; fusedKernels: boolean }, hotPath?: ImageHotPath): Testbed {
  const spec = config.model;
  const plan = planKernels(runKernels(spec.kind), backend.name, { forced: backend.forced });
  const data = imageTask(config.task, config.eval.testSize);
  const picture = { height: data.height, width: data.width, channels: data.channels };
  const model: ImageModel =
    spec.kind === 'mlp'
      ? Mlp.initialise(spec, picture, data.classes, config.seed)
      : Cnn.initialise(spec, picture, data.classes, config.seed, plan.substituted.some((s) => s.kernel === 'Conv2DBackpropFilter'));
  const kernels = backend.fusedKernels ? loadFusedKernelsSync() : null;
  model.pgdKernels = kernels;
  if (hotPath && model instanceof Mlp) {
    model.inputGradientProvider = hotPath.mlpInputGradientProvider;
    model.inputGradientSource = hotPath.mlpInputGradientSource ?? null;
  }
  const test = { x: tf.tensor2d(data.test.x, [data.test.n, data.test.d]), y: tf.tensor1d(data.test.y), n: data.test.n };
  const weights = () => flatten(model.exportParameters());
  const note = describePlan(plan);
  // Low-rank fine-tuning (../training/lowRankMlpTrainer.ts): the MLP's adversarial phase of the fine-tune protocol.
  const lowRankRank = config.train.lowRank.rank;
  const lowRank = lowRankRank !== null && config.train.protocol === 'fine-tune' && model instanceof Mlp ? { model, rank: lowRankRank } : null;
  // That phase has no fused or threaded trainer: say which path trains it.
  const lowRankNote = lowRank
    ? `train.lowRank.rank = ${lowRank.rank}: the adversarial phase trains fc1.weight = W1 + U V^T (rank ${Math.min(lowRank.rank, lowRank.model.inputDim, lowRank.model.width)}) on the generic tfjs path; the clean phase trains on the backend's path, and the attacks run on it throughout`
    : null;
  return {
    model,
    train: data.train,
    test,
    clip: data.dataRange,
    direction: null,
    picture,
    dictionary: null,
    predict: (x) => Int32Array.from(tf.tidy(() => tf.argMax(model.predict(x), 1)).dataSync()),
    notes: [note, lowRankNote].filter((n) => n !== null),
    weights,
    thresholds: () => null,
    restore(W) {
      if (W.length !== model.parameterCount) {
        throw new Error(`The checkpoint holds ${W.length} weights: expected ${model.parameterCount} for this ${spec.kind} (${model.parameterNames.join(', ')})`);
      }
      model.importFlat(W);
    },
    createTrainer(phase) {
      if (lowRank && phase === 'adversarial') return createLowRankMlpTrainer(lowRank.model, config, lowRank.rank);
      return hotPath?.makeTrainer(model, config) ?? (kernels ? createFusedImageTrainer(model, config, kernels) : createImageTrainer(model, config));
    },
    snapshot(W0, options) {
      const W = weights();
      return pictureSnapshot(model.firstLayerOf(W), layerChanges(model.weightLayersOf(W), model.weightLayersOf(W0)), {
        shownUnits: config.instruments.shownUnits,
        withImages: options.detailed,
        phase: options.phase,
        epoch: options.epoch,
        globalEpoch: options.globalEpoch,
      });
    },
    silentFraction: (x) => model.silentFraction(x),
    firstLayer(W) {
      const first = model.firstLayerOf(W);
      return { layer: model.parameterNames[0]!, rows: first.units, cols: first.height * first.width * first.channels, values: first.values };
    },
    weightLayers: (W) => model.weightLayersOf(W),
    modelWeights: () => ({ kind: 'image', tensors: model.exportParameters() }),
    dispose() {
      model.dispose();
      tf.dispose([test.x, test.y]);
    },
  };
}
