/**
 * One run on several cores: the threaded two-layer hot path (main/engine/kernels/threadPool.ts,
 * main/engine/training/threadedTrainer.ts) computes the fused trainer's maths with each batch
 * split across T kernel threads. For T = 1, 2 and 3: the weights after 8 steps of every optimiser
 * and threshold mode agree with the one-thread fused trainer within 1e-5 relative (Frobenius), a
 * run repeated with the same T is bit-identical, the loss agrees, the training attack's batches
 * agree, and the optimiser state round-trips through a checkpoint. Tiny shapes (one pool per T).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import { pgdAttack } from '../../main/engine/attacks/pgd.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools, kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { fusedInputGradient } from '../../main/engine/models/twoLayerFusedGradient.ts';
import { threadedInputGradient } from '../../main/engine/models/twoLayerThreadedGradient.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createFusedTrainer } from '../../main/engine/training/fusedTrainer.ts';
import { createThreadedTrainer } from '../../main/engine/training/threadedTrainer.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';
import { relativeFrobenius } from '../support/relativeFrobenius.ts';

// d and B not multiples of the SIMD width or of T, so every tail path runs
const d = 22;
const m = 13;
const B = 30;
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});
afterAll(() => closeKernelThreadPools());

function setup(input: ExperimentInput) {
  const config = resolveSparseCoding({ ...input, task: { kind: 'sparse-coding', d, trainSize: 100 }, train: { batchSize: B, ...input.train } } as ExperimentInput);
  const rng = RandomStream.derive(7, 'threaded-test');
  const x = tf.tensor2d(Float32Array.from({ length: B * d }, () => rng.normal() * 0.4), [B, d]);
  return {
    config,
    x,
    xT: tf.transpose(x) as tf.Tensor2D,
    y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())),
    scale: tf.fill([B], 1 / B) as tf.Tensor1D,
  };
}

const cases: [string, ExperimentInput][] = [
  ['relative, SGD', { model: { kind: 'two-layer', width: m, threshold: { mode: 'relative', ratio: 0.3 } } }],
  ['relative, momentum', { model: { kind: 'two-layer', width: m }, train: { optimizer: { momentum: 0.9, lr: 0.1 } } }],
  ['relative, Adam', { model: { kind: 'two-layer', width: m }, train: { optimizer: { kind: 'adam', lr: 0.01 } } }],
  ['fixed, SGD', { model: { kind: 'two-layer', width: m, threshold: { mode: 'fixed', value: 0.1 } } }],
];

/** The weights [m, d] and the loss after 8 steps of `make`'s trainer from the same start. */
function eightSteps(input: ExperimentInput, make: (net: TwoLayerNet, config: ReturnType<typeof setup>['config']) => Trainer) {
  const { config, x, xT, y, scale } = setup(input);
  const net = TwoLayerNet.initialise(config.model, d, 1);
  const trainer = make(net, config);
  for (let s = 0; s < 8; s++) trainer.step(x, xT, y, scale, config.train.optimizer.lr);
  trainer.sync();
  const weights = net.weights();
  const loss = trainer.takeLoss();
  const state = trainer.exportState();
  trainer.dispose();
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  return { weights, loss, state };
}


describe('threaded training steps: the same weights on 1, 2 and 3 threads', () => {
  for (const [name, input] of cases) {
    it(name, () => {
      const reference = eightSteps(input, (net, config) => createFusedTrainer(kernels, net, config)!);
      const start = TwoLayerNet.initialise(setup(input).config.model, d, 1).weights();
      expect(relativeFrobenius(start, reference.weights), 'the weights moved').toBeGreaterThan(1e-3);
      for (const T of [1, 2, 3]) {
        const threaded = (net: TwoLayerNet, config: ReturnType<typeof setup>['config']) => createThreadedTrainer(kernelThreadPool(T), kernels, net, config)!;
        const run = eightSteps(input, threaded);
        expect(relativeFrobenius(reference.weights, run.weights), `T = ${T} against the one-thread fused trainer`).toBeLessThan(1e-5);
        expect(run.loss, `T = ${T}: loss`).toBeCloseTo(reference.loss, 5);
        expect(run.state.t).toBe(8);
        for (const [key, values] of Object.entries(reference.state.tensors)) {
          expect(relativeFrobenius(values, run.state.tensors[key]!), `T = ${T}: ${key}`).toBeLessThan(1e-4);
        }
        // the same T again: bit-identical
        const again = eightSteps(input, threaded);
        expect(Buffer.from(again.weights.buffer).equals(Buffer.from(run.weights.buffer)), `T = ${T} repeated`).toBe(true);
      }
    });
  }
});

describe('threaded attacks', () => {
  it('the evaluation PGD finds the same margins as the fused session on 1, 2 and 3 threads', () => {
    const { config, x, y } = setup(cases[0]![1]);
    const net = TwoLayerNet.initialise(config.model, d, 3);
    const options = { eps: [0.2, 0.5], norm: 'l2' as const, steps: 5 };
    net.inputGradientProvider = (n) => fusedInputGradient(kernels, n);
    const fused = pgdAttack(net, x, y, options);
    for (const T of [1, 2, 3]) {
      net.inputGradientProvider = (n) => threadedInputGradient(kernelThreadPool(T), kernels, n);
      const threaded = pgdAttack(net, x, y, options);
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < B; i++) expect(threaded.margins[k]![i]!, `T = ${T}, eps ${options.eps[k]}, sample ${i}`).toBeCloseTo(fused.margins[k]![i]!, 4);
        expect(threaded.zeroGradient[k]).toBe(fused.zeroGradient[k]);
      }
    }
    net.dispose();
    tf.dispose([x, y]);
  });

  it('the training attack perturbs a batch as the fused trainer does', () => {
    const { config, x, y } = setup(cases[0]![1]);
    const attack = { eps: 0.3, norm: 'l2' as const, steps: 3, stepSize: null, randomStart: false, clip: null, rng: RandomStream.derive(1, 'a') };
    const netF = TwoLayerNet.initialise(config.model, d, 1);
    const fused = createFusedTrainer(kernels, netF, config)!;
    const expected = fused.perturb(x, y, attack).dataSync();
    const netT = TwoLayerNet.initialise(config.model, d, 1);
    const threaded = createThreadedTrainer(kernelThreadPool(2), kernels, netT, config)!;
    const got = threaded.perturb(x, y, attack).dataSync();
    for (let k = 0; k < expected.length; k++) expect(got[k]!).toBeCloseTo(expected[k]!, 5);
    fused.dispose();
    threaded.dispose();
    tf.dispose([x, y]);
    netF.dispose();
    netT.dispose();
  });
});
