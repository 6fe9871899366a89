/**
 * The two-layer network's hot path on tfjs-wasm with the fused kernels of ./kernels: the same
 * maths as TwoLayerNet.gradients + Optimizer (and tested against them), in 2 matMuls and 4
 * kernel calls per training step and 2 matMuls and 2 calls per PGD step, instead of ~25 tfjs
 * kernel launches of ~8 µs each.
 *
 * Layout: the trainer works on W [m, d] (rows are neurons) so that the forward pass is
 * U^T = W X^T and the weight gradient is dW = G^T X: both matMuls take the batch as their
 * right-hand operand, which tfjs-wasm packs once per tensor (XNNPACK operator cache), while W,
 * which changes every step, is always on the left. W is written back to the network at the end of
 * each epoch (`sync`), where instruments and evaluations read it.
 *
 * Modes: relative and fixed thresholds, with SGD (momentum or not) or Adam. Learned thresholds
 * use the generic trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { InputGradientSession } from './models/classifier.ts';
import type { TwoLayerNet } from './models/twoLayerNet.ts';
import { loadFusedKernels, type FusedKernels } from './kernels/fusedKernels.ts';
import { createGenericTrainer, type Trainer, type TrainingAttack } from './train.ts';
import { randomStart, stepSizeFor } from './attacks/pgd.ts';
import { readBack } from './readBack.ts';

/** A tensor of the same values that owns its own memory (tf.clone shares memory on wasm). */
function ownedCopy<T extends tf.Tensor>(t: T): T {
  return tf.add(t, 0) as T;
}

