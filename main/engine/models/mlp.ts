/**
 * A two-layer MLP for images (MNIST): logits z = V^T s(W^T x + c) + e over the task's classes,
 * trained with softmax cross-entropy; both layers train.
 *
 *   W [d, m]   first layer, stored TRANSPOSED: column i is neuron w_i (a 28 x 28 picture on MNIST)
 *   c [m]      first-layer biases
 *   V [m, C]   output layer,  e [C] output biases
 *
 * Activations s: ReLU, or the paper's symmetric thresholded ReLU s_b(u) = ReLU(u - b) - ReLU(-u - b)
 * with b_i = rho ||w_i|| (the gradient flows through ||w_i||, as in the two-layer net).
 *
 * As for the two-layer net, the gradients are written out by hand so that both large matMuls of a
 * step, U = X W and dW = X^T dU, are the fast non-transposed form on tfjs-wasm (X^T comes with the
 * batch). With dZ = s_n (softmax(z_n) - e_{y_n}) (./multiclassMargin.ts):
 *   dV = H^T dZ,  de = sum_n dZ,  dH = dZ V^T,  dU = dH * s'(U),  dW = X^T dU,  dc = sum_n dU,
 * and in the threshold mode dW_i += rho w_i / ||w_i|| * db_i with db_i = -sum_n dH_ni sign(U_ni) 1[|U_ni| > b_i].
 * The input gradient of the attacks is dX = dU W^T with dZ the margin's gradient. Checked against
 * finite differences in the tests.
 *
 * On tfjs-wasm the same maths also runs through the fused kernels of ../kernels
 * (`kernelLossAndGradients`, and `openInputGradient` when kernels are given): the two large
 * matMuls stay tfjs matMuls, and everything between them, which tfjs runs as ~25 elementwise and
 * reduction ops (bias broadcast, masks, the softmax / one-hot / argmax chain, column sums, the
 * 10-wide output layer), is 7 kernel calls (9 with the threshold) that work in place on one [N, m]
 * buffer in the row layout. Every changing operand that XNNPACK must repack sits where it is
 * cheapest: U = X W repacks W once per step (an attack's steps, and the training step after an
 * attack, reuse that packing), dW = X^T dU repacks only dU [N, m]; the attack's dX = dU W^T takes
 * W^T, transposed once per attack by a kernel (tf.transpose of 784 x 256 costs milliseconds on wasm).
 *
 * Init: He, std sqrt(2 / fan-in), times `initScale` in both layers; at 0.05 the learned features
 * dominate what is left of the init, which is the regime where the pictures show purification.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MlpModel } from '../../../shared/config.ts';
import { KernelWorkspace, type FusedKernels } from '../kernels/fusedKernels.ts';
import { RandomStream } from '../random.ts';
import { readScalar } from '../backend/readBack.ts';
import type { InputGradientSession } from './marginModel.ts';
import { inputGradientSession, split, type FirstLayer, type HostTensor, type ImageModel, type WeightLayer } from './imageModel.ts';
import { crossEntropy, marginAndGradient, multiclassMargin } from './multiclassMargin.ts';

/**
 * Kernels the MLP dispatches (the symmetric threshold's RealDiv, the silent share's Mean, and
 * SplitV, with which the WGSL hot path unpacks its small parameters, among them); checked before
 * a run starts with the kernels every run dispatches (../backend/runKernels.ts).
 */
