/**
 * `lab eval --weights FILE --data FILE`: evaluate any saved two-layer model, or an MLP saved from
 * PyTorch (./evalMlp.ts; the tensor names decide), on any dataset file,
 * with every attack of the config over its eps grid, the per-sample worst case, and, when the
 * dataset carries its dictionary M and teacher w*, the mixture-direction attack and the
 * dictionary instruments. Its JSON has the same `summary.final` keys as `run`.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding, type ExperimentInput, type TwoLayerModel } from '../../../../shared/config.ts';
import type { BackendRequest } from '../../../engine/backend/chooseBackend.ts';
import { evaluateModel } from '../../../engine/attacks/evaluate.ts';
import { modelSummary } from '../../../engine/experiment/measurements.ts';
import { instrumentSnapshot } from '../../../engine/instruments/snapshot.ts';
import { TwoLayerNet } from '../../../engine/models/twoLayerNet.ts';
import { RandomStream } from '../../../engine/random.ts';
import { mixtureDirection } from '../../../engine/tasks/sparseCoding.ts';
import { experimentInput } from '../../experimentInput.ts';
import { FileFormatError } from '../../../engine/fileFormatError.ts';
import { readDatasetFile } from '../../formats/datasetFile.ts';
import { readInputFile } from '../../formats/inputFile.ts';
import { prepareBackend } from '../../../engine/backend/prepareBackend.ts';
import { decodeWeights } from '../../weightsFile.ts';
import { decodePytorchMlp, readWeightTensors, weightsKind } from '../../formats/pytorchMlp.ts';
import { evalMlp } from './evalMlp.ts';
import { backendLine, type Verb } from '../options.ts';
import { summaryTable } from '../summaryTable.ts';
import { UsageError } from '../usage.ts';

export const evalVerb: Verb = async (values, rest, io) => {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (!values.weights || !values.data) throw new UsageError('eval needs --weights FILE and --data FILE');
  const bytes = readInputFile(values.weights, 'the weights');
  // The tensor names decide the model: the paper's two-layer net (W, a, b) or a PyTorch MLP (fc1.*, fc2.*).
  const tensors = readWeightTensors(bytes, values.weights);
  if (weightsKind([...tensors.tensors.keys()], values.weights) === 'mlp') return evalMlp(values, io, decodePytorchMlp(tensors, values.weights), readDatasetFile(values.data));
  const weights = decodeWeights(bytes, values.weights);
  const data = readDatasetFile(values.data);
  if (data.d !== weights.inputDim) throw new FileFormatError(values.data, `x has d = ${data.d} columns but the weights in ${values.weights} expect d = ${weights.inputDim}`);
  if (data.labelKind !== 'binary') throw new FileFormatError(values.data, `y holds ${data.classes} classes: the two-layer model is a binary classifier and needs labels -1/+1`);

  // The model as the card describes it; --set may fill in what a card-less file cannot say.
  const card = weights.card;
  let input: ExperimentInput = experimentInput({ sets: values.set });
  const model: ExperimentInput['model'] = card
    ? { kind: 'two-layer', width: card.width, outputWeight: card.outputWeight, initScale: card.initScale, threshold: { mode: card.thresholdMode, ratio: card.thresholdRatio, value: card.thresholdValue } }
    : { ...(input.model ?? { kind: 'two-layer' }), kind: 'two-layer', width: weights.width };
  input = { ...input, model, task: { ...(input.task ?? { kind: 'sparse-coding' }), kind: 'sparse-coding', d: data.d, trainSize: Math.max(input.train?.batchSize ?? 100, 100) }, eval: { ...input.eval, testSize: data.n } };
  const config = resolveSparseCoding(input, 'eval config');
  if (!card && weights.a[0] !== (config.model.outputWeight === 'one' ? 1 : 1 / Math.sqrt(weights.width))) {
    io.stderr.write(`note: ${values.weights} has no model card; its output weight a = ${weights.a[0]} does not match model.outputWeight = ${config.model.outputWeight}\n`);
  }

  const { info, hooks } = await prepareBackend({ backend: values.backend as BackendRequest | undefined, fused: !values['no-fused'] });
  io.stdout.write(backendLine(info));
  const net = TwoLayerNet.fromWeights(config.model as TwoLayerModel, data.d, weights.W, weights.b);
  net.inputGradientProvider = hooks.inputGradientProvider ?? null;
  const test = { x: tf.tensor2d(data.x, [data.n, data.d]), y: tf.tensor1d(data.y), n: data.n };
  const unavailable: string[] = [];
  const hasDictionary = data.dictionary !== undefined && data.teacher !== undefined && data.atoms !== undefined;
  if (!hasDictionary) unavailable.push(`the mixture-direction attack and the dictionary instruments (mixture ratio, participation ratio, coherence): ${values.data} has no M and wstar`);
  const dictionary = hasDictionary ? { dictionary: data.dictionary!, teacher: data.teacher!, d: data.d, atoms: data.atoms! } : null;
  try {
    const evaluation = evaluateModel(net, test, config.eval, {
      label: 'final',
      globalEpoch: 0,
      direction: dictionary ? mixtureDirection(dictionary, config.eval.norm) : null,
      clip: null,
      rng: RandomStream.derive(config.seed, 'eval.attacks'),
    });
    const instruments = dictionary ? instrumentSnapshot(net.weights(), net.width, net.inputDim, dictionary, { principalAtoms: config.instruments.principalAtoms, withCoefficients: true, phase: 'init', epoch: 0, globalEpoch: 0 }) : null;
    const final = modelSummary(evaluation, instruments, config.eval.eps);
    io.stdout.write(`\n${summaryTable(config, { final }, evaluation, 'model')}\n`);
    for (const u of unavailable) io.stdout.write(`unavailable: ${u}\n`);
    if (values.json) {
      writeFileSync(values.json, JSON.stringify({ weights: values.weights, data: values.data, modelCard: card, config, backend: info, evaluations: [evaluation], instruments: instruments ? [instruments] : [], unavailable, summary: { final } }));
      io.stdout.write(`result written to ${values.json}\n`);
    }
    return 0;
  } finally {
    tf.dispose([test.x, test.y]);
    net.dispose();
  }
};
