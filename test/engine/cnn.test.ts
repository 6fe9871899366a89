/**
 * The CNN and the backend-gap plan: the filter and input gradients written as forward
 * convolutions equal tfjs's own Conv2DBackprop kernels (on the cpu backend, which has them); the
 * CNN's gradients match central differences (20 probes a tensor, median relative error <= 1e-2,
 * largest <= 5e-2, away from the ReLU and max-pool kinks) and are the same with either filter
 * gradient; the kernel plan substitutes the convolution on wasm and names any kernel that nothing
 * can replace, forced or automatic; and a CNN step runs on wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../main/engine/backend/chooseBackend.ts';
import { describePlan, planKernels } from '../../main/engine/backend/kernelPlan.ts';
import { Cnn, cnnKernels } from '../../main/engine/models/cnn.ts';
import { filterGradient, filterGradientByConvolution, flippedFilter, inputGradient } from '../../main/engine/models/convolution.ts';
import { RandomStream } from '../../main/engine/random.ts';
import type { CnnModel } from '../../shared/config.ts';
import { useWasm } from '../support/backend.ts';

const spec: CnnModel = { kind: 'cnn', channels: [4, 6], kernelSize: 3, initScale: 1 };
const picture = { height: 8, width: 8, channels: 3 };

function batch(n: number, seed: number) {
  const rng = RandomStream.derive(seed, 'cnn-batch');
  const x = tf.tensor2d(Float32Array.from({ length: n * 192 }, () => rng.uniform()), [n, 192]);
  const y = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10));
  return { x, y, xT: tf.transpose(x) as tf.Tensor2D, scale: tf.fill([n], 1 / n) as tf.Tensor1D };
}

afterAll(useWasm);

describe('the convolution backward pass', () => {
  it('the filter and input gradients written as forward convolutions match the Conv2DBackprop kernels (cpu)', async () => {
    await tf.setBackend('cpu');
    for (const k of [3, 4, 5]) {
      const rng = RandomStream.derive(k, 'conv-backward');
      const x = tf.tensor4d(Float32Array.from({ length: 2 * 7 * 6 * 3 }, () => rng.normal()), [2, 7, 6, 3]);
      const f = tf.tensor4d(Float32Array.from({ length: k * k * 3 * 5 }, () => rng.normal()), [k, k, 3, 5]);
      const dy = tf.tensor4d(Float32Array.from({ length: 2 * 7 * 6 * 5 }, () => rng.normal()), [2, 7, 6, 5]);
      const reference = filterGradient(x, dy, k, false); // the backend's own Conv2DBackpropFilter kernel
      const ours = filterGradientByConvolution(x, dy, k).dataSync();
      const want = reference.dataSync();
      for (let i = 0; i < want.length; i++) expect(ours[i]!).toBeCloseTo(want[i]!, 3);
      const dxWant = tf.conv2dTranspose(dy, f, [2, 7, 6, 3], 1, 'same').dataSync(); // Conv2DBackpropInput
      const dx = inputGradient(dy, flippedFilter(f)).dataSync();
      for (let i = 0; i < dxWant.length; i++) expect(dx[i]!).toBeCloseTo(dxWant[i]!, 3);
      tf.dispose([x, f, dy, reference]);
    }
  });

  it('the CNN has the same loss and gradients with either filter gradient (cpu)', async () => {
    await tf.setBackend('cpu');
    const flat = (() => {
      const m = Cnn.initialise(spec, picture, 10, 4, false);
      const v = new Float32Array(m.parameterCount);
      let at = 0;
      for (const t of m.exportParameters()) {
        v.set(t.data, at);
        at += t.data.length;
      }
      m.dispose();
      return v;
    })();
    const { x, y, xT, scale } = batch(5, 1);
    const results = [false, true].map((byConvolution) => {
      const model = Cnn.fromFlat(spec, picture, 10, flat, byConvolution);
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      const out = { loss: loss.dataSync()[0]!, grads: gradients.map((g) => Float32Array.from(g.dataSync())) };
      tf.dispose([loss, ...gradients]);
      model.dispose();
      return out;
    });
    expect(results[1]!.loss).toBeCloseTo(results[0]!.loss, 5);
    results[0]!.grads.forEach((g, i) => {
      for (let j = 0; j < g.length; j++) expect(results[1]!.grads[i]![j]!).toBeCloseTo(g[j]!, 4);
    });
    tf.dispose([x, y, xT, scale]);
  });
});

describe('the CNN backward pass', () => {
  // tfjs computes in float32 only, so the steps are chosen for it: a loss of about 2.3 rounds to
  // about 1e-7 relative, which a central difference at step h turns into about 1e-7 |L| / h, while
  // its truncation error grows as h^2. A probe whose interval crosses a ReLU or max-pool kink is
  // told apart by its two slopes (at h and h/2) disagreeing, which a smooth loss never shows, and
  // is replaced by another coordinate; few may be. Coordinates whose gradient is below float32's
  // resolution of the loss at that step are not probed. Small pictures keep each bias's reach
  // (and so its kinks) small; every tensor has >= 20 entries but the last bias (one per class:
  // all 10 are probed).
  const fdSpec: CnnModel = { kind: 'cnn', channels: [24, 24], kernelSize: 3, initScale: 1 };
  const fdPicture = { height: 4, width: 4, channels: 2 };
  const fdInput = 32;
  const h = 3e-3;
  const smooth = 2e-3; // |slope(h) - slope(h/2)| relative: a kink within [-h, h] gives far more
  const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

  /** Central differences at `count` coordinates of [from, from + size), in random order: the relative errors of the analytic gradient. */
  function probe(
    from: number,
    size: number,
    count: number,
    analytic: ArrayLike<number>,
    f: (index: number, delta: number) => number,
    rng: RandomStream,
  ): { errors: number[]; kinks: number } {
    const order = Array.from({ length: size }, (_, i) => from + i);
    for (let i = size - 1; i > 0; i--) {
      const j = rng.integer(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const errors: number[] = [];
    let kinks = 0;
    for (const p of order) {
      if (errors.length >= count) break;
      const slope = (step: number) => (f(p, step) - f(p, -step)) / (2 * step);
      const coarse = slope(h);
      const fine = slope(h / 2);
      const scale = Math.max(Math.abs(coarse), Math.abs(fine), Math.abs(analytic[p]!));
      if (scale < 1e-3) continue; // no gradient to measure in float32 here
      if (Math.abs(coarse - fine) > smooth * scale + 2e-5) {
        kinks++;
        continue;
      }
      errors.push(Math.abs(fine - analytic[p]!) / scale);
    }
    return { errors, kinks };
  }

  it('parameter and input gradients match central differences: 20 probes a tensor, median relative error <= 1e-2, max <= 5e-2 (cpu)', async () => {
    await tf.setBackend('cpu');
    const model = Cnn.initialise(fdSpec, fdPicture, 10, 9, false);
    const data = RandomStream.derive(4, 'cnn-fd-batch');
    const x = tf.tensor2d(Float32Array.from({ length: 3 * fdInput }, () => data.uniform()), [3, fdInput]);
    const y = tf.tensor1d([3, 7, 1]);
    const xT = tf.transpose(x) as tf.Tensor2D;
    const scale = tf.fill([3], 1 / 3) as tf.Tensor1D;
    const flat = new Float32Array(model.parameterCount);
    let at = 0;
    for (const t of model.exportParameters()) {
      flat.set(t.data, at);
      at += t.data.length;
    }
    const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
    const analytic = new Float32Array(model.parameterCount);
    at = 0;
    for (const g of gradients) {
      analytic.set(g.dataSync(), at);
      at += g.size;
    }
    tf.dispose([loss, ...gradients]);
    // The loss from the forward pass alone, summed in float64: L = sum_n (1/N) (logsumexp(z_n) - z_n[y_n]).
    const labels = y.dataSync();
    const lossWith = (p: number, delta: number) => {
      const values = flat.slice();
      values[p]! += delta;
      const moved = Cnn.fromFlat(fdSpec, fdPicture, 10, values, false);
      const logits = moved.predict(x);
      const z = logits.dataSync();
      tf.dispose(logits);
      moved.dispose();
      let sum = 0;
      for (let n = 0; n < 3; n++) {
        const row = Array.from(z.subarray(n * 10, n * 10 + 10));
        const top = Math.max(...row);
        sum += (top + Math.log(row.reduce((acc, v) => acc + Math.exp(v - top), 0)) - row[labels[n]!]!) / 3;
      }
      return sum;
    };
    const rng = RandomStream.derive(5, 'cnn-fd');
    const results: { name: string; size: number; errors: number[]; kinks: number }[] = [];
    let offset = 0;
    model.exportParameters().forEach((t, i) => {
      const size = t.data.length;
      results.push({ name: model.parameterNames[i]!, size, ...probe(offset, size, 20, analytic, lossWith, rng) });
      offset += size;
    });
    // The input gradient: of the negative margin, per sample.
    const session = model.openInputGradient();
    const { margin, gradient } = session.marginGradient(x, y);
    const g = Float32Array.from(gradient.dataSync());
    const xv = x.dataSync() as Float32Array;
    const negMarginWith = (j: number, delta: number) => {
      const values = Float32Array.from(xv);
      values[j]! += delta;
      const t = tf.tensor2d(values, [3, fdInput]);
      const v = -model.margins(t, y).dataSync()[Math.floor(j / fdInput)]!;
      t.dispose();
      return v;
    };
    results.push({ name: 'input', size: xv.length, ...probe(0, xv.length, 20, g, negMarginWith, rng) });
    session.dispose();
    tf.dispose([margin, gradient, x, y, xT, scale]);
    model.dispose();
    for (const r of results) {
      expect(r.errors.length, `${r.name}: probes`).toBe(Math.min(20, r.size));
      expect(r.kinks, `${r.name}: probes across a kink`).toBeLessThanOrEqual(r.errors.length);
      expect(median(r.errors), `${r.name}: median relative error`).toBeLessThanOrEqual(1e-2);
      expect(Math.max(...r.errors), `${r.name}: largest relative error`).toBeLessThanOrEqual(5e-2);
    }
  });
});