/** Workspace tensors keyed by shape, allocated once and overwritten by the kernels. */
class Workspace {
  private readonly tensors = new Map<string, tf.Tensor>();
  get(name: string, shape: number[]): tf.Tensor {
    const key = `${name}:${shape.join('x')}`;
    let t = this.tensors.get(key);
    if (!t) {
      t = tf.zeros(shape);
      this.tensors.set(key, t);
    }
    return t;
  }
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

/**
 * T PGD steps with the fused step kernels, on rows that carry their own radius and step size:
 * x0 [R, d], y [R], eps and alpha [R], from x0 (or from `start`, a point in the ball that the
 * caller drew). W [m, d], Wt = W^T and b [m] are only read. Returns the adversarial points (a
 * fresh tensor the kernels updated in place) and the zero-gradient rows of the first step.
 */
function fusedPgd(
  kernels: FusedKernels,
  weights: { W: tf.Tensor2D; Wt: tf.Tensor2D; b: tf.Tensor1D; a: number },
  x0: tf.Tensor2D,
  y: tf.Tensor1D,
  eps: Float32Array,
  alpha: Float32Array,
  options: { norm: 'l2' | 'linf'; steps: number; clip: readonly [number, number] | null | undefined; start: tf.Tensor2D | null },
): { x: tf.Tensor2D; zeroGradient: number } {
  const rows = x0.shape[0];
  const m = weights.W.shape[0];
  const Gx = tf.zeros([rows, m]);
  const margin = tf.zeros([rows]);
  const alphaT = tf.tensor1d(alpha);
  const epsT = tf.tensor1d(eps);
  const Xadv = options.start ? ownedCopy(options.start) : ownedCopy(x0);
  const [lo, hi] = options.clip ?? [0, 0];
  const clip = options.clip ? 1 : 0;
  let zeroGradient = 0;
  for (let step = 0; step < options.steps; step++) {
    const U = tf.matMul(Xadv, weights.Wt);
    kernels.marginGradient(U, weights.b, y, weights.a, Gx, margin);
    const grad = tf.matMul(Gx, weights.W);
    const zero = options.norm === 'l2' ? kernels.pgdL2Step(Xadv, x0, grad, alphaT, epsT, lo, hi, clip) : kernels.pgdLinfStep(Xadv, x0, grad, alphaT, epsT, lo, hi, clip);
    if (step === 0) zeroGradient = zero;
    tf.dispose([U, grad]);
  }
  tf.dispose([Gx, margin, alphaT, epsT]);
  return { x: Xadv, zeroGradient };
}

/** x plus a random start in the eps-ball (pgd.ts's draw), clipped to the data range. */
function randomStartPoint(x: tf.Tensor2D, eps: number, norm: 'l2' | 'linf', clip: readonly [number, number] | null, rng: TrainingAttack['rng']): tf.Tensor2D {
  const [rows, d] = x.shape;
  return tf.tidy(() => {
    const s = tf.add(x, randomStart(rows, d, new Float32Array(rows).fill(eps), norm, rng));
    return (clip ? tf.clipByValue(s, clip[0], clip[1]) : s) as tf.Tensor2D;
  });
}

/** One training batch's adversarial version under the trainer's current weights. */
function fusedPerturb(kernels: FusedKernels, W: tf.Tensor2D, b: tf.Tensor1D, a: number, x: tf.Tensor2D, y: tf.Tensor1D, attack: TrainingAttack): tf.Tensor2D {
  const rows = x.shape[0];
  const Wt = tf.transpose(W) as tf.Tensor2D; // packed once per attack as the forward's right operand
  const start = attack.randomStart ? randomStartPoint(x, attack.eps, attack.norm, attack.clip, attack.rng) : null;
  const { x: xAdv } = fusedPgd(
    kernels,
    { W, Wt, b, a },
    x,
    y,
    new Float32Array(rows).fill(attack.eps),
    new Float32Array(rows).fill(stepSizeFor(attack.eps, attack.steps, attack.stepSize, attack.stepScale)),
    { norm: attack.norm, steps: attack.steps, clip: attack.clip, start },
  );
  tf.dispose([Wt, ...(start ? [start] : [])]);
  return xAdv;
}

/** The fused trainer of one phase, or null when the network's mode has no fused path. */
export function createFusedTrainer(kernels: FusedKernels, net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
  if (net.thresholdMode === 'learned') return null;
  const { optimizer } = config.train;
  const m = net.width;
  const d = net.inputDim;
  const a = net.outputWeight;
  const rho = net.thresholdRatio;
  const relative = net.thresholdMode === 'relative';
  const workspace = new Workspace();
  const W = tf.tidy(() => ownedCopy(tf.transpose(net.Wt))) as tf.Tensor2D; // [m, d], ours to update in place
  const b = (relative ? tf.zeros([m]) : ownedCopy(net.b!)) as tf.Tensor1D;
  const invNorm = tf.zeros([m]);
  const dbl = tf.zeros([m]);
  let first = optimizer.kind === 'adam' || optimizer.momentum > 0 ? tf.zeros([m, d]) : null;
  let second = optimizer.kind === 'adam' ? tf.zeros([m, d]) : null;
  let t = 0;
  let lossSum = 0;

  const refreshThresholds = () => {
    if (relative) kernels.thresholdFromRowNorms(W, rho, b, invNorm);
  };

  return {
    step(x, xT, y, scale, lr) {
      const B = x.shape[0];
      refreshThresholds();
      const UT = tf.matMul(W, xT); // [m, B]
      const GT = workspace.get('GT', [m, B]);
      lossSum += kernels.logisticStepT(UT, b, y, scale, a, GT, dbl);
      const dW = tf.matMul(GT, x); // [m, d]
      if (relative) kernels.relativeThresholdGradientRows(dW, W, dbl, invNorm, rho);
      t += 1;
      if (optimizer.kind === 'adam') kernels.adamUpdate(W, dW, first!, second!, lr, optimizer.beta1, optimizer.beta2, optimizer.epsilon, t);
      else if (first) kernels.momentumUpdate(W, dW, first, lr, optimizer.momentum);
      else kernels.sgdUpdate(W, dW, lr);
      tf.dispose([UT, dW]);
    },
    perturb(x, y, attack) {
      refreshThresholds();
      return fusedPerturb(kernels, W, b, a, x, y, attack);
    },
    takeLoss() {
      const value = lossSum;
      lossSum = 0;
      return value;
    },
    sync() {
      const Wt = tf.tidy(() => tf.transpose(W)) as tf.Tensor2D;
      net.setParameters(Wt, net.b);
    },
    exportState() {
      // The moments are kept in the row layout W [m, d]; the generic trainer keeps Wt [d, m].
      // A checkpoint always stores the generic layout, so either trainer can resume it.
      const tensors: Record<string, Float32Array> = {};
      const m1 = first;
      const m2 = second;
      if (m1) tensors['first.0'] = readBack(() => tf.transpose(m1)) as Float32Array;
      if (m2) tensors['second.0'] = readBack(() => tf.transpose(m2)) as Float32Array;
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      // Fresh tensors in the row layout (the checkpoint holds the generic Wt layout).
      const load = (current: tf.Tensor | null, key: string): tf.Tensor | null => {
        const values = state.tensors[key];
        if (!current || !values) return current;
        current.dispose();
        return tf.tidy(() => ownedCopy(tf.transpose(tf.tensor2d(values, [d, m]))));
      };
      first = load(first, 'first.0');
      second = load(second, 'second.0');
    },
    dispose() {
      workspace.dispose();
      tf.dispose([W, b, invNorm, dbl, ...(first ? [first] : []), ...(second ? [second] : [])]);
    },
  };
}

/**
 * The factory the experiment uses: fused where the wasm kernels load and the mode allows, the
 * generic trainer otherwise. Null when the kernels are not available on this backend.
 */
export async function fusedTrainerFactory(): Promise<((net: TwoLayerNet, config: ResolvedExperiment) => Trainer) | null> {
  const kernels = await loadFusedKernels();
  if (!kernels) return null;
  return (net, config) => createFusedTrainer(kernels, net, config) ?? createGenericTrainer(net, config);
}

/**
 * A fused input-gradient session on `net` as it is now, for evaluation attacks: margins and
 * gradients through the fused margin kernel, and whole PGD runs through the fused step kernels.
 */
export function fusedInputGradient(kernels: FusedKernels, net: TwoLayerNet): InputGradientSession {
  const W = tf.tidy(() => ownedCopy(tf.transpose(net.Wt))) as tf.Tensor2D;
  const Wt = ownedCopy(net.Wt);
  const b = net.thresholds();
  const a = net.outputWeight;
  const m = net.width;
  return {
    marginGradient(x, y) {
      const n = x.shape[0];
      const U = tf.matMul(x, Wt);
      const Gx = tf.zeros([n, m]);
      const margin = tf.zeros([n]) as tf.Tensor1D;
      kernels.marginGradient(U, b, y, a, Gx, margin);
      const gradient = tf.matMul(Gx, W) as tf.Tensor2D;
      tf.dispose([U, Gx]);
      return { margin, gradient };
    },
    runPgd(x0, y, eps, alpha, options) {
      return fusedPgd(kernels, { W, Wt, b, a }, x0, y, eps, alpha, options);
    },
    dispose() {
      tf.dispose([W, Wt, b]);
    },
  };
}

/** Route a network's input gradients (evaluation attacks) through the fused kernels. */
export async function fusedInputGradientProvider(): Promise<((net: TwoLayerNet) => InputGradientSession) | null> {
  const kernels = await loadFusedKernels();
  return kernels ? (net) => fusedInputGradient(kernels, net) : null;
}
