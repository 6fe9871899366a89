/**
 * The network's hand-written gradients against central finite differences of the loss, for
 * every threshold mode, w.r.t. W, x and the learned thresholds. The reference loss is computed
 * in float64 JavaScript straight from the formula, so this also checks the tfjs forward pass.
 * Points are drawn away from the kinks |<w_i, x>| = b_i, where s_b is not differentiable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type TwoLayerModel } from '../../shared/config.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';

const d = 6;
const m = 5;
const n = 7;

function modelSpec(mode: TwoLayerModel['threshold']['mode'], outputWeight: TwoLayerModel['outputWeight'] = 'one'): TwoLayerModel {
  return resolveSparseCoding({ model: { kind: 'two-layer', width: m, outputWeight, threshold: { mode, ratio: 0.3, value: 0.2 } } }).model;
}

/** Neuron i's pre-activation u = ⟨w_i, x_s⟩ and its threshold b_i: learned or fixed, else ρ‖w_i‖. */
function preActivation(W: Float64Array, b: Float64Array | null, rho: number, x: Float64Array, s: number, i: number): { u: number; bi: number } {
  let u = 0;
  let norm2 = 0;
  for (let j = 0; j < d; j++) {
    u += W[i * d + j]! * x[s * d + j]!;
    norm2 += W[i * d + j]! ** 2;
  }
  return { u, bi: b ? b[i]! : rho * Math.sqrt(norm2) };
}

/** float64 f(x_s) = sum_i a s_b(u_i), with s_b(u) = relu(u - b) - relu(-u - b), straight from the definition. */
function referenceOutput(W: Float64Array, b: Float64Array | null, rho: number, a: number, x: Float64Array, s: number): number {
  let f = 0;
  for (let i = 0; i < m; i++) {
    const { u, bi } = preActivation(W, b, rho, x, s, i);
    f += a * (Math.max(u - bi, 0) - Math.max(-u - bi, 0));
  }
  return f;
}

/** float64 loss sum_n s_n log(1 + exp(-y_n f_n)) straight from the definition. */
function referenceLoss(W: Float64Array, b: Float64Array | null, rho: number, a: number, x: Float64Array, y: Float64Array): number {
  let loss = 0;
  for (let s = 0; s < n; s++) loss += Math.log1p(Math.exp(-y[s]! * referenceOutput(W, b, rho, a, x, s))) / n;
  return loss;
}

/** Smallest distance of any pre-activation to its kink, relative to its threshold scale. */
function kinkDistance(W: Float64Array, b: Float64Array | null, rho: number, x: Float64Array): number {
  let smallest = Infinity;
  for (let s = 0; s < n; s++)
    for (let i = 0; i < m; i++) {
      const { u, bi } = preActivation(W, b, rho, x, s, i);
      smallest = Math.min(smallest, Math.abs(Math.abs(u) - bi));
    }
  return smallest;
}

/** The central finite difference (L(θ + h e_k) - L(θ - h e_k)) / 2h of L along coordinate k of θ. */
function centralDifference(theta: Float64Array, k: number, L: (theta: Float64Array) => number, h = 1e-6): number {
  const plus = Float64Array.from(theta);
  const minus = Float64Array.from(theta);
  plus[k]! += h;
  minus[k]! -= h;
  return (L(plus) - L(minus)) / (2 * h);
}

function drawPoint(seed: number, model: TwoLayerModel) {
  for (let attempt = 0; ; attempt++) {
    const rng = RandomStream.derive(seed + 1000 * attempt, 'gradient-check');
    const W = Float64Array.from({ length: m * d }, () => rng.normal());
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    const y = Float64Array.from({ length: n }, () => rng.sign());
    const b = model.threshold.mode === 'relative' ? null : Float64Array.from({ length: m }, () => 0.3 + rng.uniform());
    if (kinkDistance(W, b, model.threshold.ratio, x) > 0.02) return { W, x, y, b };
  }
}

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-3, Math.abs(a) + Math.abs(b));
}

beforeAll(useWasm);

describe.each(['relative', 'fixed', 'learned'] as const)('two-layer gradients, %s thresholds', (mode) => {
  for (const outputWeight of ['one', 'inv-sqrt-width'] as const) {
    it(`dL/dW${mode === 'learned' ? ' and dL/db' : ''} match finite differences (a = ${outputWeight})`, () => {
      const model = modelSpec(mode, outputWeight);
      const { W, x, y, b } = drawPoint(mode.length, model);
      const net = TwoLayerNet.fromWeights(model, d, Float32Array.from(W), b ? Float32Array.from(b) : null);
      const a = net.outputWeight;
      const xT = tf.tensor2d(Float32Array.from(x), [n, d]);
      const grads = tf.tidy(() => {
        const g = net.gradients(xT, tf.transpose(xT), tf.tensor1d(Float32Array.from(y)), tf.fill([n], 1 / n) as tf.Tensor1D);
        return { dW: tf.transpose(g.dWt), db: g.db ?? tf.zeros([m]), loss: g.loss };
      });
      const dW = grads.dW.dataSync();
      const db = grads.db.dataSync();
      const loss = grads.loss.dataSync()[0]!;
      const rho = model.threshold.ratio;
      expect(relativeError(loss, referenceLoss(W, b, rho, a, x, y))).toBeLessThan(1e-5);
      for (let k = 0; k < m * d; k++) {
        const numeric = centralDifference(W, k, (w) => referenceLoss(w, b, rho, a, x, y));
        expect(Math.abs(dW[k]! - numeric)).toBeLessThan(2e-4 + 1e-3 * Math.abs(numeric));
      }
      if (mode === 'learned') {
        for (let i = 0; i < m; i++) {
          const numeric = centralDifference(b!, i, (thresholds) => referenceLoss(W, thresholds, rho, a, x, y));
          expect(Math.abs(db[i]! - numeric)).toBeLessThan(2e-4 + 1e-3 * Math.abs(numeric));
          expect(Math.abs(numeric)).toBeGreaterThan(0); // the check is not vacuous
        }
      }
      tf.dispose([xT, grads.dW, grads.db, grads.loss]);
      net.dispose();
    });
  }

  it('the input gradient of -margin matches finite differences', () => {
    const model = modelSpec(mode);
    const { W, x, y, b } = drawPoint(7 + mode.length, model);
    const net = TwoLayerNet.fromWeights(model, d, Float32Array.from(W), b ? Float32Array.from(b) : null);
    const session = net.openInputGradient();
    const { gradient, margin } = tf.tidy(() => session.marginGradient(tf.tensor2d(Float32Array.from(x), [n, d]), tf.tensor1d(Float32Array.from(y))));
    const g = gradient.dataSync();
    const margins = margin.dataSync();
    const negMargin = (xs: Float64Array, s: number) => -y[s]! * referenceOutput(W, b, model.threshold.ratio, net.outputWeight, xs, s);
    let nonZero = 0;
    for (let s = 0; s < n; s++) {
      expect(Math.abs(-margins[s]! - negMargin(x, s))).toBeLessThan(1e-4);
      for (let j = 0; j < d; j++) {
        const numeric = centralDifference(x, s * d + j, (xs) => negMargin(xs, s));
        expect(Math.abs(g[s * d + j]! - numeric)).toBeLessThan(1e-4 + 1e-4 * Math.abs(numeric));
        if (numeric !== 0) nonZero++;
      }
    }
    expect(nonZero).toBeGreaterThan(0);
    tf.dispose([gradient, margin]);
    session.dispose();
    net.dispose();
  });
});
