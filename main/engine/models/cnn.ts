/**
 * A small CNN for CIFAR-10: for each entry of `channels`, a k x k 'same' convolution with bias,
 * ReLU and 2 x 2 max-pooling; then a dense layer to the classes; softmax cross-entropy. Its
 * first-layer filters [k, k, 3] are the pictures.
 *
 * The backward pass is written out, layer by layer, with the backends' own backward kernels
 * (tfjs-core's Node build registers no autodiff gradients): for each layer, from the top,
 *   da = MaxPoolGrad(dh),  dpre = da * 1[pre > 0],  db = sum dpre,
 *   dF = Conv2DBackpropFilter(h_prev, dpre),  dh_prev = conv(dpre, F flipped),
 * and the dense layer's dD = flat^T dz, de = sum dz, dflat = dz D^T (./convolution.ts has the
 * maths). tfjs-wasm lacks Conv2DBackpropFilter: the filter gradient is then a forward
 * convolution with the batch as channels, decided once before the run (../backend/kernelPlan.ts says
 * which and why). The attacks' input gradient runs the same pass without the parameter
 * gradients. Checked against finite differences in the tests.
 *
 * Layouts are TensorFlow's: filters [k, k, Cin, Cout] (HWIO), the dense weight [F, C]. Init: He,
 * std sqrt(2 / fan-in), times `initScale`; biases 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CnnModel } from '../../../shared/config.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import { RandomStream } from '../random.ts';
import type { InputGradientSession } from './marginModel.ts';
import { filterGradient, flippedFilter, inputGradient, maxPoolGradient } from './convolution.ts';
import { inputGradientSession, split, type FirstLayer, type HostTensor, type ImageModel, type WeightLayer } from './imageModel.ts';
import type { ImageShape } from './mlp.ts';
import { crossEntropy, marginAndGradient, multiclassMargin } from './multiclassMargin.ts';

/**
 * Kernels the CNN dispatches; checked before a run starts with the kernels every run dispatches
 * (../backend/runKernels.ts). Conv2DBackpropFilter may be replaced by a forward convolution (see
 * ../backend/kernelPlan.ts).
 */
