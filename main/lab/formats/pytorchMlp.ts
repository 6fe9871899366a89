/**
 * A two-layer MLP saved from PyTorch: its state_dict's tensors under PyTorch's names,
 *   fc1.weight [m, d]  (row i = hidden unit i),  fc1.bias [m],
 *   fc2.weight [C, m],                           fc2.bias [C],
 * for logits = fc2(relu(fc1(x))) over C >= 2 classes: the layout the image model card names, and
 * the flat layout of the image MLP's checkpoints (../../engine/models/mlp.ts `fromFlat`). The
 * file is a .safetensors or a NumPy .npz (`numpy.savez(path, **{k: v.numpy() for k, v in
 * model.state_dict().items()})`); a model card (`model_card` in the safetensors metadata) is
 * optional. Any other tensor is refused by name, so a deeper net is never read as a shallower one.
 */
import { limits, type MlpModel } from '../../../shared/config.ts';
import { FileFormatError } from '../../engine/fileFormatError.ts';
import type { ElementArray } from './elements.ts';
import { requireFinite } from './finiteValues.ts';
import { decodeNpz } from './npz.ts';
import { decodeSafetensors } from './safetensors.ts';

/** The tensor names of the MLP, in the order of its flat parameter vector. */
export const pytorchMlpNames = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'] as const;

/** A weights file's tensors, whichever container held them. */
export interface WeightTensors {
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ElementArray; readonly dtype: string }>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PytorchMlpWeights {
  readonly inputDim: number;
  readonly width: number;
  readonly classes: number;
  /** fc1.weight, fc1.bias, fc2.weight, fc2.bias concatenated, each row-major as PyTorch holds it. */
  readonly flat: Float32Array;
  /** The MLP as the file's model card describes it (activation, threshold ratio), or null without a card. */
  readonly spec: MlpModel | null;
}

/** The tensors of a .npz (by extension) or .safetensors file. */
export function readWeightTensors(bytes: Uint8Array, file: string): WeightTensors {
  if (file.toLowerCase().endsWith('.npz')) {
    return { tensors: new Map(Object.entries(decodeNpz(bytes, file))), metadata: {} };
  }
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  return { tensors: new Map(Object.entries(tensors)), metadata };
}

/** Which model a file holds, decided by its tensor names: the paper's two-layer net (W, a, b) or a PyTorch MLP (fc1.*, fc2.*). */
export function weightsKind(names: readonly string[], file: string): 'two-layer' | 'mlp' {
  const twoLayer = names.includes('W');
  const mlp = names.some((n) => n.startsWith('fc'));
  if (twoLayer && mlp) throw new FileFormatError(file, 'it holds both "W" (the two-layer net) and fc* tensors (an MLP): expected one model');
  if (twoLayer) return 'two-layer';
  if (mlp) return 'mlp';
  throw new FileFormatError(
    file,
    `no model in it: expected the two-layer net's "W" [m, d] (with "a", "b"), or an MLP's ${pytorchMlpNames.join(', ')}; found ${names.slice(0, 10).join(', ') || 'no tensors'}`,
  );
}

function floats(name: string, t: { shape: readonly number[]; data: ElementArray; dtype: string }, file: string): Float32Array {
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) throw new FileFormatError(file, `tensor "${name}" is ${t.dtype}: expected float32 or float64`);
  const values = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  requireFinite(name, values, t.shape, file, t.data);
  return values;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The MLP in `weights`, every name and shape checked; each problem names the file and the tensor. */
export function decodePytorchMlp(weights: WeightTensors, file: string): PytorchMlpWeights {
  const { tensors } = weights;
  const extra = [...tensors.keys()].filter((n) => !(pytorchMlpNames as readonly string[]).includes(n));
  if (extra.length > 0) {
    throw new FileFormatError(file, `tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((n) => `"${n}"`).join(', ')} not part of the two-layer MLP (${pytorchMlpNames.join(', ')}): deeper nets are not supported`);
  }
  const missing = pytorchMlpNames.filter((n) => !tensors.has(n));
  if (missing.length > 0) throw new FileFormatError(file, `no tensor${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')}: the MLP needs ${pytorchMlpNames.join(', ')}`);
  const [w1, b1, w2, b2] = pytorchMlpNames.map((n) => tensors.get(n)!);
  if (w1!.shape.length !== 2) throw new FileFormatError(file, `tensor "fc1.weight" has shape ${shapeText(w1!.shape)}: expected [m, d]`);
  const [m, d] = w1!.shape as [number, number];
  if (m < 1 || m > limits.width || d < 1 || d > limits.dimension) {
    throw new FileFormatError(file, `tensor "fc1.weight" has shape ${shapeText(w1!.shape)}: expected 1 to ${limits.width} units of 1 to ${limits.dimension} inputs`);
  }
  if (b1!.shape.length !== 1 || b1!.shape[0] !== m) throw new FileFormatError(file, `tensor "fc1.bias" has shape ${shapeText(b1!.shape)}: expected [${m}] (m from fc1.weight)`);
  if (w2!.shape.length !== 2 || w2!.shape[1] !== m) throw new FileFormatError(file, `tensor "fc2.weight" has shape ${shapeText(w2!.shape)}: expected [C, ${m}] (m from fc1.weight)`);
  const classes = w2!.shape[0]!;
  if (classes < 2 || classes > 1000) throw new FileFormatError(file, `tensor "fc2.weight" has shape ${shapeText(w2!.shape)}: expected 2 to 1000 classes`);
  if (b2!.shape.length !== 1 || b2!.shape[0] !== classes) throw new FileFormatError(file, `tensor "fc2.bias" has shape ${shapeText(b2!.shape)}: expected [${classes}] (C from fc2.weight)`);
  const parts = pytorchMlpNames.map((n) => floats(n, tensors.get(n)!, file));
  const flat = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    flat.set(p, at);
    at += p.length;
  }
  return { inputDim: d, width: m, classes, flat, spec: cardSpec(weights.metadata.model_card, m, file) };
}

/** The MLP a purification-lab image model card describes, checked against the tensors; null without a card. */
function cardSpec(text: string | undefined, width: number, file: string): MlpModel | null {
  if (text === undefined) return null;
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `the model card is not valid JSON (${(error as Error).message})`);
  }
  const model = (card as { model?: Partial<MlpModel> } | null)?.model;
  if (!model || model.kind !== 'mlp') throw new FileFormatError(file, `the model card does not describe an MLP (its "model.kind" is ${JSON.stringify(model?.kind)})`);
  if (model.width !== width) throw new FileFormatError(file, `the model card says width ${String(model.width)} but fc1.weight has ${width} units`);
  if (model.activation !== 'relu' && model.activation !== 'symmetric-threshold') throw new FileFormatError(file, `the model card's activation ${JSON.stringify(model.activation)}: expected relu or symmetric-threshold`);
  const ratio = model.thresholdRatio ?? 0;
  if (!(typeof ratio === 'number' && ratio >= 0 && ratio <= limits.thresholdRatio)) throw new FileFormatError(file, `the model card's thresholdRatio ${JSON.stringify(ratio)}: expected 0 to ${limits.thresholdRatio}`);
  const initScale = typeof model.initScale === 'number' && model.initScale > 0 ? model.initScale : 1;
  return { kind: 'mlp', width, activation: model.activation, thresholdRatio: ratio, initScale };
}
