/**
 * What an image model (the MLP, the CNN) offers the engine beyond the attack interface: its
 * trainable parameters, the softmax cross-entropy loss with its gradients, host copies of its
 * weights for checkpoints and exports, and its first layer as pictures.
 *
 * Labels are class indices 0..C-1 (as float32, like every label tensor in the engine), and the
 * attacks' margin is the multi-class margin z_y - max_{j != y} z_j (../multiclassMargin.ts):
 * > 0 iff the sample is classified correctly, so a tie counts as wrong.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import type { MarginModel, InputGradientSession } from './marginModel.ts';
import { fusedPgdStep } from '../attacks/pgdStep.ts';

/** A named host copy of one parameter tensor, in the engine's own layout. */
export interface HostTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** One weight tensor as a matrix with one row per unit: [units, fan-in] row-major (a convolution's filters as [Cout, k k Cin]). */
export interface WeightLayer {
  readonly layer: string;
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
}

/** The first layer's units as pictures: rows = units, each row a [height, width, channels] image. */
export interface FirstLayer {
  readonly units: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** [units, height * width * channels] row-major, channel last. */
  readonly values: Float32Array;
}

export interface ImageModel extends MarginModel {
  readonly classes: number;
  /** Parameter names in order (PyTorch state_dict style: fc1.weight, ...). */
  readonly parameterNames: readonly string[];
  /** The live parameter tensors, in order (owned by the model). */
  parameters(): tf.Tensor[];
  /** Replace the parameters (the model takes ownership and frees the old ones). */
  setParameters(next: tf.Tensor[]): void;
  /**
   * The loss sum_n s_n CE(z_n, y_n) (a scalar tensor) and its gradient for every parameter.
   * `xT` is x transposed [d, N], so a first-layer weight gradient X^T G can be a plain matMul;
   * null where the caller has none (the model transposes x itself if it needs it).
   */
  lossAndGradients(x: tf.Tensor2D, xT: tf.Tensor2D | null, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; gradients: tf.Tensor[] };
  /** The logits [N, classes] of a batch. */
  predict(x: tf.Tensor2D): tf.Tensor2D;
  /** Host copies of every parameter, in order, for checkpoints and the weights file. */
  exportParameters(): HostTensor[];
  /** Load parameters from one flat array (the concatenation of exportParameters() in order). */
  importFlat(values: Float32Array): void;
  /** Fused wasm kernels for the attacks' PGD steps (set by the engine when the backend has them), else null. */
  pgdKernels: FusedKernels | null;
  /** Total number of trainable values. */
  readonly parameterCount: number;
  /** Cut a flat parameter vector (as importFlat takes) into the first layer's pictures. */
  firstLayerOf(flat: Float32Array): FirstLayer;
  /** The weight matrices (biases left out) of a flat parameter vector as [rows, cols], for per-layer instruments. */
  weightLayersOf(flat: Float32Array): WeightLayer[];
  /** Share of samples on which every first-layer unit is silent (0 for models where that cannot be read). */
  silentFraction(x: tf.Tensor2D): number;
  dispose(): void;
}

/** A session from a margin-gradient function, whose PGD steps run through the fused kernels when `kernels` is given. */
export function inputGradientSession(
  marginGradient: InputGradientSession['marginGradient'],
  kernels: FusedKernels | null,
  dispose: () => void = () => {},
): InputGradientSession {
  return { marginGradient, ...(kernels ? { pgdStep: fusedPgdStep(kernels) } : {}), dispose };
}

/** Concatenate host tensors into one flat vector (the checkpoint layout). */
export function flatten(tensors: readonly HostTensor[]): Float32Array {
  const out = new Float32Array(tensors.reduce((s, t) => s + t.data.length, 0));
  let at = 0;
  for (const t of tensors) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/** Split a flat vector into pieces of the given sizes (the inverse of `flatten`). */
export function split(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (flat.length !== total) throw new RangeError(`${flat.length} parameter values: expected ${total} for this model`);
  const out: Float32Array[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(flat.slice(at, at + size));
    at += size;
  }
  return out;
}
