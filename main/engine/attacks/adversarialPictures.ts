/**
 * Adversarial pictures (shared/adversarial.ts): a few chosen test inputs attacked white-box on
 * each model of a run, with the same crafting as the transfer table (./transfer.ts), kept sample
 * by sample: x, the attack's output x + δ, the predictions on both, and on the sparse-coding task
 * the dictionary coefficients M^T δ.
 *
 * The samples are chosen deterministically: given positions, or else the first test sample of
 * each class in turn (class 0, 1, …, then the second of each, …), so a 10-digit MNIST set shows
 * every digit once and a binary task alternates its labels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdversarialExamples, AdversarialModelExamples } from '../../../shared/adversarial.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { Testbed } from '../testbeds/testbed.ts';
import { describeAttack, type TestSet } from './evaluate.ts';
import { craftAdversarial, type TransferAttack, type TransferContext, type TransferModel } from './transfer.ts';

/**
 * The positions of the pictured samples among `labels`: `indices` when given (each checked
 * against the test set's size), else up to `count` samples taken one class at a time, classes in
 * ascending order, each class's samples in test-set order.
 */
export function pictureIndices(labels: ArrayLike<number>, count: number, indices: readonly number[] = []): number[] {
  if (indices.length > 0) {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= labels.length) throw new RangeError(`eval.pictures.indices: ${i} is not a test sample's position (the test set has ${labels.length})`);
    }
    return [...indices];
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] as number;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const queues = [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
  const out: number[] = [];
  for (let round = 0; out.length < count && queues.some((q) => round < q.length); round++) {
    for (const q of queues) {
      if (out.length >= count) break;
      if (round < q.length) out.push(q[round] as number);
    }
  }
  return out;
}

/** M^T v for each row v of `rows` [n, d]: the coefficients [n, atoms] of a dictionary M [d, atoms] (row-major). */
export function dictionaryCoefficients(dictionary: { readonly values: ArrayLike<number>; readonly d: number; readonly atoms: number }, rows: ArrayLike<number>): Float64Array {
  const { values, d, atoms } = dictionary;
  if (rows.length % d !== 0) throw new RangeError(`${rows.length} values are not rows of the dictionary's dimension ${d}`);
  const n = rows.length / d;
  const out = new Float64Array(n * atoms);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) {
      const v = rows[s * d + i] as number;
      if (v === 0) continue;
      for (let j = 0; j < atoms; j++) out[s * atoms + j]! += v * (values[i * atoms + j] as number);
    }
  }
  return out;
}

export interface PictureSubject {
  readonly model: MarginModel;
  readonly test: TestSet;
  readonly picture: Testbed['picture'];
  readonly dictionary: Testbed['dictionary'];
  readonly direction: Float32Array | null;
  predict(x: tf.Tensor2D): Int32Array;
}

/**
 * The pictures of the samples at `indices` on each of `models` (activated in turn; the subject's
 * model is left holding the last one's weights, as transferTable leaves it).
 */
export function adversarialPictures(
  subject: PictureSubject,
  models: readonly TransferModel[],
  indices: readonly number[],
  attack: TransferAttack,
  context: TransferContext,
): AdversarialExamples {
  const d = subject.model.inputDim;
  const picked = tf.tensor1d(Int32Array.from(indices), 'int32');
  const x = tf.gather(subject.test.x, picked) as tf.Tensor2D;
  const y = tf.gather(subject.test.y, picked) as tf.Tensor1D;
  picked.dispose();
  try {
    const test: TestSet = { x, y, n: indices.length };
    const xValues = x.dataSync() as Float32Array;
    const out: AdversarialModelExamples[] = models.map((m) => {
      m.activate();
      const xAdv = craftAdversarial(subject.model, test, attack, context);
      try {
        const adversarial = xAdv.dataSync() as Float32Array;
        const delta = adversarial.map((v, i) => v - (xValues[i] as number));
        return {
          label: m.label,
          adversarial: Array.from(adversarial),
          cleanPrediction: Array.from(subject.predict(x)),
          prediction: Array.from(subject.predict(xAdv)),
          ...(subject.dictionary ? { coefficients: Array.from(dictionaryCoefficients(subject.dictionary, delta)) } : {}),
        };
      } finally {
        xAdv.dispose();
      }
    });
    return {
      attack: describeAttack(attack, context.norm),
      eps: context.eps,
      norm: context.norm,
      indices: [...indices],
      labels: Array.from(y.dataSync()),
      inputDim: d,
      picture: subject.picture,
      dataRange: attack.clip ? context.clip : null,
      x: Array.from(xValues),
      models: out,
      ...(subject.dictionary && subject.direction
        ? {
            dictionary: {
              atoms: subject.dictionary.atoms,
              mixture: Array.from(dictionaryCoefficients(subject.dictionary, subject.direction)),
              features: Array.from(dictionaryCoefficients(subject.dictionary, xValues)),
            },
          }
        : {}),
    };
  } finally {
    tf.dispose([x, y]);
  }
}
