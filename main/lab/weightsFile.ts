/**
 * Weights in and out, as safetensors that PyTorch and NumPy users can load: tensor names follow
 * PyTorch's state_dict convention for the two-layer net,
 *   W [m, d]  first-layer weights (row i = neuron w_i),
 *   a [m]     output weights,
 *   b [m]     thresholds (fixed and learned modes; the relative mode derives b_i = rho ||w_i||),
 * and the model card (architecture, activation, threshold mode and ratio, output weights, config
 * hash, code version) is a JSON string in `__metadata__` under `model_card`.
 */
import { z } from 'zod';
import { limits, type ImageExperiment, type ImageModelSpec, type TwoLayerModel } from '../../shared/config.ts';
import { requireFinite } from './formats/finiteValues.ts';
import { FileFormatError } from '../engine/fileFormatError.ts';
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

/**
 * The model card as read: every field present, none unknown, each number in the experiment
 * schema's range (shared/config.ts), so a card cannot describe a model no run could train.
 */
const modelCardSchema = z.strictObject({
  format: z.literal('purification-lab/two-layer'),
  architecture: z.literal('two-layer'),
  activation: z.string(),
  inputDim: z.number().int().min(1).max(limits.dimension),
  width: z.number().int().min(1).max(limits.width),
  thresholdMode: z.enum(['relative', 'fixed', 'learned']),
  thresholdRatio: z.number().min(0).max(limits.thresholdRatio),
  thresholdValue: z.number().min(0).max(1e6),
  outputWeight: z.enum(['one', 'inv-sqrt-width']),
  initScale: z.number().positive().max(limits.initScale),
  configHash: z.string(),
  codeVersion: z.string(),
  checkpoint: z.string(),
}) satisfies z.ZodType<ModelCard>;

/** The card in `text` (JSON), checked; every problem is listed, missing and unknown fields by name. */
function parseModelCard(text: string, file: string): ModelCard {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `the model card is not valid JSON (${(error as Error).message})`);
  }
  const record = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  // Another model's card (an image model's, say) is named as such, not as a list of field problems.
  if (record.architecture !== undefined && record.architecture !== 'two-layer') {
    throw new FileFormatError(file, `the model card describes a "${String(record.architecture)}" model: expected two-layer`);
  }
  const parsed = modelCardSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const missing: string[] = [];
  const unknown: string[] = [];
  const wrong: string[] = [];
  for (const issue of parsed.error.issues) {
    const field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') unknown.push(...issue.keys);
    else if (issue.path.length === 1 && !Object.hasOwn(record, field)) missing.push(field);
    else wrong.push(`${field || '(the card)'} = ${JSON.stringify(issue.path.length === 1 ? record[field] : value)}: ${issue.message.replace(/^Invalid input: /, '')}`);
  }
  const parts = [
    missing.length > 0 ? `missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : '',
    unknown.length > 0 ? `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : '',
    ...wrong,
  ].filter(Boolean);
  throw new FileFormatError(file, `the model card is not valid: ${parts.join('; ')}`);
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
  throw new FileFormatError(file, `tensor "${name}" is ${t.dtype}: expected F32 or F64`);
}

/** Read two-layer weights; every problem names the file and the tensor. */
export function decodeWeights(bytes: Uint8Array, file: string): TwoLayerWeights {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const Wt = tensors.W;
  if (!Wt) throw new FileFormatError(file, `no tensor "W" (first-layer weights [m, d]); found ${Object.keys(tensors).join(', ') || 'none'}`);
  if (Wt.shape.length !== 2) throw new FileFormatError(file, `tensor "W" has shape [${Wt.shape}]: expected [m, d]`);
  const [m, d] = Wt.shape as [number, number];
  if (m < 1 || m > limits.width || d < 1 || d > limits.dimension) {
    throw new FileFormatError(file, `tensor "W" has shape [${Wt.shape}]: expected 1 to ${limits.width} neurons of 1 to ${limits.dimension} inputs`);
  }
  let card: ModelCard | null = null;
  if (metadata.model_card) {
    card = parseModelCard(metadata.model_card, file);
    if (card.width !== m || card.inputDim !== d) throw new FileFormatError(file, `the model card says ${card.width} x ${card.inputDim} but W is [${Wt.shape}]`);
  }
  const W = toFloat32(Wt, 'W', file);
  requireFinite('W', W, Wt.shape, file, Wt.data);
  const a = tensors.a ? toFloat32(tensors.a, 'a', file) : null;
  if (a && a.length !== m) throw new FileFormatError(file, `tensor "a" has ${a.length} values: expected m = ${m}`);
  if (a && tensors.a) requireFinite('a', a, tensors.a.shape, file, tensors.a.data);
  const b = tensors.b ? toFloat32(tensors.b, 'b', file) : null;
  if (b && b.length !== m) throw new FileFormatError(file, `tensor "b" has ${b.length} values: expected m = ${m}`);
  if (b && tensors.b) {
    requireFinite('b', b, tensors.b.shape, file, tensors.b.data);
    const negative = b.findIndex((v) => v < 0);
    if (negative >= 0) throw new FileFormatError(file, `b[${negative}] = ${b[negative]}: a threshold must be >= 0`);
  }
  if (card && card.thresholdMode !== 'relative' && !b) throw new FileFormatError(file, `the model card says thresholds are ${card.thresholdMode} but there is no tensor "b"`);
  if (a && a.some((v) => v !== a[0])) throw new FileFormatError(file, 'tensor "a" has different values per neuron: the two-layer model here has one output weight for all neurons');
  return { W, a: a ?? new Float32Array(m).fill(1), b, width: m, inputDim: d, card };
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
