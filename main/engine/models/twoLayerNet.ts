/**
 * The paper's two-layer network:
 *
 *   f(x) = sum_i a * s_b(<w_i, x>),   s_b(t) = ReLU(t - b) - ReLU(-t - b) = t - clip(t, -b, b),
 *
 * the symmetric thresholded ReLU. Output weights a are one fixed scalar (1 or 1/sqrt(m)); only
 * W (and b in the learned mode) trains. Threshold modes:
 *   relative  b_i = rho * ||w_i||  (scale-free; the gradient flows through ||w_i||),
 *   fixed     b_i = b,
 *   learned   b_i trained, kept >= 0.
 *
 * W is stored TRANSPOSED, Wt [d, m], so that the forward pass U = X Wt and the weight gradient
 * dWt = X^T G are plain matMuls without transpose flags: tfjs-wasm runs those ~10x faster than
 * the transposed forms that autodiff produces. Gradients are written out
 * by hand for the same reason, and are checked against finite differences in the tests.
 *
 * Gradients of the mean logistic loss L = sum_n s_n log(1 + exp(-y_n f_n)) (s_n = 1/B):
 *   g_n   = dL/df_n = -s_n y_n sigma(-y_n f_n)
 *   dL/dU_ni = g_n a mask_ni,           mask_ni = 1[|U_ni| > b_i]
 *   dL/db_i  = -sum_n g_n a sign(U_ni) mask_ni
 *   dL/dw_i  = sum_n dL/dU_ni x_n  (+ dL/db_i * rho * w_i/||w_i||  in the relative mode)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TwoLayerModel } from '../../../shared/config.ts';
import { RandomStream } from '../random.ts';
import type { MarginModel, InputGradientSession } from './marginModel.ts';
import { readBack, readScalar } from '../backend/readBack.ts';

/**
 * Kernels this model dispatches (its forward pass and gradients, the silent share's Equal, Max and
 * Mean, a clone's Identity); checked before a run starts with the kernels every run dispatches
 * (../backend/runKernels.ts).
 */
export const twoLayerKernels = [
  'BatchMatMul', 'Square', 'Sum', 'Sqrt', 'Maximum', 'Minimum', 'Sub', 'Multiply', 'Neg', 'Sigmoid',
  'Softplus', 'Sign', 'Abs', 'Greater', 'Cast', 'Transpose', 'Add', 'RealDiv', 'Relu', 'Reshape',
  'Equal', 'Max', 'Mean', 'Identity',
] as const;

export interface TwoLayerGradients {
  /** dL/dWt [d, m]. */
  readonly dWt: tf.Tensor2D;
  /** dL/db [m] in the learned mode, else null. */
  readonly db: tf.Tensor1D | null;
  /** The (scaled) loss sum, a scalar. */
  readonly loss: tf.Scalar;
}

export class TwoLayerNet implements MarginModel {
  readonly inputDim: number;
  readonly width: number;
  /** The output weight a (the same for every neuron). */
  readonly outputWeight: number;
  readonly thresholdMode: TwoLayerModel['threshold']['mode'];
  readonly thresholdRatio: number;
  /** Wt [d, m]: neuron i is column i. */
  Wt: tf.Tensor2D;
  /** b [m]: the trained thresholds (learned mode) or the constant ones (fixed mode); null when relative. */
  b: tf.Tensor1D | null;

  constructor(spec: { d: number; m: number; outputWeight: number; mode: TwoLayerModel['threshold']['mode']; ratio: number }, Wt: tf.Tensor2D, b: tf.Tensor1D | null) {
    this.inputDim = spec.d;
    this.width = spec.m;
    this.outputWeight = spec.outputWeight;
    this.thresholdMode = spec.mode;
    this.thresholdRatio = spec.ratio;
    this.Wt = Wt;
    this.b = b;
  }

  /** A fresh network: w_i ~ N(0, s0^2/d I) from the seeded stream `model.init`. */
  static initialise(model: TwoLayerModel, d: number, seed: number): TwoLayerNet {
    const m = model.width;
    const rng = RandomStream.derive(seed, 'model.init');
    const W = new Float32Array(m * d); // row-major [m, d]: neuron by neuron, so the draw order does not depend on storage
    rng.fillNormal(W, model.initScale / Math.sqrt(d));
    return TwoLayerNet.fromWeights(model, d, W, model.threshold.mode === 'relative' ? null : new Float32Array(m).fill(model.threshold.value));
  }

