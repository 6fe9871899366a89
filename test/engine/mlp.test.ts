/**
 * The image MLP's hand-written gradients against central finite differences of a float64 loss
 * computed straight from the definition (softmax cross-entropy over the classes), for both
 * activations; its input gradient against finite differences of the multi-class margin; the
 * fused PGD loop against the generic one; and PGD on images staying inside the eps-ball and [0, 1].
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { loadFusedKernelsSync } from '../../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { RandomStream } from '../../main/engine/random.ts';
import type { MlpModel } from '../../shared/config.ts';
import { useWasm } from '../support/backend.ts';

const picture = { height: 3, width: 2, channels: 1 }; // d = 6
const d = 6;
const m = 5;
const C = 3;
const n = 7;

function spec(activation: MlpModel['activation']): MlpModel {
  return { kind: 'mlp', width: m, activation, thresholdRatio: 0.3, initScale: 1 };
}

/** Flat parameters (PyTorch layout) -> float64 loss sum_n (1/n) CE(z_n, y_n). */
function referenceLoss(flat: Float64Array, activation: MlpModel['activation'], x: Float64Array, y: readonly number[]): number {
  const W = (i: number, j: number) => flat[i * d + j]!;
  const c = (i: number) => flat[m * d + i]!;
  const V = (k: number, i: number) => flat[m * d + m + k * m + i]!;
  const e = (k: number) => flat[m * d + m + C * m + k]!;
  let loss = 0;
  for (let s = 0; s < n; s++) {
    const h: number[] = [];
    for (let i = 0; i < m; i++) {
      let u = c(i);
      let norm2 = 0;
      for (let j = 0; j < d; j++) {
        u += W(i, j) * x[s * d + j]!;
        norm2 += W(i, j) ** 2;
      }
      const b = 0.3 * Math.sqrt(norm2);
      h.push(activation === 'relu' ? Math.max(u, 0) : Math.max(u - b, 0) - Math.max(-u - b, 0));
    }
    const z = Array.from({ length: C }, (_, k) => e(k) + h.reduce((acc, hi, i) => acc + V(k, i) * hi, 0));
    const zmax = Math.max(...z);
    const lse = zmax + Math.log(z.reduce((acc, v) => acc + Math.exp(v - zmax), 0));
    loss += (lse - z[y[s]!]!) / n;
  }
  return loss;
}

/** The gradient of the model, moved into the flat PyTorch layout. */
function modelGradient(model: Mlp, x: tf.Tensor2D, y: tf.Tensor1D): Float64Array {
  const xT = tf.transpose(x) as tf.Tensor2D;
  const scale = tf.fill([n], 1 / n) as tf.Tensor1D;
  const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
  const [dW, dc, dV, de] = gradients.map((g) => g.dataSync());
  const out = new Float64Array(model.parameterCount);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) out[i * d + j] = dW![j * m + i]!;
  for (let i = 0; i < m; i++) out[m * d + i] = dc![i]!;
  for (let k = 0; k < C; k++) for (let i = 0; i < m; i++) out[m * d + m + k * m + i] = dV![i * C + k]!;
  for (let k = 0; k < C; k++) out[m * d + m + C * m + k] = de![k]!;
  tf.dispose([xT, scale, loss, ...gradients]);
  return out;
}

beforeAll(useWasm);

