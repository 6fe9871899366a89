/**
 * `model.init.file`: the weights a run starts from instead of its seeded init, read and checked
 * against the config before anything trains, so a file of the wrong shape is named with what the
 * config expects. The two-layer net takes W [m, d] (and b for fixed and learned thresholds); an
 * MLP takes PyTorch's fc1.weight [m, d], fc1.bias, fc2.weight [C, m], fc2.bias, the flat layout
 * of its checkpoints (../engine/models/mlp.ts).
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import { classCount, inputDim } from '../../shared/modelSize.ts';
import type { InitialWeights } from '../engine/experiment/hooks.ts';
import { FileFormatError } from '../engine/fileFormatError.ts';
import { readInputFile } from './formats/inputFile.ts';
import { decodePytorchMlp, readWeightTensors, weightsKind } from './formats/pytorchMlp.ts';
import { decodeWeights } from './weightsFile.ts';

/** The starting weights `config.model.init.file` names, or undefined when the model starts from its seeded init. */
export function initialWeightsOf(config: ResolvedExperiment): InitialWeights | undefined {
  const model = config.model;
  const file = model.kind === 'cnn' ? undefined : model.init?.file;
  if (file === undefined || model.kind === 'cnn') return undefined;
  const bytes = readInputFile(file, 'the initial weights (model.init.file)');
  const tensors = readWeightTensors(bytes, file);
  const kind = weightsKind([...tensors.tensors.keys()], file);
  const d = inputDim(config);
  if (model.kind === 'two-layer') {
    if (kind !== 'two-layer') throw new FileFormatError(file, `model.init.file holds an MLP (fc1.*, fc2.*): this config's model is the two-layer net, which starts from W [m, d]`);
    const w = decodeWeights(bytes, file);
    if (w.width !== model.width || w.inputDim !== d) throw new FileFormatError(file, `W is [${w.width}, ${w.inputDim}]: model.init.file must fit this config, [model.width, d] = [${model.width}, ${d}]`);
    const b = model.threshold.mode === 'relative' ? null : (w.b ?? new Float32Array(w.width).fill(model.threshold.value));
    return { W: w.W, b };
  }
  if (kind !== 'mlp') throw new FileFormatError(file, `model.init.file holds the two-layer net (W): this config's model is an MLP, which starts from fc1.weight, fc1.bias, fc2.weight, fc2.bias`);
  const mlp = decodePytorchMlp(tensors, file);
  const classes = classCount(config);
  if (mlp.width !== model.width || mlp.inputDim !== d || mlp.classes !== classes) {
    throw new FileFormatError(
      file,
      `fc1.weight is [${mlp.width}, ${mlp.inputDim}] and fc2.weight [${mlp.classes}, ${mlp.width}]: model.init.file must fit this config, fc1.weight [model.width, d] = [${model.width}, ${d}] and fc2.weight [${classes}, ${model.width}] (${classes} classes)`,
    );
  }
  return { W: mlp.flat, b: null };
}
