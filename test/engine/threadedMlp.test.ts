/**
 * The image MLP on kernel threads (issue 13 item 2): the threaded trainer
 * (main/engine/training/threadedMlpTrainer.ts) computes the fused MLP trainer's maths with each
 * batch split across T kernel threads. For T = 1, 2 and 3, with ReLU and the symmetric threshold
 * and each optimiser: the parameters after 8 steps (two batch sizes) agree with the one-thread
 * fused trainer within 1e-5 relative (Frobenius), a repeat on the same T is bit-identical, the
 * loss and the optimiser state agree; a trainer resumed from the state of another on the same T
 * ends bit-identical; the evaluation PGD and the training attack on the threads find what the
 * fused wasm.kernels find, and so does a batch longer than the rows the pool holds at once. Tiny
 * shapes (d = 18, m = 20, 3 classes), one pool per T.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { MlpModel } from '../../shared/config.ts';
import { pgdAttack } from '../../main/engine/attacks/pgd.ts';
import { kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { threadedMlpInputGradient } from '../../main/engine/models/mlpThreadedGradient.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createFusedMlpTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { createThreadedMlpTrainer } from '../../main/engine/training/threadedMlpTrainer.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { fusedKernelsOnWasm } from '../support/fusedKernels.ts';
import { relativeFrobenius } from '../support/relativeFrobenius.ts';
import { classes, d, picture, tinyMlpBatches, tinyMlpConfig, type MlpBatch, type TinyMlpConfig } from '../support/tinyMlp.ts';

const wasm = fusedKernelsOnWasm();

type Batch = MlpBatch;

/** 8 batches: full ones of 30 and a last one of 17, as epochs have. */
const batches = (): Batch[] => tinyMlpBatches([30, 17, 30, 30, 17, 30, 30, 17], 3, 'threaded-mlp-batches');

const flat = (model: Mlp) => Float32Array.from(model.exportParameters().flatMap((t) => Array.from(t.data)));


const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

type Make = (model: Mlp, config: TinyMlpConfig) => Trainer;
const fused: Make = (model, config) => createFusedMlpTrainer(model, config, wasm.kernels);
const threaded = (T: number): Make => (model, config) => createThreadedMlpTrainer(kernelThreadPool(T), wasm.kernels, model, config);

/** The parameters, loss and optimiser state after the 8 steps of `make`'s trainer from the seeded init. */
function eightSteps(config: TinyMlpConfig, make: Make, data: Batch[]) {
  const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
  const trainer = make(model, config);
  for (const b of data) trainer.step(b.x, b.xT, b.y, b.scale, config.train.optimizer.lr);
  trainer.sync();
  const result = { params: flat(model), loss: trainer.takeLoss(), state: trainer.exportState() };
  trainer.dispose();
  model.dispose();
  return result;
}

const optimizers: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.5 }],
  ['momentum', { lr: 0.2, momentum: 0.9 }],
  ['Adam', { kind: 'adam', lr: 0.003 }],
];

describe('the threaded MLP training step: the same parameters on 1, 2 and 3 threads', () => {
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    for (const [name, optimizer] of optimizers) {
      it(`${activation}, ${name}`, () => {
        const config = tinyMlpConfig(activation, optimizer);
        const data = batches();
        const reference = eightSteps(config, fused, data);
        const start = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
        expect(relativeFrobenius(flat(start), reference.params), 'the parameters moved').toBeGreaterThan(1e-3);
        start.dispose();
        for (const T of [1, 2, 3]) {
          const run = eightSteps(config, threaded(T), data);
          expect(relativeFrobenius(reference.params, run.params), `T = ${T} against the one-thread fused trainer`).toBeLessThan(1e-5);
          expect(Math.abs(run.loss - reference.loss), `T = ${T}: loss ${run.loss} vs ${reference.loss}`).toBeLessThan(1e-5 * reference.loss);
          expect(run.state.t).toBe(8);
          expect(Object.keys(run.state.tensors).sort()).toEqual(Object.keys(reference.state.tensors).sort());
          for (const [key, values] of Object.entries(reference.state.tensors)) {
            expect(relativeFrobenius(values, run.state.tensors[key]!), `T = ${T}: ${key}`).toBeLessThan(1e-4);
          }
          // the same T again: bit-identical
          expect(sameBits(eightSteps(config, threaded(T), data).params, run.params), `T = ${T} repeated`).toBe(true);
        }
        for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
      });
    }
  }

  it('resumes on the same thread count from another trainer\'s state bit for bit', () => {
    const config = tinyMlpConfig('symmetric-threshold', optimizers[2]![1]);
    const data = batches();
    const lr = config.train.optimizer.lr;
    const original = Mlp.initialise(config.model as MlpModel, picture, classes, 12);
    const first = threaded(2)(original, config);
    for (const b of data.slice(0, 4)) first.step(b.x, b.xT, b.y, b.scale, lr);
    first.sync();
    const state = first.exportState();
    const resumed = Mlp.fromFlat(config.model as MlpModel, picture, classes, flat(original));
    const second = threaded(2)(resumed, config);
    second.importState(state);
    for (const b of data.slice(4)) for (const t of [first, second]) t.step(b.x, b.xT, b.y, b.scale, lr);
    first.sync();
    second.sync();
    expect(sameBits(flat(resumed), flat(original))).toBe(true);
    for (const t of [first, second]) t.dispose();
    original.dispose();
    resumed.dispose();
    for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
  });
});