  /** A network from row-major weights W [m, d] and thresholds b [m] (ignored in the relative mode). */
  static fromWeights(model: TwoLayerModel, d: number, W: Float32Array, b: Float32Array | null): TwoLayerNet {
    const m = model.width;
    if (W.length !== m * d) throw new RangeError(`W has ${W.length} values: expected width * d = ${m} * ${d}`);
    const Wt = tf.tidy(() => tf.transpose(tf.tensor2d(W, [m, d]))) as tf.Tensor2D;
    const thresholds = model.threshold.mode === 'relative' ? null : tf.tensor1d(b ?? new Float32Array(m).fill(model.threshold.value));
    return new TwoLayerNet(
      { d, m, outputWeight: model.outputWeight === 'one' ? 1 : 1 / Math.sqrt(m), mode: model.threshold.mode, ratio: model.threshold.ratio },
      Wt,
      thresholds,
    );
  }

  /** A deep copy (the copy owns its tensors). */
  clone(): TwoLayerNet {
    return new TwoLayerNet(
      { d: this.inputDim, m: this.width, outputWeight: this.outputWeight, mode: this.thresholdMode, ratio: this.thresholdRatio },
      tf.clone(this.Wt),
      this.b ? tf.clone(this.b) : null,
    );
  }

  dispose(): void {
    this.Wt.dispose();
    this.b?.dispose();
  }

  /** W [m, d] row-major (a device read: call at instrument time, never per step). */
  weights(): Float32Array {
    return readBack(() => tf.transpose(this.Wt)) as Float32Array;
  }

  /** The thresholds b [m] as they are now. */
  thresholdValues(): Float32Array {
    return readBack(() => this.thresholds()) as Float32Array;
  }

  /** b [m]: rho * ||w_i|| (relative), or the stored b. */
  thresholds(): tf.Tensor1D {
    if (this.b) return this.b.clone();
    return tf.tidy(() => tf.mul(tf.sqrt(tf.sum(tf.square(this.Wt), 0)), this.thresholdRatio)) as tf.Tensor1D;
  }

  /** Pre-activations U = X Wt [N, m], thresholds b [m], activations s_b(U) [N, m]. */
  private activations(x: tf.Tensor2D): { U: tf.Tensor2D; b: tf.Tensor1D; act: tf.Tensor2D } {
    const U = tf.matMul(x, this.Wt) as tf.Tensor2D;
    const b = this.thresholds();
    return { U, b, act: symmetricThreshold(U, b) };
  }

