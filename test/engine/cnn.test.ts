/**
 * The CNN and the backend-gap plan: the im2col filter gradient equals tfjs's own
 * Conv2DBackpropFilter (on the cpu backend, which has it); the CNN's gradients are the same
 * with and without im2col; the kernel plan substitutes im2col on wasm and names any kernel
 * that nothing can replace, forced or automatic; and a CNN step runs on wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../main/engine/backend.ts';
import { describePlan, planKernels } from '../../main/engine/kernelPlan.ts';
import { Cnn, cnnKernels } from '../../main/engine/models/cnn.ts';
import { filterGradientIm2col, patches } from '../../main/engine/models/convolution.ts';
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

describe('convolution by im2col', () => {
  it('the patch matrix and the filter gradient match tfjs conv2d and Conv2DBackpropFilter (cpu)', async () => {
    await tf.setBackend('cpu');
    for (const k of [3, 4, 5]) {
      const rng = RandomStream.derive(k, 'im2col');
      const x = tf.tensor4d(Float32Array.from({ length: 2 * 7 * 6 * 3 }, () => rng.normal()), [2, 7, 6, 3]);
      const f = tf.tensor4d(Float32Array.from({ length: k * k * 3 * 5 }, () => rng.normal()), [k, k, 3, 5]);
      // conv(x, F) = P F_flat
      const direct = tf.conv2d(x, f, 1, 'same').dataSync();
      const viaPatches = tf.matMul(patches(x, k), tf.reshape(f, [k * k * 3, 5])).dataSync();
      for (let i = 0; i < direct.length; i++) expect(viaPatches[i]!).toBeCloseTo(direct[i]!, 4);
      const dy = tf.tensor4d(Float32Array.from({ length: 2 * 7 * 6 * 5 }, () => rng.normal()), [2, 7, 6, 5]);
      const reference = tf.conv2dBackpropFilter?.(x, dy, [k, k, 3, 5], 1, 'same') ?? (tf.grad((ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ff as tf.Tensor4D, 1, 'same'), dy)))(f) as tf.Tensor4D);
      const ours = filterGradientIm2col(x, dy, k).dataSync();
      const want = reference.dataSync();
      for (let i = 0; i < want.length; i++) expect(ours[i]!).toBeCloseTo(want[i]!, 3);
      tf.dispose([x, f, dy, reference]);
    }
  });

  it('the CNN has the same loss and gradients with and without im2col (cpu)', async () => {
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
    const results = [false, true].map((im2col) => {
      const model = Cnn.fromFlat(spec, picture, 10, flat, im2col);
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

describe('the kernel plan', () => {
  it('on wasm, the CNN computes Conv2DBackpropFilter by im2col and says so; the CNN trains there', async () => {
    await useWasm();
    const plan = planKernels(cnnKernels, 'wasm');
    expect(plan.substituted.map((s) => s.kernel)).toEqual(['Conv2DBackpropFilter']);
    expect(describePlan(plan)).toBe('The wasm backend has no Conv2DBackpropFilter kernel: computing it by im2col + matMul instead.');
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
    expect(() => planKernels(['Conv2DBackpropFilter'], 'fake', { has: (k) => k !== 'Conv2DBackpropFilter' && k !== 'Slice' })).toThrow(/Conv2DBackpropFilter/);
    expect(planKernels(cnnKernels, 'cpu-like', { has: () => true }).substituted).toEqual([]);
  });
});