describe('the threaded MLP attacks', () => {
  it('the evaluation PGD finds the fused session\'s margins on 1, 2 and 3 threads', () => {
    const config = tinyMlpConfig('symmetric-threshold', optimizers[0]![1]);
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 13);
    const data = batches();
    const { x, y } = data[0]!;
    const options = { eps: [0.2, 0.5], norm: 'linf' as const, steps: 5, clip: [0, 1] as const };
    model.pgdKernels = wasm.kernels;
    const reference = pgdAttack(model, x, y, options);
    for (const T of [1, 2, 3]) {
      model.inputGradientSource = (mlp) => threadedMlpInputGradient(kernelThreadPool(T), wasm.kernels, mlp);
      const got = pgdAttack(model, x, y, options);
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < x.shape[0]; i++) expect(got.margins[k]![i]!, `T = ${T}, eps ${options.eps[k]}, sample ${i}`).toBeCloseTo(reference.margins[k]![i]!, 4);
      }
    }
    model.dispose();
    for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
  });

  it('a batch longer than the rows the pool holds at once (4096) gets the fused session\'s margins and gradients', () => {
    const config = tinyMlpConfig('symmetric-threshold', optimizers[0]![1]);
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 15);
    const n = 4096 + 37;
    const rng = RandomStream.derive(4, 'threaded-mlp-long-batch');
    const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.uniform()), [n, d]);
    const y = tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes)));
    const fusedSession = model.openInputGradient(wasm.kernels);
    const threadedSession = threadedMlpInputGradient(kernelThreadPool(2), wasm.kernels, model);
    const want = fusedSession.marginGradient(x, y);
    const got = threadedSession.marginGradient(x, y);
    const [wm, wg, gm, gg] = [want.margin, want.gradient, got.margin, got.gradient].map((t) => t.dataSync());
    expect(gg!.length).toBe(n * d);
    // the rows of the second piece too (the last 37 rows come from another pass of the phase)
    for (const i of [0, 4095, 4096, n - 1]) {
      expect(gm![i]!, `margin of row ${i}`).toBeCloseTo(wm![i]!, 5);
      for (let j = 0; j < d; j++) expect(gg![i * d + j]!, `gradient of row ${i}`).toBeCloseTo(wg![i * d + j]!, 5);
    }
    expect(relativeFrobenius(Float32Array.from(wg!), Float32Array.from(gg!))).toBeLessThan(1e-5);
    for (const session of [fusedSession, threadedSession]) session.dispose();
    tf.dispose([x, y, want.margin, want.gradient, got.margin, got.gradient]);
    model.dispose();
  });

  it('the training attack perturbs a batch as the fused trainer does', () => {
    const config = tinyMlpConfig('relu', optimizers[1]![1]);
    const data = batches();
    const { x, y } = data[0]!;
    const attack = { eps: 0.3, norm: 'linf' as const, steps: 3, stepSize: null, randomStart: false, clip: [0, 1] as const, rng: RandomStream.derive(1, 'a') };
    const modelF = Mlp.initialise(config.model as MlpModel, picture, classes, 14);
    const modelT = Mlp.initialise(config.model as MlpModel, picture, classes, 14);
    const f = fused(modelF, config);
    const t = threaded(2)(modelT, config);
    const expected = f.perturb(x, y, attack).dataSync();
    const got = t.perturb(x, y, attack).dataSync();
    let moved = 0;
    for (let k = 0; k < expected.length; k++) {
      expect(got[k]!).toBeCloseTo(expected[k]!, 5);
      if (Math.abs(expected[k]! - x.dataSync()[k]!) > 1e-3) moved++;
    }
    expect(moved, 'the attack moved the batch').toBeGreaterThan(expected.length / 2);
    for (const tr of [f, t]) tr.dispose();
    modelF.dispose();
    modelT.dispose();
    for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
  });
});
