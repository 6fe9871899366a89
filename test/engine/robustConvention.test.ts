/**
 * Issue 11, item 11: a sample is robust only if it is classified correctly both clean and under
 * attack (RobustBench's convention), in the headline number, every curve and the per-epoch
 * number. The constructed model: f(x) = x_1, and the mixture-direction attack pushes along
 * -y u with u = (-1, 0), so for y = +1 it moves x_1 UP: a sample misclassified clean
 * (x_1 = -0.1) is "classified correctly" under the attack at eps 0.5.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { evaluateModel, headlineRobustAccuracy } from '../../main/engine/attacks/evaluate.ts';
import type { MarginModel } from '../../main/engine/models/marginModel.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

/** f(x) = <v, x>; the input gradient of the negative margin is -y v. */
function linearModel(v: readonly number[]): MarginModel {
  const weights = tf.tensor1d(Array.from(v));
  const f = (x: tf.Tensor2D) => tf.sum(tf.mul(x, weights), 1) as tf.Tensor1D;
  return {
    inputDim: v.length,
    margins: (x, y) => tf.tidy(() => tf.mul(y, f(x))),
    openInputGradient: () => ({
      marginGradient: (x, y) =>
        tf.tidy(() => ({ margin: tf.mul(y, f(x)) as tf.Tensor1D, gradient: tf.mul(tf.neg(tf.reshape(y, [-1, 1])), tf.reshape(weights, [1, -1])) as tf.Tensor2D })),
      dispose: () => undefined,
    }),
  };
}

describe('robust accuracy counts a sample only if it is right clean and under attack', () => {
  // Sample 0 is wrong clean (margin -0.1) and "right" under the attack at eps 0.5 (margin 0.4); the others are right both ways.
  const x = [-0.1, 0, 1, 0, -1, 0, 0.3, 0];
  const y = [1, 1, -1, 1];
  const config = resolveSparseCoding({
    task: { kind: 'sparse-coding', d: 2, k: 1, trainSize: 100 },
    eval: { attacks: [{ kind: 'mixture-direction' }, { kind: 'fgm' }], noiseDraws: 0, epsGrid: [0, 0.5], eps: 0.5, testSize: 4 },
  });
  const direction = Float32Array.from([-1, 0]);

  it('in the headline number, every curve and the worst case', () => {
    const model = linearModel([1, 0]);
    const test = { x: tf.tensor2d(x, [4, 2]), y: tf.tensor1d(y), n: 4 };
    const evaluation = evaluateModel(model, test, config.eval, { label: 'final', globalEpoch: 0, direction, clip: null, rng: RandomStream.derive(0, 'test') });
    expect(evaluation.cleanAccuracy.estimate).toBe(0.75);
    // The mixture-direction attack is first: it is the headline. Without the convention it read 1.0 at eps 0.5.
    expect(evaluation.attacks[0]).toBe('mixture direction (l2)');
    expect(evaluation.robustAccuracy.estimate).toBe(0.75);
    expect(evaluation.mixtureDirectionAccuracy.estimate).toBe(0.75);
    expect(evaluation.curves.map((c) => c.accuracy.map((a) => a.estimate))).toEqual([
      [0.75, 0.75],
      // FGM at eps 0.5 moves each sample 0.5 against its label: samples 0 and 3 (margin 0.3) fall.
      [0.75, 0.5],
    ]);
    expect(evaluation.worstCase.accuracy.map((a) => a.estimate)).toEqual([0.75, 0.5]);
    tf.dispose([test.x, test.y]);
  });

  it('in the per-epoch number (the configured headline attack at eval.eps)', () => {
    const model = linearModel([1, 0]);
    const test = { x: tf.tensor2d(x, [4, 2]), y: tf.tensor1d(y), n: 4 };
    const robust = headlineRobustAccuracy(model, test, config.eval, { direction, clip: null, rng: RandomStream.derive(0, 'test') });
    expect(robust).toMatchObject({ estimate: 0.75, n: 4 });
    // Without a mixture direction the first attack cannot run: the next one (FGM) is the headline.
    expect(headlineRobustAccuracy(model, test, config.eval, { direction: null, clip: null, rng: RandomStream.derive(0, 'test') })).toMatchObject({ estimate: 0.5 });
    tf.dispose([test.x, test.y]);
  });
});
