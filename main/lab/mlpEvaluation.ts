/**
 * The evaluation of an MLP saved from PyTorch (./formats/pytorchMlp.ts) on a dataset file of
 * class-index labels, as `lab eval` prints it and the UI's "Weights and datasets" panel shows it:
 * clean accuracy, every gradient attack of the config over its eps grid with the per-sample worst
 * case (the robust curves), the picture instruments of its first layer (the hidden units as images
 * and their roughness) and the adversarial pictures of the config's eval.pictures samples. The
 * shapes decide the model; a model card, or `model.activation` in `input`, says what the tensors
 * cannot (ReLU by default, as `torch.nn.ReLU`). A dataset file carries no data range, so attacks
 * are not clipped to one. The backend must be ready (the CLI's or a job worker's).
 */
import * as tf from '@tensorflow/tfjs-core';
import { picturesOf, resolveExperiment, type ExperimentInput, type MlpModel } from '../../shared/config.ts';
import type { FileEvaluation } from '../../shared/fileEvaluation.ts';
import { adversarialPictures, pictureIndices } from '../engine/attacks/adversarialPictures.ts';
import { evaluateModel } from '../engine/attacks/evaluate.ts';
import { modelSummary } from '../engine/experiment/measurements.ts';
import { transferAttackOf } from '../engine/attacks/transfer.ts';
import { FileFormatError } from '../engine/fileFormatError.ts';
import { layerChanges, pictureSnapshot } from '../engine/instruments/neuronPictures.ts';
import { Mlp } from '../engine/models/mlp.ts';
import { adversarialPicturesStreamName, RandomStream } from '../engine/random.ts';
import type { DatasetFile } from './formats/datasetFile.ts';
import type { PytorchMlpWeights } from './formats/pytorchMlp.ts';

/** The picture a flat input is, for the neuron pictures: MNIST's and CIFAR-10's sizes, else one row. */
export function pictureOf(d: number): { height: number; width: number; channels: number } {
  if (d === 28 * 28) return { height: 28, width: 28, channels: 1 };
  if (d === 32 * 32 * 3) return { height: 32, width: 32, channels: 3 };
  return { height: 1, width: d, channels: 1 };
}

/** What the evaluation holds (shared/fileEvaluation.ts). */
export type MlpEvaluation = FileEvaluation;

export function evaluateMlpFile(
  weights: PytorchMlpWeights,
  data: DatasetFile,
  input: ExperimentInput,
  names: { readonly weights: string; readonly data: string },
  options: { readonly logits?: boolean } = {},
): MlpEvaluation {
  if (data.d !== weights.inputDim) throw new FileFormatError(names.data, `x has d = ${data.d} columns but fc1.weight in ${names.weights} expects d = ${weights.inputDim}`);
  if (data.labelKind !== 'classes') throw new FileFormatError(names.data, `y holds -1/+1 labels: the MLP of ${names.weights} has ${weights.classes} outputs and needs class indices 0..${weights.classes - 1}`);
  if (data.classes > weights.classes) throw new FileFormatError(names.data, `y holds class ${data.classes - 1} but the MLP of ${names.weights} has only ${weights.classes} outputs (fc2.weight)`);

  // The card's MLP, else the shapes with the rest from the input (activation, threshold ratio).
  const given = input.model?.kind === 'mlp' ? input.model : {};
  const model: MlpModel = weights.spec ?? { kind: 'mlp', width: weights.width, activation: 'relu', thresholdRatio: 0.05, initScale: 1, ...given };
  const config = resolveExperiment({ ...input, task: { kind: 'mnist', trainSize: 1000 }, model: { ...model, width: weights.width }, eval: { ...input.eval, testSize: data.n } }, 'eval config');

  const picture = pictureOf(data.d);
  const mlp = Mlp.fromFlat(config.model as MlpModel, picture, weights.classes, weights.flat);
  const test = { x: tf.tensor2d(data.x, [data.n, data.d]), y: tf.tensor1d(data.y), n: data.n };
  const unavailable = [
    `the mixture-direction attack and the dictionary instruments: an MLP on ${names.data} has no dictionary`,
    `clipping to a data range: ${names.data} carries none, so the attacks move x anywhere in the eps ball`,
  ];
  try {
    const evaluation = evaluateModel(mlp, test, config.eval, { label: 'final', globalEpoch: 0, direction: null, clip: null, rng: RandomStream.derive(config.seed, 'eval.attacks') });
    // No dictionary: the mixture-direction accuracy and the dictionary medians are unavailable (NaN).
    const final = modelSummary(evaluation, null, config.eval.eps);
    // The imported weights are the only snapshot: each layer's change is against itself (0).
    const layers = mlp.weightLayersOf(weights.flat);
    const instruments = pictureSnapshot(mlp.firstLayerOf(weights.flat), layerChanges(layers, layers), {
      shownUnits: config.instruments.shownUnits,
      withImages: true,
      phase: 'init',
      epoch: 0,
      globalEpoch: 0,
    });
    const attack = transferAttackOf(config.eval.attacks);
    const pictures = picturesOf(config.eval);
    const chosen = pictureIndices(data.y, pictures.count, pictures.indices);
    const adversarial =
      attack && chosen.length > 0
        ? adversarialPictures(
            {
              model: mlp,
              test,
              picture: picture.height > 1 ? picture : null,
              dictionary: null,
              direction: null,
              predict: (x) => Int32Array.from(tf.tidy(() => tf.argMax(mlp.predict(x), 1)).dataSync()),
            },
            [{ label: 'model', activate: () => {} }],
            chosen,
            attack,
            { eps: config.eval.eps, norm: config.eval.norm, clip: null, rng: RandomStream.derive(config.seed, adversarialPicturesStreamName) },
          )
        : null;
    return {
      weights: names.weights,
      data: names.data,
      config,
      classes: weights.classes,
      evaluation,
      summary: { final },
      instruments: [instruments],
      adversarial,
      unavailable,
      ...(options.logits ? { logits: Array.from(tf.tidy(() => mlp.predict(test.x)).dataSync()) } : {}),
    };
  } finally {
    tf.dispose([test.x, test.y]);
    mlp.dispose();
  }
}
