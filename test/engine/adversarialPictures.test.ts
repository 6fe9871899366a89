/**
 * Adversarial pictures (issue 15, item 3): which samples are chosen, M^T v on a constructed
 * dictionary, the closed-form perturbation of a linear model, and a fine-tuning run's pictures:
 * recrafted from its saved weights they are the same, they lie in the eps ball, and the exported
 * safetensors and npz hold exactly what the attack produced.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { deltaOf } from '../../shared/adversarial.ts';
import { resolveSparseCoding, type EvalAttack } from '../../shared/config.ts';
import { adversarialPictures, dictionaryCoefficients, pictureIndices } from '../../main/engine/attacks/adversarialPictures.ts';
import { craftAdversarial } from '../../main/engine/attacks/transfer.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { adversarialPicturesStreamName, RandomStream } from '../../main/engine/random.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { mixtureDirection, sparseCodingTask } from '../../main/engine/tasks/sparseCoding.ts';
import type { ModelWeights } from '../../main/engine/testbeds/testbed.ts';
import { adversarialTensors, encodeAdversarialFile } from '../../main/lab/export/adversarialFile.ts';
import { decodeNpz } from '../../main/lab/formats/npz.ts';
import { decodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

const pgd20: Extract<EvalAttack, { kind: 'pgd' }> = { kind: 'pgd', steps: 20, stepSize: null, randomStart: false, restarts: 1, clip: true };

describe('the pictured samples', () => {
  it('take the first sample of each class in turn, classes ascending', () => {
    // class 1 at 1, 2, 5; class 2 at 4; class 3 at 0, 3
    const labels = [3, 1, 1, 3, 2, 1];
    expect(pictureIndices(labels, 5)).toEqual([1, 4, 0, 2, 3]);
    expect(pictureIndices(labels, 10)).toEqual([1, 4, 0, 2, 3, 5]);
    expect(pictureIndices([1, -1, -1, 1], 3)).toEqual([1, 0, 2]);
    expect(pictureIndices(labels, 0)).toEqual([]);
  });

  it('are the given positions when there are some, each checked against the test set', () => {
    expect(pictureIndices([0, 1, 2], 8, [2, 0])).toEqual([2, 0]);
    expect(() => pictureIndices([0, 1, 2], 8, [3])).toThrow('eval.pictures.indices: 3 is not a test sample\'s position (the test set has 3)');
  });
});

describe('dictionary coefficients', () => {
  it('are M^T v for every row, on a constructed dictionary', () => {
    // M = [[1, 0], [0, 2], [1, 1]] (d = 3, atoms = 2): M^T [1, 2, 3] = [4, 7], M^T [0, 1, -1] = [-1, 1].
    const dictionary = { values: Float64Array.from([1, 0, 0, 2, 1, 1]), d: 3, atoms: 2 };
    expect(Array.from(dictionaryCoefficients(dictionary, [1, 2, 3, 0, 1, -1]))).toEqual([4, 7, -1, 1]);
    expect(() => dictionaryCoefficients(dictionary, [1, 2])).toThrow('2 values are not rows of the dictionary\'s dimension 3');
  });
});

describe('the pictures of a linear model', () => {
  // rho = 0: f(x) = <v, x>, v = a sum_i w_i. l2 PGD-20 with step 2.5 eps/20 moves along -y v/||v||
  // and ends on the sphere: delta = -y eps v / ||v||, whatever x is.
  it('hold the closed-form perturbation, its coefficients and both predictions', () => {
    const d = 6;
    const model = TwoLayerNet.initialise(resolveSparseCoding({ model: { kind: 'two-layer', width: 4, threshold: { mode: 'relative', ratio: 0 } } }).model, d, 3);
    const W = model.weights();
    const v = new Float64Array(d);
    for (let i = 0; i < 4; i++) for (let j = 0; j < d; j++) v[j]! += model.outputWeight * W[i * d + j]!;
    const vNorm = Math.hypot(...v);
    const rng = RandomStream.derive(2, 'pictures-test');
    const n = 10;
    const xs = Array.from({ length: n * d }, () => rng.normal() * 0.2);
    const ys = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const test = { x: tf.tensor2d(xs, [n, d]), y: tf.tensor1d(ys), n };
    // A dictionary that swaps the first two coordinates and doubles the third: M^T delta is known.
    const M = new Float64Array(d * d);
    for (let i = 0; i < d; i++) M[i * d + (i === 0 ? 1 : i === 1 ? 0 : i)] = i === 2 ? 2 : 1;
    const direction = Float32Array.from(v, (c) => c / vNorm);
    const eps = 0.5;
    const subject = {
      model,
      test,
      picture: null,
      dictionary: { values: M, d, atoms: d },
      direction,
      predict: (x: tf.Tensor2D) => Int32Array.from(tf.tidy(() => tf.sign(model.forward(x))).dataSync()),
    };
    const pictures = adversarialPictures(subject, [{ label: 'final', activate: () => {} }], [3, 0, 7], pgd20, { eps, norm: 'l2', clip: null, rng });
    expect(pictures.indices).toEqual([3, 0, 7]);
    expect(pictures.labels).toEqual([-1, 1, -1]);
    expect(pictures.attack).toBe('PGD-20 (l2, step 2.5·eps/20)');
    expect(pictures.x).toEqual(Array.from(Float32Array.from([3, 0, 7].flatMap((i) => xs.slice(i * d, (i + 1) * d)))));
    const [final] = pictures.models;
    const delta = deltaOf(pictures, final!);
    const f = (x: number[]) => x.reduce((s, xi, j) => s + xi * v[j]!, 0);
    pictures.labels.forEach((y, s) => {
      const row = delta.slice(s * d, (s + 1) * d);
      row.forEach((value, j) => expect(value).toBeCloseTo((-y * eps * v[j]!) / vNorm, 5));
      // M^T delta: the first two coordinates swapped, the third doubled.
      const coefficients = final!.coefficients!.slice(s * d, (s + 1) * d);
      const expected = [row[1]!, row[0]!, 2 * row[2]!, ...row.slice(3)];
      coefficients.forEach((c, j) => expect(c).toBeCloseTo(expected[j]!, 6));
      const x = pictures.x.slice(s * d, (s + 1) * d);
      const adv = final!.adversarial.slice(s * d, (s + 1) * d);
      expect(final!.cleanPrediction[s]).toBe(Math.sign(f(x)));
      expect(final!.prediction[s]).toBe(Math.sign(f(adv)));
    });
    // The mixture direction is v/||v||, so its coefficients are M^T v/||v||.
    expect(pictures.dictionary!.mixture[0]).toBeCloseTo(direction[1]!, 6);
    expect(pictures.dictionary!.mixture[2]).toBeCloseTo(2 * direction[2]!, 6);
    tf.dispose([test.x, test.y]);
    model.dispose();
  });
});

describe("a fine-tuning run's pictures", () => {
  it('are what the attack makes on the saved weights, inside the eps ball, and export exactly', async () => {
    const config = resolveSparseCoding({
      task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
      model: { kind: 'two-layer', width: 16 },
      train: { cleanEpochs: 3, adversarialEpochs: 2 },
      eval: { testSize: 200, every: 0, attacks: [{ kind: 'pgd', steps: 5 }], epsGrid: [0, 0.3], noiseDraws: 0, pictures: { count: 4 } },
    });
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    const saved = new Map<string, ModelWeights>();
    const result = await runExperiment(config, info, { ...hooks, onWeights: (label, weights) => saved.set(label, weights) });
    const pictures = result.adversarial!;
    expect(pictures.models.map((m) => m.label)).toEqual(['after clean', 'after fine-tuning']);
    expect(pictures.labels).toEqual([-1, 1, -1, 1]);
    expect([pictures.eps, pictures.norm, pictures.attack]).toEqual([config.eval.eps, 'l2', 'PGD-5 (l2, step 2.5·eps/5)']);

    // The same attack on the saved weights, independently: the same x + delta and predictions.
    const data = sparseCodingTask(config.task, config.seed, config.eval.testSize);
    const rows = (values: ArrayLike<number>, width: number) => pictures.indices.flatMap((i) => Array.from(values).slice(i * width, (i + 1) * width));
    const x = tf.tensor2d(rows(data.test.x, data.d), [4, data.d]);
    const y = tf.tensor1d(pictures.indices.map((i) => data.test.y[i]!));
    expect(pictures.x).toEqual(Array.from(x.dataSync()));
    const net = TwoLayerNet.initialise(config.model, data.d, config.seed);
    const rng = RandomStream.derive(config.seed, adversarialPicturesStreamName);
    ['after-clean', 'final'].forEach((label, k) => {
      const w = saved.get(label)!;
      if (w.kind !== 'two-layer') throw new Error('expected two-layer weights');
      net.setWeights(w.W, w.b);
      const xAdv = craftAdversarial(net, { x, y, n: 4 }, { ...pgd20, steps: 5 }, { eps: config.eval.eps, norm: 'l2', clip: null, rng });
      const model = pictures.models[k]!;
      Array.from(xAdv.dataSync()).forEach((value, j) => expect(model.adversarial[j]).toBeCloseTo(value, 5));
      expect(model.prediction).toEqual(Array.from(tf.tidy(() => tf.sign(net.forward(xAdv))).dataSync()));
      expect(model.cleanPrediction).toEqual(Array.from(tf.tidy(() => tf.sign(net.forward(x))).dataSync()));
      xAdv.dispose();
      // Inside the l2 ball of radius eps, every sample.
      const delta = deltaOf(pictures, model);
      for (let s = 0; s < 4; s++) expect(Math.hypot(...delta.slice(s * data.d, (s + 1) * data.d))).toBeLessThanOrEqual(config.eval.eps * (1 + 1e-5));
      // M^T delta with the task's own dictionary.
      const expected = Array.from(Float32Array.from(delta));
      for (let s = 0; s < 4; s++) {
        for (let j = 0; j < data.atoms; j++) {
          let c = 0;
          for (let i = 0; i < data.d; i++) c += expected[s * data.d + i]! * data.dictionary[i * data.atoms + j]!;
          expect(model.coefficients![s * data.atoms + j]).toBeCloseTo(c, 6);
        }
      }
    });
    // The mixture direction's coefficients: M^T u for the task's u.
    const u = mixtureDirection(data, 'l2');
    expect(pictures.dictionary!.mixture[0]).toBeCloseTo(Array.from(u).reduce((s, ui, i) => s + ui * data.dictionary[i * data.atoms]!, 0), 6);
    net.dispose();
    tf.dispose([x, y]);

    // The exported files hold exactly the recorded tensors.
    const tensors = adversarialTensors(pictures);
    expect(Object.keys(tensors).sort()).toEqual(
      ['x', 'y', 'index', 'eps', ...['after_clean', 'after_fine_tuning'].flatMap((k) => [`x_adv_${k}`, `delta_${k}`, `prediction_${k}`, `clean_prediction_${k}`, `coefficients_${k}`])].sort(),
    );
    const st = decodeSafetensors(encodeAdversarialFile(pictures, 'safetensors'), 'a.safetensors');
    const npz = decodeNpz(encodeAdversarialFile(pictures, 'npz'), 'a.npz');
    expect(st.metadata.attack).toBe('PGD-5 (l2, step 2.5·eps/5)');
    for (const file of [st.tensors, npz]) {
      expect(Array.from(file.x!.data as Float32Array)).toEqual(pictures.x);
      expect(file.x!.shape).toEqual([4, 24]);
      expect(Array.from(file.y!.data as Int32Array)).toEqual(pictures.labels);
      expect(Array.from(file.index!.data as Int32Array)).toEqual(pictures.indices);
      pictures.models.forEach((m, k) => {
        const key = ['after_clean', 'after_fine_tuning'][k]!;
        expect(Array.from(file[`x_adv_${key}`]!.data as Float32Array)).toEqual(m.adversarial);
        expect(Array.from(file[`delta_${key}`]!.data as Float32Array)).toEqual(deltaOf(pictures, m));
        expect(Array.from(file[`prediction_${key}`]!.data as Int32Array)).toEqual(m.prediction);
        expect(Array.from(file[`clean_prediction_${key}`]!.data as Int32Array)).toEqual(m.cleanPrediction);
        expect(file[`coefficients_${key}`]!.shape).toEqual([4, 24]);
      });
    }
  }, 120_000);
});