export const cnnKernels = [
  'Conv2D', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad', 'Relu', 'Reverse', 'Transpose', 'PadV2', 'Greater', 'BatchMatMul', 'Add', 'Sub',
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
    /** Compute the filter gradient as a forward convolution (the backend lacks Conv2DBackpropFilter). */
    readonly filterGradientByConvolution: boolean,
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

  static initialise(spec: CnnModel, picture: ImageShape, classes: number, seed: number, filterGradientByConvolution: boolean): Cnn {
    const rng = RandomStream.derive(seed, 'model.init');
    const values = Cnn.layout(spec, picture, classes).map((s) => {
      const v = new Float32Array(size(s.shape));
      if (s.shape.length > 1) {
        const fanIn = size(s.shape.slice(0, -1));
        rng.fillNormal(v, spec.initScale * Math.sqrt(2 / fanIn));
      }
      return v;
    });
    return new Cnn(spec, picture, classes, values, filterGradientByConvolution);
  }

  static fromFlat(spec: CnnModel, picture: ImageShape, classes: number, flat: Float32Array, filterGradientByConvolution: boolean): Cnn {
    return new Cnn(spec, picture, classes, split(flat, Cnn.layout(spec, picture, classes).map((s) => size(s.shape))), filterGradientByConvolution);
  }

  parameters(): tf.Tensor[] {
    return this.params;
  }

  setParameters(next: tf.Tensor[]): void {
    const old = this.params;
    this.params = next;
    for (const t of old) if (!next.includes(t)) t.dispose();
  }

  /** The forward pass of flat inputs x [N, H W C], keeping what the backward pass needs. */
  private forward(x: tf.Tensor2D): { inputs: tf.Tensor4D[]; pre: tf.Tensor4D[]; act: tf.Tensor4D[]; pooled: tf.Tensor4D[]; flat: tf.Tensor2D; z: tf.Tensor2D } {
    const { height, width, channels } = this.picture;
    const layers = this.spec.channels.length;
    const inputs: tf.Tensor4D[] = [];
    const pre: tf.Tensor4D[] = [];
    const act: tf.Tensor4D[] = [];
    const pooled: tf.Tensor4D[] = [];
    let h = tf.reshape(x, [-1, height, width, channels]) as tf.Tensor4D;
    for (let l = 0; l < layers; l++) {
      inputs.push(h);
      const p = tf.add(tf.conv2d(h, this.params[2 * l] as tf.Tensor4D, 1, 'same'), this.params[2 * l + 1]!) as tf.Tensor4D;
      const a = tf.relu(p) as tf.Tensor4D;
      h = tf.maxPool(a, 2, 2, 'valid');
      pre.push(p);
      act.push(a);
      pooled.push(h);
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    const z = tf.add(tf.matMul(flat, this.params[2 * layers] as tf.Tensor2D), this.params[2 * layers + 1]!) as tf.Tensor2D;
    return { inputs, pre, act, pooled, flat, z };
  }

  /**
   * Backpropagate dz [N, C]: the parameter gradients (in order) for training, or dL/dx [N, H W C]
   * alone for the attacks.
   */
  private backward(f: ReturnType<Cnn['forward']>, dz: tf.Tensor2D, want: 'parameters' | 'input'): { grads: tf.Tensor[]; dx: tf.Tensor2D | null } {
    const layers = this.spec.channels.length;
    const k = this.spec.kernelSize;
    const withParameters = want === 'parameters';
    const grads: tf.Tensor[] = new Array<tf.Tensor>(2 * layers + 2);
    if (withParameters) {
      grads[2 * layers] = tf.matMul(f.flat, dz, true, false);
      grads[2 * layers + 1] = tf.sum(dz, 0);
    }
    let dh = tf.reshape(tf.matMul(dz, this.params[2 * layers] as tf.Tensor2D, false, true), f.pooled[layers - 1]!.shape) as tf.Tensor4D;
    let dx: tf.Tensor2D | null = null;
    for (let l = layers - 1; l >= 0; l--) {
      const da = maxPoolGradient(dh, f.act[l]!, f.pooled[l]!);
      const dpre = tf.mul(da, tf.cast(tf.greater(f.pre[l]!, 0), 'float32')) as tf.Tensor4D;
      if (withParameters) {
        grads[2 * l] = filterGradient(f.inputs[l]!, dpre, k, this.filterGradientByConvolution);
        grads[2 * l + 1] = tf.sum(dpre, [0, 1, 2]);
      }
      if (l > 0 || !withParameters) {
        const prev = inputGradient(dpre, flippedFilter(this.params[2 * l] as tf.Tensor4D));
        if (l > 0) dh = prev;
        else dx = tf.reshape(prev, [prev.shape[0], -1]) as tf.Tensor2D;
      }
    }
    return { grads, dx };
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => multiclassMargin(this.forward(x).z, y));
  }

  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).z);
  }

  lossAndGradients(x: tf.Tensor2D, _xT: tf.Tensor2D | null, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; gradients: tf.Tensor[] } {
    return tf.tidy(() => {
      const f = this.forward(x);
      const { loss, dz } = crossEntropy(f.z, y, scale);
      return { loss, gradients: this.backward(f, dz, 'parameters').grads };
    });
  }

  openInputGradient(): InputGradientSession {
    return inputGradientSession(
      (x, y) =>
        tf.tidy(() => {
          const f = this.forward(x);
          const { margin, dz } = marginAndGradient(f.z, y);
          return { margin, gradient: this.backward(f, dz, 'input').dx! };
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

  /** Weight layers with one row per unit (output channel or class): [Cout, k k Cin], [C, F]. */
  weightLayersOf(flat: Float32Array): WeightLayer[] {
    const pieces = split(flat, this.shapes.map((s) => size(s.shape)));
    return this.shapes
      .map((s, i) => {
        const fanIn = size(s.shape.slice(0, -1));
        const units = s.shape[s.shape.length - 1]!;
        const rows = new Float32Array(units * fanIn);
        const v = pieces[i]!;
        for (let p = 0; p < fanIn; p++) for (let u = 0; u < units; u++) rows[u * fanIn + p] = v[p * units + u]!;
        return { layer: s.name, rows: units, cols: fanIn, values: rows };
      })
      .filter((_, i) => this.shapes[i]!.shape.length > 1);
  }

  dispose(): void {
    tf.dispose(this.params);
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
