/**
 * The symmetric thresholded ReLU as the two-layer net computes it, ReLU(U - b) - ReLU(-U - b),
 * gives the very floats of U - clip(U, -b, b) (its definition, and the ops it replaced), on
 * values at, just inside and just outside the thresholds, zeros of both signs and zero
 * thresholds; so the net's margins keep their bits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { symmetricThreshold, TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { resolveSparseCoding } from '../../shared/config.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

const byClip = (U: tf.Tensor2D, b: tf.Tensor1D) => tf.tidy(() => tf.sub(U, tf.minimum(tf.maximum(U, tf.neg(b)), b)));

/** Elementwise equality of floats, telling -0 from +0 and NaN from nothing else. */
function sameBits(actual: ArrayLike<number>, expected: ArrayLike<number>): number[] {
  const differ: number[] = [];
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) differ.push(i);
  return differ;
}

it('equals U - clip(U, -b, b) bit for bit, ties, signed zeros and zero thresholds included', () => {
  const rng = RandomStream.derive(3, 'symmetric-threshold');
  const m = 16;
  const N = 400;
  const b = Float32Array.from({ length: m }, (_, i) => (i < 3 ? 0 : Math.fround(Math.abs(rng.normal()) * 0.7)));
  const U = new Float32Array(N * m);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < m; i++) {
      const bi = b[i]!;
      const kind = n % 8;
      // at ±b, one ulp either side of ±b, zeros of both signs, and general values
      const pick = [bi, -bi, Math.fround(bi * (1 + 2 ** -23)), -Math.fround(bi * (1 - 2 ** -24)), 0, -0, rng.normal(), rng.normal() * 1e-3][kind]!;
      U[n * m + i] = pick;
    }
  }
  const [Ut, bt] = [tf.tensor2d(U, [N, m]), tf.tensor1d(b)];
  const [ours, reference] = [symmetricThreshold(Ut, bt), byClip(Ut, bt)];
  expect(sameBits(ours.dataSync(), reference.dataSync())).toEqual([]);
  tf.dispose([Ut, bt, ours, reference]);
});

it("the net's margins and silent share keep their bits", () => {
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 100 }, model: { kind: 'two-layer', width: 20, threshold: { ratio: 0.6 } } });
  const net = TwoLayerNet.initialise(config.model, 24, 1);
  const rng = RandomStream.derive(2, 'x');
  const x = new Float32Array(300 * 24);
  rng.fillNormal(x, 0.3);
  const xt = tf.tensor2d(x, [300, 24]);
  const y = tf.tensor1d(Float32Array.from({ length: 300 }, (_, n) => (n % 2 ? 1 : -1)));
  const reference = tf.tidy(() => {
    const act = byClip(tf.matMul(xt, net.Wt) as tf.Tensor2D, net.thresholds());
    return tf.mul(tf.mul(tf.sum(act, 1), net.outputWeight), y);
  });
  const pass = net.cleanPass(xt, y);
  expect(sameBits(pass.margins, reference.dataSync())).toEqual([]);
  expect(sameBits(net.margins(xt, y).dataSync(), reference.dataSync())).toEqual([]);
  expect(pass.silentFraction).toBeGreaterThan(0);
  tf.dispose([xt, y, reference]);
  net.dispose();
});
