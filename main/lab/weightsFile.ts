/**
 * Weights in and out, as safetensors that PyTorch and NumPy users can load: tensor names follow
 * PyTorch's state_dict convention for the two-layer net,
 *   W [m, d]  first-layer weights (row i = neuron w_i),
 *   a [m]     output weights,
 *   b [m]     thresholds (fixed and learned modes; the relative mode derives b_i = rho ||w_i||),
 * and the model card (architecture, activation, threshold mode and ratio, output weights, config
 * hash, code version) is a JSON string in `__metadata__` under `model_card`.
 */
import type { ImageExperiment, ImageModelSpec, TwoLayerModel } from '../../shared/config.ts';
import { FormatError } from './formats/formatError.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './formats/safetensors.ts';

export interface ModelCard {
  readonly format: 'purification-lab/two-layer';
  readonly architecture: 'two-layer';
  readonly activation: string;
  readonly inputDim: number;
  readonly width: number;
  readonly thresholdMode: TwoLayerModel['threshold']['mode'];
  /** rho of the relative mode. */
  readonly thresholdRatio: number;
  readonly thresholdValue: number;
  readonly outputWeight: TwoLayerModel['outputWeight'];
  readonly initScale: number;
  readonly configHash: string;
  readonly codeVersion: string;
  /** Which weights: init, after-clean or final. */
  readonly checkpoint: string;
}

export interface TwoLayerWeights {
  readonly W: Float32Array;
  readonly a: Float32Array;
  readonly b: Float32Array | null;
  readonly width: number;
  readonly inputDim: number;
  /** null when the file carries no model card (e.g. written by another tool). */
  readonly card: ModelCard | null;
}

export const symmetricThresholdActivation = 's_b(t) = ReLU(t - b) - ReLU(-t - b)';

/** The model card of a two-layer model. */
export function modelCard(model: TwoLayerModel, inputDim: number, extra: { configHash: string; codeVersion: string; checkpoint: string }): ModelCard {
  return {
    format: 'purification-lab/two-layer',
    architecture: 'two-layer',
    activation: symmetricThresholdActivation,
    inputDim,
    width: model.width,
    thresholdMode: model.threshold.mode,
    thresholdRatio: model.threshold.ratio,
    thresholdValue: model.threshold.value,
    outputWeight: model.outputWeight,
    initScale: model.initScale,
    ...extra,
  };
}

export function encodeWeights(card: ModelCard, W: Float32Array, b: Float32Array | null): Uint8Array {
  const m = card.width;
  const aValue = card.outputWeight === 'one' ? 1 : 1 / Math.sqrt(m);
  const tensors: Record<string, NamedTensor> = {
    W: { dtype: 'F32', shape: [m, card.inputDim], data: W },
    a: { dtype: 'F32', shape: [m], data: new Float32Array(m).fill(aValue) },
  };
  if (card.thresholdMode !== 'relative') tensors.b = { dtype: 'F32', shape: [m], data: b ?? new Float32Array(m).fill(card.thresholdValue) };
  return encodeSafetensors(tensors, { model_card: JSON.stringify(card) });
}

function toFloat32(t: NamedTensor, name: string, file: string): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new FormatError(file, `tensor "${name}" is ${t.dtype}: expected F32 or F64`);
}

/** Read two-layer weights; every problem names the file and the tensor. */
export function decodeWeights(bytes: Uint8Array, file: string): TwoLayerWeights {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const Wt = tensors.W;
  if (!Wt) throw new FormatError(file, `no tensor "W" (first-layer weights [m, d]); found ${Object.keys(tensors).join(', ') || 'none'}`);
  if (Wt.shape.length !== 2) throw new FormatError(file, `tensor "W" has shape [${Wt.shape}]: expected [m, d]`);
  const [m, d] = Wt.shape as [number, number];
  let card: ModelCard | null = null;
  if (metadata.model_card) {
    try {
      card = JSON.parse(metadata.model_card) as ModelCard;
    } catch (error) {
      throw new FormatError(file, `the model card is not valid JSON (${(error as Error).message})`);
    }
    if (card.architecture !== 'two-layer') throw new FormatError(file, `the model card describes a "${String(card.architecture)}" model: expected two-layer`);
    if (card.width !== m || card.inputDim !== d) throw new FormatError(file, `the model card says ${card.width} x ${card.inputDim} but W is [${Wt.shape}]`);
  }
  const a = tensors.a ? toFloat32(tensors.a, 'a', file) : null;
  if (a && a.length !== m) throw new FormatError(file, `tensor "a" has ${a.length} values: expected m = ${m}`);
  const b = tensors.b ? toFloat32(tensors.b, 'b', file) : null;
  if (b && b.length !== m) throw new FormatError(file, `tensor "b" has ${b.length} values: expected m = ${m}`);
  if (card && card.thresholdMode !== 'relative' && !b) throw new FormatError(file, `the model card says thresholds are ${card.thresholdMode} but there is no tensor "b"`);
  if (a && a.some((v) => v !== a[0])) throw new FormatError(file, 'tensor "a" has different values per neuron: the two-layer model here has one output weight for all neurons');
  return { W: toFloat32(Wt, 'W', file), a: a ?? new Float32Array(m).fill(1), b, width: m, inputDim: d, card };
}

/** The model card of an image model (MLP or CNN): the architecture as configured, and the layouts. */
export interface ImageModelCard {
  readonly format: 'purification-lab/image-model';
  readonly architecture: 'mlp' | 'cnn';
  readonly model: ImageModelSpec;
  readonly task: string;
  readonly classes: readonly string[] | null;
  /** How tensors are laid out, in words. */
  readonly layout: string;
  readonly configHash: string;
  readonly codeVersion: string;
  readonly checkpoint: string;
}

export function imageModelCard(config: ImageExperiment, extra: { configHash: string; codeVersion: string; checkpoint: string }): ImageModelCard {
  return {
    format: 'purification-lab/image-model',
    architecture: config.model.kind,
    model: config.model,
    task: config.task.kind,
    classes: config.task.classes?.map(String) ?? null,
    layout:
      config.model.kind === 'mlp'
        ? "PyTorch's: fc1.weight [m, d] (row i = neuron i, a flattened H x W x C picture), fc1.bias [m], fc2.weight [C, m], fc2.bias [C]; inputs in [0, 1], channel last"
        : "TensorFlow's: conv*.weight [k, k, Cin, Cout] (HWIO), conv*.bias [Cout], fc.weight [F, C], fc.bias [C]; inputs [H, W, C] in [0, 1]",
    ...extra,
  };
}

/** An image model's parameters as safetensors, the card in `__metadata__.model_card`. */
export function encodeImageWeights(card: ImageModelCard, tensors: readonly { name: string; shape: readonly number[]; data: Float32Array }[]): Uint8Array {
  const named: Record<string, NamedTensor> = {};
  for (const t of tensors) named[t.name] = { dtype: 'F32', shape: [...t.shape], data: t.data };
  return encodeSafetensors(named, { model_card: JSON.stringify(card) });
}