export const mlpKernels = [
  'BatchMatMul', 'Add', 'Sub', 'Multiply', 'Relu', 'Greater', 'Cast', 'Sum', 'Max', 'Exp', 'Log', 'OneHot', 'ArgMax',
  'Transpose', 'Abs', 'Sign', 'Square', 'Sqrt', 'Minimum', 'Maximum', 'Neg', 'Equal', 'Reshape', 'ExpandDims',
  'RealDiv', 'Mean', 'SplitV',
] as const;

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export class Mlp implements ImageModel {
  readonly inputDim: number;
  readonly width: number;
  readonly classes: number;
  readonly parameterNames = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'] as const;
  readonly parameterCount: number;
  pgdKernels: FusedKernels | null = null;
  /**
   * Where another backend's fused path runs the attacks (webgpu's WGSL PGD step): it wraps the
   * tfjs session, whose margins it keeps. Null: the tfjs session (or the wasm kernels') runs.
   */
  inputGradientProvider: ((model: Mlp, session: InputGradientSession) => InputGradientSession) | null = null;
  /**
   * Where the attacks compute on an engine that reads the weights itself (wasm's kernel threads,
   * ./mlpThreadedGradient.ts): its session replaces the ones below. Null: they run.
   */
  inputGradientSource: ((model: Mlp) => InputGradientSession) | null = null;
  private W: tf.Tensor2D;
  private c: tf.Tensor1D;
  private V: tf.Tensor2D;
  private e: tf.Tensor1D;

  private constructor(
    readonly spec: MlpModel,
    readonly picture: ImageShape,
    classes: number,
    params: readonly Float32Array[],
  ) {
    this.inputDim = picture.height * picture.width * picture.channels;
    this.width = spec.width;
    this.classes = classes;
    const d = this.inputDim;
    const m = this.width;
    this.parameterCount = d * m + m + m * classes + classes;
    this.W = tf.tensor2d(params[0]!, [d, m]);
    this.c = tf.tensor1d(params[1]!);
    this.V = tf.tensor2d(params[2]!, [m, classes]);
    this.e = tf.tensor1d(params[3]!);
  }

  /** He init times model.initScale, from the run's seed. Neuron i's weights are drawn as a row. */
  static initialise(spec: MlpModel, picture: ImageShape, classes: number, seed: number): Mlp {
    const d = picture.height * picture.width * picture.channels;
    const m = spec.width;
    const rng = RandomStream.derive(seed, 'model.init');
    const rows = new Float32Array(m * d);
    rng.fillNormal(rows, spec.initScale * Math.sqrt(2 / d));
    const V = new Float32Array(m * classes);
    rng.fillNormal(V, spec.initScale * Math.sqrt(2 / m));
    return new Mlp(spec, picture, classes, [transpose(rows, m, d), new Float32Array(m), V, new Float32Array(classes)]);
  }

  /** A model from a flat parameter vector (the checkpoint layout, PyTorch's: see `sizesOf`). */
  static fromFlat(spec: MlpModel, picture: ImageShape, classes: number, flat: Float32Array): Mlp {
    const d = picture.height * picture.width * picture.channels;
    const m = spec.width;
    const [W, c, V, e] = split(flat, sizesOf(d, m, classes)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    return new Mlp(spec, picture, classes, [transpose(W, m, d), c, transpose(V, classes, m), e]);
  }

  parameters(): tf.Tensor[] {
    return [this.W, this.c, this.V, this.e];
  }

  setParameters(next: tf.Tensor[]): void {
    const old = this.parameters();
    [this.W, this.c, this.V, this.e] = next as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    for (const t of old) if (!next.includes(t)) t.dispose();
  }

  /** Pre-activations U [N, m], thresholds b [m] (or null), activations H and the derivative mask. */
  private forward(x: tf.Tensor2D): { U: tf.Tensor2D; b: tf.Tensor1D | null; H: tf.Tensor2D; mask: tf.Tensor2D } {
    const U = tf.add(tf.matMul(x, this.W), this.c) as tf.Tensor2D;
    if (this.spec.activation === 'relu') {
      const H = tf.relu(U) as tf.Tensor2D;
      return { U, b: null, H, mask: tf.cast(tf.greater(U, 0), 'float32') as tf.Tensor2D };
    }
    const b = tf.mul(tf.sqrt(tf.sum(tf.square(this.W), 0)), this.spec.thresholdRatio) as tf.Tensor1D;
    // s_b(u) = u - clip(u, -b, b), written with maximum/minimum so b can be a per-neuron tensor.
    const H = tf.sub(U, tf.minimum(tf.maximum(U, tf.neg(b)), b)) as tf.Tensor2D;
    return { U, b, H, mask: tf.cast(tf.greater(tf.abs(U), b), 'float32') as tf.Tensor2D };
  }

  private logits(H: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(H, this.V), this.e) as tf.Tensor2D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => multiclassMargin(this.logits(this.forward(x).H), y));
  }

  /** The class scores [N, C]. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.logits(this.forward(x).H));
  }

  lossAndGradients(x: tf.Tensor2D, xT: tf.Tensor2D | null, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; gradients: tf.Tensor[] } {
    return tf.tidy(() => {
      const { U, b, H, mask } = this.forward(x);
      const { loss, dz } = crossEntropy(this.logits(H), y, scale);
      const dV = tf.matMul(H, dz, true, false);
      const de = tf.sum(dz, 0);
      const dH = tf.matMul(dz, this.V, false, true);
      const dU = tf.mul(dH, mask) as tf.Tensor2D;
      let dW = tf.matMul(xT ?? tf.transpose(x), dU) as tf.Tensor2D;
      if (b) {
        // b_i = rho ||w_i||: dL/db_i = -sum_n dH_ni sign(U_ni) mask_ni, and db_i/dw_i = rho w_i / ||w_i||.
        const db = tf.neg(tf.sum(tf.mul(tf.mul(dH, tf.sign(U)), mask), 0));
        const norms = tf.maximum(tf.div(b, Math.max(this.spec.thresholdRatio, 1e-30)), 1e-30);
        dW = tf.add(dW, tf.mul(this.W, tf.div(tf.mul(db, this.spec.thresholdRatio), norms))) as tf.Tensor2D;
      }
      const dc = tf.sum(dU, 0);
      return { loss, gradients: [dW, dc, dV, de] };
    });
  }

  /**
   * `lossAndGradients` through the fused wasm kernels, in the row layout (one row per sample):
   *   H = s(X W + c) in place on the matMul's output;  Z = H V + e;  dZ, loss (softmax cross-entropy);
   *   dV = H^T dZ, de = sum_n dZ;  dU = (dZ V^T) * [H != 0];  dc = sum_n dU;  dW = X^T dU,
   * and for the threshold activation b = rho ||w_i|| before, and dW_i -= rho w_i / ||w_i|| dbl_i after,
   * with dbl_i = sum_n dU_ni sign(H_ni) (= -dL/db_i). Returns the loss on the host (the kernel sums
   * it in float64; nothing is read back from the device) and the gradients [dW, dc, dV, de], which
   * live in `work` until its next use.
   */
  kernelLossAndGradients(
    kernels: FusedKernels,
    work: KernelWorkspace,
    x: tf.Tensor2D,
    xT: tf.Tensor2D | null,
    y: tf.Tensor1D,
    scale: tf.Tensor1D,
  ): { loss: number; gradients: tf.Tensor[] } {
    const n = x.shape[0];
    const m = this.width;
    const C = this.classes;
    const { VT, b, invNorm } = this.kernelWeights(kernels, work);
    const H = tf.matMul(x, this.W); // [n, m]: U without the bias, made H in place
    kernels.biasActivation(H, this.c, b);
    const dZ = work.get('Z', [n, C]);
    kernels.outputLogits(H, VT, this.e, dZ);
    const loss = kernels.softmaxCrossEntropy(dZ, y, scale);
    const dV = work.get('dV', [m, C]);
    const de = work.get('de', [C]);
    kernels.outputLayerGradients(H, dZ, dV, de);
    const dU = work.get('dU', [n, m]);
    kernels.hiddenGradient(H, dZ, VT, dU);
    const dc = work.get('dc', [m]);
    kernels.columnSums(dU, dc);
    const dW = work.put('dW', tf.tidy(() => tf.matMul(xT ?? tf.transpose(x), dU)));
    if (b && invNorm) {
      const dbl = work.get('dbl', [m]);
      kernels.signedColumnSums(dU, H, dbl);
      kernels.relativeThresholdGradient(dW, this.W, dbl, invNorm, this.spec.thresholdRatio);
    }
    H.dispose();
    return { loss, gradients: [dW, dc, dV, de] };
  }

  /** V^T [C, m] for the kernels and, for the threshold activation, b_i = rho ||w_i|| and 1 / ||w_i||, in `work`. */
  private kernelWeights(kernels: FusedKernels, work: KernelWorkspace): { VT: tf.Tensor; b: tf.Tensor | null; invNorm: tf.Tensor | null } {
    const m = this.width;
    const VT = work.get('VT', [this.classes, m]);
    kernels.transposeInto(this.V, VT);
    if (this.spec.activation === 'relu') return { VT, b: null, invNorm: null };
    const b = work.get('b', [m]);
    const invNorm = work.get('invNorm', [m]);
    kernels.thresholdFromNorms(this.W, this.spec.thresholdRatio, b, invNorm);
    return { VT, b, invNorm };
  }

  /**
   * Input gradients for the attacks, with the weights as they are now: from `inputGradientSource`
   * when set (kernel threads). With fused kernels (by
   * default the model's `pgdKernels`) the margin and its gradient run through them (see
   * `kernelLossAndGradients`, with the margin kernel in place of the softmax) and PGD runs through
   * the fused step loop; otherwise through tfjs ops.
   */
  openInputGradient(kernels: FusedKernels | null = this.pgdKernels): InputGradientSession {
    if (this.inputGradientSource) return this.inputGradientSource(this);
    if (kernels) return this.openKernelInputGradient(kernels);
    const WT = tf.transpose(this.W) as tf.Tensor2D; // [m, d]: dX = dU W^T as a plain matMul
    const session = inputGradientSession(
      (x, y) =>
        tf.tidy(() => {
          const { H, mask } = this.forward(x);
          const { margin, dz } = marginAndGradient(this.logits(H), y);
          const dU = tf.mul(tf.matMul(dz, this.V, false, true), mask);
          return { margin, gradient: tf.matMul(dU, WT) as tf.Tensor2D };
        }),
      this.pgdKernels,
      () => WT.dispose(),
    );
    return this.inputGradientProvider ? this.inputGradientProvider(this, session) : session;
  }

  private openKernelInputGradient(kernels: FusedKernels): InputGradientSession {
    const m = this.width;
    const C = this.classes;
    const { W, c, e } = this;
    const work = new KernelWorkspace();
    const { VT, b } = this.kernelWeights(kernels, work);
    const WT = work.get('WT', [m, this.inputDim]);
    kernels.transposeInto(W, WT);
    return inputGradientSession(
      (x, y) => {
        const n = x.shape[0];
        const H = tf.matMul(x, W);
        kernels.biasActivation(H, c, b);
        const dZ = work.get('Z', [n, C]);
        kernels.outputLogits(H, VT, e, dZ);
        const margin = tf.zeros([n]) as tf.Tensor1D;
        kernels.multiclassMarginGradient(dZ, y, margin);
        const dU = work.get('dU', [n, m]);
        kernels.hiddenGradient(H, dZ, VT, dU);
        H.dispose();
        return { margin, gradient: tf.matMul(dU, WT) as tf.Tensor2D };
      },
      kernels,
      () => work.dispose(),
    );
  }

  silentFraction(x: tf.Tensor2D): number {
    return readScalar(() => tf.mean(tf.cast(tf.equal(tf.max(tf.abs(this.forward(x).H), 1), 0), 'float32')));
  }

  exportParameters(): HostTensor[] {
    const d = this.inputDim;
    const m = this.width;
    // fc1.weight in PyTorch's [out, in] layout: row i is neuron w_i.
    return [
      { name: 'fc1.weight', shape: [m, d], data: transpose(this.W.dataSync() as Float32Array, d, m) },
      { name: 'fc1.bias', shape: [m], data: Float32Array.from(this.c.dataSync()) },
      { name: 'fc2.weight', shape: [this.classes, m], data: transpose(this.V.dataSync() as Float32Array, m, this.classes) },
      { name: 'fc2.bias', shape: [this.classes], data: Float32Array.from(this.e.dataSync()) },
    ];
  }

  importFlat(values: Float32Array): void {
    const d = this.inputDim;
    const m = this.width;
    const [W, c, V, e] = split(values, sizesOf(d, m, this.classes)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    this.setParameters([tf.tensor2d(transpose(W, m, d), [d, m]), tf.tensor1d(c), tf.tensor2d(transpose(V, this.classes, m), [m, this.classes]), tf.tensor1d(e)]);
  }

  firstLayerOf(flat: Float32Array): FirstLayer {
    const n = this.inputDim * this.width;
    return { units: this.width, ...this.picture, values: flat.subarray(0, n) };
  }

  weightLayersOf(flat: Float32Array): WeightLayer[] {
    const [W, , V] = split(flat, sizesOf(this.inputDim, this.width, this.classes));
    return [
      { layer: 'fc1.weight', rows: this.width, cols: this.inputDim, values: W! },
      { layer: 'fc2.weight', rows: this.classes, cols: this.width, values: V! },
    ];
  }

  dispose(): void {
    tf.dispose(this.parameters());
  }
}

/** Sizes of the flat layout: fc1.weight [m, d], fc1.bias [m], fc2.weight [C, m], fc2.bias [C] (PyTorch's layouts). */
function sizesOf(d: number, m: number, classes: number): number[] {
  return [m * d, m, classes * m, classes];
}

/** Row-major [rows, cols] to row-major [cols, rows]. */
function transpose(values: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}
