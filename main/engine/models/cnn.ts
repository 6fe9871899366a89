/**
 * A small CNN for CIFAR-10: for each entry of `channels`, a k x k 'same' convolution with bias,
 * ReLU and 2 x 2 max-pooling; then a dense layer to the classes; softmax cross-entropy. Its
 * first-layer filters [k, k, 3] are the pictures.
 *
 * Gradients come from tfjs autodiff (a CNN has too many pieces to write out by hand, and its
 * cost is in the convolutions, not in kernel overhead). The filter gradient of a convolution
 * needs Conv2DBackpropFilter, which tfjs-wasm lacks: when the backend has no such kernel the
 * model computes it by im2col + matMul instead (./convolution.ts), decided once before the run
 * (../kernelPlan.ts says which and why).
 *
 * Layouts are TensorFlow's: filters [k, k, Cin, Cout] (HWIO), the dense weight [F, C]. Init: He,
 * std sqrt(2 / fan-in), times `initScale`; biases 0.
 */
import * as tf from '@tensorflow/tfjs-core';
// Autodiff needs the gradient of every op the CNN uses; tfjs-core registers them only on request.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { CnnModel } from '../../../shared/config.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import { RandomStream } from '../random.ts';
import type { InputGradientSession } from './classifier.ts';
import { convolutionIm2col } from './convolution.ts';
import { inputGradientSession, split, type FirstLayer, type HostTensor, type ImageModel, type WeightLayer } from './imageModel.ts';
import type { ImageShape } from './mlp.ts';
import { crossEntropy, multiclassMargin } from './multiclassMargin.ts';

/** Kernels the CNN needs; Conv2DBackpropFilter may be replaced by im2col (see ../kernelPlan.ts). */
export const cnnKernels = [
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad', 'Relu', 'Step', 'BatchMatMul', 'Add', 'Sub',
  'Multiply', 'Sum', 'Max', 'Exp', 'Log', 'OneHot', 'ArgMax', 'Reshape', 'Neg', 'Cast', 'ExpandDims',
] as const;

interface LayerShape {
  readonly name: string;
  readonly shape: readonly number[];
}

export class Cnn implements ImageModel {
  readonly inputDim: number;
  readonly classes: number;
  readonly parameterNames: readonly string[];
  readonly parameterCount: number;
  pgdKernels: FusedKernels | null = null;
  private readonly shapes: readonly LayerShape[];
  private params: tf.Tensor[];

  private constructor(
    readonly spec: CnnModel,
    readonly picture: ImageShape,
    classes: number,
    values: readonly Float32Array[],
    /** Compute the filter gradient by im2col (the backend lacks Conv2DBackpropFilter). */
    readonly filterGradientByIm2col: boolean,
  ) {
    this.inputDim = picture.height * picture.width * picture.channels;
    this.classes = classes;
    this.shapes = Cnn.layout(spec, picture, classes);
    this.parameterNames = this.shapes.map((s) => s.name);
    this.parameterCount = this.shapes.reduce((sum, s) => sum + size(s.shape), 0);
    this.params = this.shapes.map((s, i) => tf.tensor(values[i]!, [...s.shape]));
  }

  /** Parameter names and shapes: conv{l}.weight [k, k, Cin, Cout], conv{l}.bias [Cout], ..., fc.weight [F, C], fc.bias [C]. */
  static layout(spec: CnnModel, picture: ImageShape, classes: number): LayerShape[] {
    const out: LayerShape[] = [];
    let { height, width, channels } = picture;
    spec.channels.forEach((c, l) => {
      out.push({ name: `conv${l + 1}.weight`, shape: [spec.kernelSize, spec.kernelSize, channels, c] });
      out.push({ name: `conv${l + 1}.bias`, shape: [c] });
      channels = c;
      height = Math.floor(height / 2);
      width = Math.floor(width / 2);
    });
    if (height < 1 || width < 1) throw new RangeError(`model.channels has ${spec.channels.length} pooled layers: too many for ${picture.height} x ${picture.width} images`);
    out.push({ name: 'fc.weight', shape: [height * width * channels, classes] });
    out.push({ name: 'fc.bias', shape: [classes] });
    return out;
  }

