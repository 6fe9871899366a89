/**
 * The CNN and the backend-gap plan: the filter and input gradients written as forward
 * convolutions equal tfjs's own Conv2DBackprop kernels (on the cpu backend, which has them); the
 * CNN's gradients match finite differences and are the same with either filter gradient; the kernel plan substitutes the convolution on wasm and names any kernel
 * that nothing can replace, forced or automatic; and a CNN step runs on wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../main/engine/backend.ts';
import { describePlan, planKernels } from '../../main/engine/kernelPlan.ts';
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
  it('parameter and input gradients match finite differences of the loss and the margin (cpu)', async () => {
    await tf.setBackend('cpu');
    const model = Cnn.initialise(spec, picture, 10, 9, false);
    const { x, y, xT, scale } = batch(3, 4);
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
    const lossAt = (values: Float32Array) => {
      const probe = Cnn.fromFlat(spec, picture, 10, values, false);
      const r = probe.lossAndGradients(x, xT, y, scale);
      const v = r.loss.dataSync()[0]!;
      tf.dispose([r.loss, ...r.gradients]);
      probe.dispose();
      return v;
    };
    const rng = RandomStream.derive(5, 'cnn-fd');
    const h = 1e-3;
    // Every layer's weights and biases, a few coordinates each.
    const sizes = model.exportParameters().map((t) => t.data.length);
    let offset = 0;
    for (const size of sizes) {
      for (let probe = 0; probe < 3; probe++) {
        const p = offset + rng.integer(size);
        const plus = flat.slice();
        const minus = flat.slice();
        plus[p]! += h;
        minus[p]! -= h;
        const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h);
        expect(Math.abs(numeric - analytic[p]!)).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
      }
      offset += size;
    }
    // The input gradient: of the negative margin.
    const session = model.openInputGradient();
    const { margin, gradient } = session.marginGradient(x, y);
    const g = gradient.dataSync();
    const xv = x.dataSync() as Float32Array;
    for (let probe = 0; probe < 12; probe++) {
      const j = rng.integer(xv.length);
      const s = Math.floor(j / 192);
      const at2 = (delta: number) => {
        const values = Float32Array.from(xv);
        values[j]! += delta;
        const t = tf.tensor2d(values, [3, 192]);
        const v = model.margins(t, y).dataSync()[s]!;
        t.dispose();
        return v;
      };
      const numeric = -(at2(h) - at2(-h)) / (2 * h);
      expect(Math.abs(numeric - g[j]!)).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
    }
    tf.dispose([margin, gradient, x, y, xT, scale]);
    model.dispose();
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