describe('the kernel plan', () => {
  it('on wasm, the CNN computes Conv2DBackpropFilter as a forward convolution and says so; the CNN trains there', async () => {
    await useWasm();
    const plan = planKernels(cnnKernels, 'wasm');
    expect(plan.substituted.map((s) => s.kernel)).toEqual(['Conv2DBackpropFilter']);
    expect(describePlan(plan)).toBe('The wasm backend has no Conv2DBackpropFilter kernel: computing it by a forward convolution with the batch as channels instead.');
    // A few steps of SGD lower the loss on a fixed batch.
    const model = Cnn.initialise(spec, picture, 10, 2, true);
    const { x, y, xT, scale } = batch(16, 2);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      losses.push(loss.dataSync()[0]!);
      model.setParameters(model.parameters().map((p, i) => tf.sub(p, tf.mul(gradients[i]!, 0.3))));
      tf.dispose([loss, ...gradients]);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    tf.dispose([x, y, xT, scale]);
    model.dispose();
  });

  it('a missing kernel with no stand-in stops the run before it starts, naming it (forced or automatic)', () => {
    const has = (k: string) => k !== 'MaxPoolGrad' && k !== 'Conv2DBackpropFilter';
    for (const forced of [true, false]) {
      expect(() => planKernels(cnnKernels, 'fake', { forced, has })).toThrow(BackendError);
      expect(() => planKernels(cnnKernels, 'fake', { forced, has })).toThrow(
        new RegExp(`The fake backend \\(${forced ? 'forced with --backend' : 'chosen automatically'}\\) lacks the kernel MaxPoolGrad`),
      );
    }
    // A stand-in whose own kernels are missing does not count.
    expect(() => planKernels(['Conv2DBackpropFilter'], 'fake', { has: (k) => k !== 'Conv2DBackpropFilter' && k !== 'Transpose' })).toThrow(/Conv2DBackpropFilter/);
    expect(planKernels(cnnKernels, 'cpu-like', { has: () => true }).substituted).toEqual([]);
  });
});