  static initialise(spec: CnnModel, picture: ImageShape, classes: number, seed: number, filterGradientByIm2col: boolean): Cnn {
    const rng = RandomStream.derive(seed, 'model.init');
    const values = Cnn.layout(spec, picture, classes).map((s) => {
      const v = new Float32Array(size(s.shape));
      if (s.shape.length > 1) {
        const fanIn = size(s.shape.slice(0, -1));
        rng.fillNormal(v, spec.initScale * Math.sqrt(2 / fanIn));
      }
      return v;
    });
    return new Cnn(spec, picture, classes, values, filterGradientByIm2col);
  }

  static fromFlat(spec: CnnModel, picture: ImageShape, classes: number, flat: Float32Array, filterGradientByIm2col: boolean): Cnn {
    return new Cnn(spec, picture, classes, split(flat, Cnn.layout(spec, picture, classes).map((s) => size(s.shape))), filterGradientByIm2col);
  }

  parameters(): tf.Tensor[] {
    return this.params;
  }

  setParameters(next: tf.Tensor[]): void {
    const old = this.params;
    this.params = next;
    for (const t of old) if (!next.includes(t)) t.dispose();
  }

  /** Logits [N, C] of flat inputs x [N, H W C]; `training` routes convolutions through im2col where needed. */
  private logits(x: tf.Tensor2D, params: readonly tf.Tensor[], training: boolean): tf.Tensor2D {
    const { height, width, channels } = this.picture;
    let h = tf.reshape(x, [-1, height, width, channels]) as tf.Tensor4D;
    const layers = this.spec.channels.length;
    for (let l = 0; l < layers; l++) {
      const filter = params[2 * l] as tf.Tensor4D;
      const conv = training && this.filterGradientByIm2col ? convolutionIm2col(h, filter, l > 0) : tf.conv2d(h, filter, 1, 'same');
      h = tf.maxPool(tf.relu(tf.add(conv, params[2 * l + 1]!)) as tf.Tensor4D, 2, 2, 'valid');
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    return tf.add(tf.matMul(flat, params[2 * layers] as tf.Tensor2D), params[2 * layers + 1]!) as tf.Tensor2D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => multiclassMargin(this.logits(x, this.params, false), y));
  }

  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.logits(x, this.params, false));
  }

  lossAndGradients(x: tf.Tensor2D, _xT: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; gradients: tf.Tensor[] } {
    return tf.tidy(() => {
      const f = (...params: tf.Tensor[]) => crossEntropy(this.logits(x, params, true), y, scale).loss;
      const { value, grads } = tf.valueAndGrads(f)(this.params);
      return { loss: value as tf.Scalar, gradients: grads };
    });
  }

  openInputGradient(): InputGradientSession {
    return inputGradientSession(
      (x, y) =>
        tf.tidy(() => {
          const margin = this.margins(x, y);
          const negativeMargin = (xx: tf.Tensor) => tf.neg(tf.sum(multiclassMargin(this.logits(xx as tf.Tensor2D, this.params, false), y)));
          return { margin, gradient: tf.grad(negativeMargin)(x) as tf.Tensor2D };
        }),
      this.pgdKernels,
    );
  }

  silentFraction(): number {
    // Max-pooled ReLU features have no "all silent" reading that means a dead network: report 0.
    return 0;
  }

  exportParameters(): HostTensor[] {
    return this.shapes.map((s, i) => ({ name: s.name, shape: s.shape, data: Float32Array.from(this.params[i]!.dataSync()) }));
  }

  importFlat(values: Float32Array): void {
    const pieces = split(values, this.shapes.map((s) => size(s.shape)));
    this.setParameters(this.shapes.map((s, i) => tf.tensor(pieces[i]!, [...s.shape])));
  }

  /** The first-layer filters as [Cout, k, k, Cin] pictures (transposed from HWIO). */
  firstLayerOf(flat: Float32Array): FirstLayer {
    const [k, , cin, cout] = this.shapes[0]!.shape as [number, number, number, number];
    const values = new Float32Array(cout * k * k * cin);
    for (let u = 0; u < cout; u++) for (let p = 0; p < k * k * cin; p++) values[u * k * k * cin + p] = flat[p * cout + u]!;
    return { units: cout, height: k, width: k, channels: cin, values };
  }

  weightLayersOf(flat: Float32Array): WeightLayer[] {
    const pieces = split(flat, this.shapes.map((s) => size(s.shape)));
    return this.shapes
      .map((s, i) => ({ layer: s.name, rows: size(s.shape.slice(0, -1)), cols: s.shape[s.shape.length - 1]!, values: pieces[i]! }))
      .filter((_, i) => this.shapes[i]!.shape.length > 1);
  }

  dispose(): void {
    tf.dispose(this.params);
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
