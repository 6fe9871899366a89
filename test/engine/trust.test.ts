/**
 * The trust flags, each on a case constructed to trigger it, and silent where it should be.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { evaluateModel } from '../../main/engine/attacks/evaluate.ts';
import { trustFlags } from '../../main/engine/attacks/trustFlags.ts';
import type { MarginModel } from '../../main/engine/models/marginModel.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

const evalSpec = resolveSparseCoding({ eval: { epsGrid: [0, 0.5, 1], eps: 1, noiseDraws: 16 } }).eval;
const n = 50;
const d = 2;

/** f(x) = +1 inside the slab |x_0| < 0.25, else -1: a step function, so its gradient is zero everywhere. */
const steppy: MarginModel = {
  inputDim: d,
  margins: (x, y) => tf.tidy(() => tf.mul(y, tf.sub(1, tf.mul(2, tf.step(tf.sub(tf.abs(tf.reshape(tf.slice(x, [0, 0], [-1, 1]), [-1])), 0.25)))))) as tf.Tensor1D,
  openInputGradient: () => ({
    marginGradient: (x, y) => ({ margin: steppy.margins(x, y), gradient: tf.zerosLike(x) as tf.Tensor2D }),
    dispose: () => {},
  }),
};

describe('trust flags', () => {
  it('masked gradients: zero-gradient and noise-beats-gradient fire, and the worst case counts the noise', () => {
    const x = tf.zeros([n, d]) as tf.Tensor2D; // every sample at the centre of the slab, label +1
    const y = tf.ones([n]) as tf.Tensor1D;
    const evaluation = evaluateModel(steppy, { x, y, n }, evalSpec, { label: 'final', globalEpoch: 0, direction: null, clip: null, rng: RandomStream.derive(0, 't') });
    const codes = evaluation.flags.map((f) => f.code);
    expect(codes).toContain('zero-gradient');
    expect(codes).toContain('noise-beats-gradient');
    const pgd = evaluation.curves[0]!;
    expect(pgd.accuracy[2]!.estimate).toBe(1); // PGD cannot move: "robust" at eps 1
    expect(evaluation.worstCase.accuracy[2]!.estimate).toBeLessThan(0.2); // the noise breaks nearly all
    tf.dispose([x, y]);
  });

  it('robust accuracy rising with eps is flagged; a falling curve is not', () => {
    const none = new Uint8Array(100);
    const half = Uint8Array.from({ length: 100 }, (_, i) => (i < 50 ? 1 : 0));
    const base = { n: 100, eps: [0, 0.5], gradientAttacks: [], noise: null, zeroGradient: 0 };
    expect(trustFlags({ ...base, worstCase: [half, none] }).map((f) => f.code)).toEqual(['not-monotone']);
    expect(trustFlags({ ...base, worstCase: [none, half] })).toEqual([]);
  });

  it('a healthy network on clean data raises no noise or monotonicity flag', () => {
    const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d: 16, trainSize: 100 }, model: { kind: 'two-layer', width: 16, threshold: { ratio: 0 } } });
    const net = TwoLayerNet.initialise(config.model, 16, 3);
    const rng = RandomStream.derive(1, 'x');
    const xs = Float32Array.from({ length: 200 * 16 }, () => rng.normal());
    const x = tf.tensor2d(xs, [200, 16]);
    const y = tf.tidy(() => tf.sign(net.forward(x))) as tf.Tensor1D; // labels the model gets right
    const evaluation = evaluateModel(net, { x, y, n: 200 }, { ...evalSpec, epsGrid: [0, 0.1, 0.3], eps: 0.3 }, { label: 'final', globalEpoch: 0, direction: null, clip: null, rng });
    expect(evaluation.flags).toEqual([]);
    tf.dispose([x, y]);
    net.dispose();
  });
});