describe('the image MLP', () => {
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    it(`${activation}: every parameter's gradient matches finite differences of the float64 loss`, () => {
      const model = Mlp.initialise(spec(activation), picture, C, 3);
      const rng = RandomStream.derive(1, 'mlp-fd');
      const xv = new Float64Array(n * d).map(() => rng.uniform());
      const y = Array.from({ length: n }, (_, s) => s % C);
      const x = tf.tensor2d(Float32Array.from(xv), [n, d]);
      const yt = tf.tensor1d(y);
      const flat = Float64Array.from(model.exportParameters().flatMap((t) => Array.from(t.data)));
      const analytic = modelGradient(model, x, yt);
      const h = 1e-5;
      let worst = 0;
      for (let p = 0; p < flat.length; p++) {
        const plus = flat.slice();
        const minus = flat.slice();
        plus[p]! += h;
        minus[p]! -= h;
        const numeric = (referenceLoss(plus, activation, xv, y) - referenceLoss(minus, activation, xv, y)) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - analytic[p]!) / Math.max(1e-3, Math.abs(numeric)));
      }
      // float32 forward pass against a float64 reference.
      expect(worst).toBeLessThan(2e-3);
      // And the forward pass itself: the loss of the model equals the reference.
      const xT = tf.transpose(x) as tf.Tensor2D;
      const scale = tf.fill([n], 1 / n) as tf.Tensor1D;
      const { loss, gradients } = model.lossAndGradients(x, xT, yt, scale);
      expect(loss.dataSync()[0]).toBeCloseTo(referenceLoss(flat, activation, xv, y), 5);
      tf.dispose([x, yt, xT, scale, loss, ...gradients]);
      model.dispose();
    });
  }

  it('the input gradient is the gradient of the negative multi-class margin', () => {
    const model = Mlp.initialise(spec('relu'), picture, C, 5);
    const rng = RandomStream.derive(2, 'mlp-input');
    const xv = Float32Array.from({ length: n * d }, () => rng.uniform());
    const y = tf.tensor1d(Array.from({ length: n }, (_, s) => s % C));
    const x = tf.tensor2d(xv, [n, d]);
    const session = model.openInputGradient();
    const { margin, gradient } = session.marginGradient(x, y);
    const g = gradient.dataSync();
    const marginAt = (values: Float32Array) => {
      const t = tf.tensor2d(values, [n, d]);
      const out = model.margins(t, y).dataSync();
      t.dispose();
      return out;
    };
    // Margins from margins() and from the session agree.
    expect(Array.from(margin.dataSync())).toEqual(Array.from(marginAt(xv)));
    const h = 1e-2;
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < d; j++) {
        const plus = xv.slice();
        const minus = xv.slice();
        plus[s * d + j]! += h;
        minus[s * d + j]! -= h;
        const numeric = -(marginAt(plus)[s]! - marginAt(minus)[s]!) / (2 * h);
        expect(g[s * d + j]!).toBeCloseTo(numeric, 2);
      }
    }
    session.dispose();
    tf.dispose([x, y, margin, gradient]);
    model.dispose();
  });

  it('PGD on images stays inside the eps-ball and inside [0, 1], fused or generic, and both agree', () => {
    const model = Mlp.initialise({ kind: 'mlp', width: 32, activation: 'relu', thresholdRatio: 0, initScale: 1 }, { height: 8, width: 8, channels: 1 }, 10, 7);
    const rows = 40;
    const rng = RandomStream.derive(3, 'mlp-pgd');
    // Pixels at the edges of the range as well, so that clipping matters.
    const xv = Float32Array.from({ length: rows * 64 }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform() < 0.3 ? 1 : rng.uniform()));
    const x = tf.tensor2d(xv, [rows, 64]);
    const y = tf.tensor1d(Array.from({ length: rows }, (_, s) => s % 10));
    const kernels = loadFusedKernelsSync();
    expect(kernels).not.toBeNull();
    const own = tf.tidy(() => tf.cast(tf.argMax(model.predict(x), 1), 'float32')) as tf.Tensor1D;
    for (const norm of ['linf', 'l2'] as const) {
      const eps = norm === 'linf' ? 0.1 : 1;
      const outputs: Float32Array[] = [];
      for (const fused of [false, true]) {
        model.pgdKernels = fused ? kernels : null;
        const adv = pgdPerturb(model, x, y, { eps, norm, steps: 10, randomStart: false, clip: [0, 1] });
        const a = adv.dataSync() as Float32Array;
        outputs.push(Float32Array.from(a));
        for (let s = 0; s < rows; s++) {
          let l2 = 0;
          let linf = 0;
          for (let j = 0; j < 64; j++) {
            const v = a[s * 64 + j]!;
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
            const delta = v - xv[s * 64 + j]!;
            l2 += delta * delta;
            linf = Math.max(linf, Math.abs(delta));
          }
          if (norm === 'linf') expect(linf).toBeLessThanOrEqual(eps + 1e-6);
          else expect(Math.sqrt(l2)).toBeLessThanOrEqual(eps * (1 + 1e-5));
        }
        adv.dispose();
      }
      let maxDiff = 0;
      for (let i = 0; i < outputs[0]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(outputs[0]![i]! - outputs[1]![i]!));
      expect(maxDiff).toBeLessThan(1e-4);
      // The attack works: labelled with the model's own predictions, every sample is right
      // clean, and at three times the radius PGD turns most of them wrong.
      model.pgdKernels = kernels;
      const result = pgdAttack(model, x, own, { eps: [0, eps * 3], norm, steps: 20, clip: [0, 1] });
      const accuracy = result.success.map((s) => 1 - s.reduce((a, v) => a + v, 0) / rows);
      expect(accuracy[0]!).toBe(1);
      expect(accuracy[1]!).toBeLessThanOrEqual(0.1);
    }
    model.pgdKernels = null;
    tf.dispose([x, y, own]);
    model.dispose();
  });
});