  /** f(x) [N]. */
  forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(tf.sum(this.activations(x).act, 1), this.outputWeight)) as tf.Tensor1D;
  }

  margins(x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(this.forward(x), y)) as tf.Tensor1D;
  }

  /** Fraction of samples for which every neuron is below its threshold (f = 0 exactly). */
  silentFraction(x: tf.Tensor2D): number {
    return readScalar(() => silentShare(this.activations(x).act));
  }

  /** margins(x, y) and silentFraction(x), by the same operations, from one evaluation of the activations. */
  cleanPass(x: tf.Tensor2D, y: tf.Tensor1D): { margins: Float32Array; silentFraction: number } {
    const [margins, silent] = tf.tidy(() => {
      const { act } = this.activations(x);
      return [tf.mul(tf.mul(tf.sum(act, 1), this.outputWeight), y), silentShare(act)];
    });
    try {
      return { margins: margins.dataSync() as Float32Array, silentFraction: silent.dataSync()[0]! };
    } finally {
      tf.dispose([margins, silent]);
    }
  }

  /**
   * The logistic loss and its gradients for a batch. `xT` is x transposed [d, N], so the weight
   * gradient is a plain matMul (null: transposed here, with the same kernel); `scale` [N] holds
   * each sample's weight in the loss (1/B for a plain mean; the mix protocol weighs clean and
   * adversarial halves).
   */
  gradients(x: tf.Tensor2D, xT: tf.Tensor2D | null, y: tf.Tensor1D, scale: tf.Tensor1D): TwoLayerGradients {
    const kept = tf.tidy(() => {
      const a = this.outputWeight;
      const { U, b, act } = this.activations(x);
      const f = tf.mul(tf.sum(act, 1), a);
      const negMargin = tf.neg(tf.mul(f, y));
      const loss = tf.sum(tf.mul(tf.softplus(negMargin), scale)) as tf.Scalar;
      // g_n * a, with g_n = dL/df_n = -s_n y_n sigma(-y_n f_n)
      const ga = tf.mul(tf.mul(tf.sigmoid(negMargin), tf.mul(y, scale)), -a);
      const S = tf.sign(act); // sign(U) where the neuron is active, 0 in its dead zone
      const G = tf.mul(tf.abs(S), tf.reshape(ga, [-1, 1]));
      let dWt = tf.matMul(xT ?? tf.transpose(x), G) as tf.Tensor2D;
      const dLdb = tf.neg(tf.sum(tf.mul(S, tf.reshape(ga, [-1, 1])), 0)) as tf.Tensor1D;
      let db: tf.Tensor1D | null = null;
      if (this.thresholdMode === 'relative') {
        // b_i = rho ||w_i||  =>  db_i/dw_i = rho w_i / ||w_i||  (0 for a zero neuron)
        const norms = tf.sqrt(tf.sum(tf.square(this.Wt), 0));
        const safe = tf.maximum(norms, 1e-30);
        dWt = tf.add(dWt, tf.mul(this.Wt, tf.div(tf.mul(dLdb, this.thresholdRatio), safe))) as tf.Tensor2D;
      } else if (this.thresholdMode === 'learned') {
        db = dLdb;
      }
      void b;
      void U;
      return db ? { dWt, db, loss } : { dWt, loss };
    }) as { dWt: tf.Tensor2D; db?: tf.Tensor1D; loss: tf.Scalar };
    return { dWt: kept.dWt, db: kept.db ?? null, loss: kept.loss };
  }

  /**
   * Where input gradients come from: null for the generic tfjs ops below, or a faster
   * implementation of the same maths (the fused wasm kernels), set by whoever runs the net.
   */
  inputGradientProvider: ((net: TwoLayerNet) => InputGradientSession) | null = null;

  openInputGradient(): InputGradientSession {
    if (this.inputGradientProvider) return this.inputGradientProvider(this);
    const W = tf.transpose(this.Wt) as tf.Tensor2D; // [m, d], once per attack: the input gradient is G W
    const b = this.thresholds();
    const a = this.outputWeight;
    const activations = (x: tf.Tensor2D) => symmetricThreshold(tf.matMul(x, this.Wt), b);
    const marginOf = (act: tf.Tensor, y: tf.Tensor1D) => tf.mul(tf.mul(tf.sum(act, 1), a), y) as tf.Tensor1D;
    return {
      margin: (x, y) => tf.tidy(() => marginOf(activations(x), y)),
      marginGradient: (x, y) =>
        tf.tidy(() => {
          const act = activations(x);
          const margin = marginOf(act, y);
          // d(-margin)/dU_ni = -y_n a mask_ni
          const G = tf.mul(tf.abs(tf.sign(act)), tf.reshape(tf.mul(y, -a), [-1, 1]));
          return { margin, gradient: tf.matMul(G, W) as tf.Tensor2D };
        }),
      dispose: () => {
        W.dispose();
        b.dispose();
      },
    };
  }

  /** Load row-major weights W [m, d] and thresholds b [m] (ignored in the relative mode). */
  setWeights(W: Float32Array, b: Float32Array | null): void {
    if (W.length !== this.width * this.inputDim) throw new RangeError(`W has ${W.length} values: expected ${this.width * this.inputDim}`);
    const Wt = tf.tidy(() => tf.transpose(tf.tensor2d(W, [this.width, this.inputDim]))) as tf.Tensor2D;
    const thresholds = this.thresholdMode === 'relative' ? null : tf.tensor1d(b ?? new Float32Array(this.width));
    this.setParameters(Wt, thresholds);
  }

  /** Replace parameters (the old tensors are disposed). */
  setParameters(Wt: tf.Tensor2D, b: tf.Tensor1D | null): void {
    if (Wt !== this.Wt) this.Wt.dispose();
    this.Wt = Wt;
    if (b !== this.b) {
      this.b?.dispose();
      this.b = b;
    }
  }
}

/**
 * s_b(U) = ReLU(U - b) - ReLU(-U - b) for U [N, m] and thresholds b [m] >= 0 (every mode keeps
 * them so, and weight files are refused otherwise). These are the same floats as
 * U - clip(U, -b, b): above b both give U - b; below -b, U - (-b) = U + b and
 * 0 - ((-U) - b) = -(-(U + b)) round alike (negation is exact, rounding is symmetric); between,
 * both give zero. tfjs-wasm's Maximum and Minimum take about 8 ns an element, its Sub and Relu a
 * tenth of that, and the evaluation's forward passes ran on them.
 */
export function symmetricThreshold(U: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.relu(tf.sub(U, b)), tf.relu(tf.sub(tf.neg(U), b)))) as tf.Tensor2D;
}

/** The share of rows of `act` [N, m] that are exactly zero (every neuron silent). */
function silentShare(act: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.max(tf.abs(act), 1), 0), 'float32'));
}
