/**
 * `lab eval` of an MLP saved from PyTorch (../../formats/pytorchMlp.ts) on a dataset file of
 * class-index labels: clean accuracy, every gradient attack of the config over its eps grid and the
 * per-sample worst case, as for a run's image MLP. The shapes decide the model; a model card, or
 * `--set model.activation=...`, says what the tensors cannot (the activation: ReLU by default, as
 * `torch.nn.ReLU`). The dataset carries no data range, so attacks are not clipped to one.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, type ExperimentInput, type MlpModel } from '../../../../shared/config.ts';
import type { ModelSummary } from '../../../../shared/events.ts';
import type { BackendRequest } from '../../../engine/backend/chooseBackend.ts';
import { evaluateModel } from '../../../engine/attacks/evaluate.ts';
import { FileFormatError } from '../../../engine/fileFormatError.ts';
import { Mlp } from '../../../engine/models/mlp.ts';
import { RandomStream } from '../../../engine/random.ts';
import { experimentInput } from '../../experimentInput.ts';
import type { DatasetFile } from '../../formats/datasetFile.ts';
import type { PytorchMlpWeights } from '../../formats/pytorchMlp.ts';
import { prepareBackend } from '../../../engine/backend/prepareBackend.ts';
import type { CliIo } from '../cliIo.ts';
import { backendLine, type CliValues } from '../options.ts';
import { summaryTable } from '../summaryTable.ts';

/** The picture a flat input is, for the neuron pictures: MNIST's and CIFAR-10's sizes, else one row. */
export function pictureOf(d: number): { height: number; width: number; channels: number } {
  if (d === 28 * 28) return { height: 28, width: 28, channels: 1 };
  if (d === 32 * 32 * 3) return { height: 32, width: 32, channels: 3 };
  return { height: 1, width: d, channels: 1 };
}

export async function evalMlp(values: CliValues, io: CliIo, weights: PytorchMlpWeights, data: DatasetFile): Promise<number> {
  const weightsFile = values.weights!;
  const dataFile = values.data!;
  if (data.d !== weights.inputDim) throw new FileFormatError(dataFile, `x has d = ${data.d} columns but fc1.weight in ${weightsFile} expects d = ${weights.inputDim}`);
  if (data.labelKind !== 'classes') throw new FileFormatError(dataFile, `y holds -1/+1 labels: the MLP of ${weightsFile} has ${weights.classes} outputs and needs class indices 0..${weights.classes - 1}`);
  if (data.classes > weights.classes) throw new FileFormatError(dataFile, `y holds class ${data.classes - 1} but the MLP of ${weightsFile} has only ${weights.classes} outputs (fc2.weight)`);

  // The card's MLP, else the shapes with the rest from --set (activation, threshold ratio).
  const input: ExperimentInput = experimentInput({ sets: values.set });
  const given = input.model?.kind === 'mlp' ? input.model : {};
  const model: MlpModel = weights.spec ?? { kind: 'mlp', width: weights.width, activation: 'relu', thresholdRatio: 0.05, initScale: 1, ...given };
  // Only the model and eval parts of this config are used: the task is a stand-in the schema needs.
  const config = resolveExperiment({ ...input, task: { kind: 'mnist', trainSize: 1000 }, model: { ...model, width: weights.width }, eval: { ...input.eval, testSize: 1 } }, 'eval config');

  const { info } = await prepareBackend({ backend: values.backend as BackendRequest | undefined, fused: false });
  io.stdout.write(backendLine(info));
  const mlp = Mlp.fromFlat(config.model as MlpModel, pictureOf(data.d), weights.classes, weights.flat);
  const test = { x: tf.tensor2d(data.x, [data.n, data.d]), y: tf.tensor1d(data.y), n: data.n };
  const unavailable = [
    `the mixture-direction attack and the dictionary instruments: an MLP on ${dataFile} has no dictionary`,
    `clipping to a data range: ${dataFile} carries none, so the attacks move x anywhere in the eps ball`,
  ];
  try {
    const evaluation = evaluateModel(mlp, test, config.eval, { label: 'final', globalEpoch: 0, direction: null, clip: null, rng: RandomStream.derive(config.seed, 'eval.attacks') });
    const worstAt = evaluation.worstCase.accuracy[evaluation.worstCase.eps.indexOf(config.eval.eps)]!;
    const pair = (a: { lower: number; upper: number }) => [a.lower, a.upper] as const;
    const final: ModelSummary = {
      cleanAccuracy: evaluation.cleanAccuracy.estimate,
      robustAccuracy: evaluation.robustAccuracy.estimate,
      worstCaseRobustAccuracy: worstAt.estimate,
      mixtureDirectionAccuracy: NaN,
      mixtureRatioMedian: NaN,
      participationRatioMedian: NaN,
      coherenceMedian: NaN,
      intervals: { cleanAccuracy: pair(evaluation.cleanAccuracy), robustAccuracy: pair(evaluation.robustAccuracy), worstCaseRobustAccuracy: pair(worstAt), mixtureDirectionAccuracy: [NaN, NaN] },
      testSize: data.n,
    };
    io.stdout.write(`\n${summaryTable(config, { final }, evaluation, 'model')}\n`);
    for (const u of unavailable) io.stdout.write(`unavailable: ${u}\n`);
    if (values.json) {
      const logits = Array.from(tf.tidy(() => mlp.predict(test.x)).dataSync());
      writeFileSync(
        values.json,
        JSON.stringify({ weights: weightsFile, data: dataFile, model: config.model, classes: weights.classes, eval: config.eval, backend: info, evaluations: [evaluation], unavailable, summary: { final }, logits }),
      );
      io.stdout.write(`result written to ${values.json}\n`);
    }
    return 0;
  } finally {
    tf.dispose([test.x, test.y]);
    mlp.dispose();
  }
}
