/**
 * The fused wasm hot path computes the same maths as the generic tfjs path: the same weights
 * after several steps of every optimiser and threshold mode it covers, the same adversarial
 * batches, and the same evaluation attacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import { pgdAttack } from '../../main/engine/attacks/pgd.ts';
import { fusedInputGradient } from '../../main/engine/models/twoLayerFusedGradient.ts';
import { createFusedTrainer } from '../../main/engine/training/fusedTrainer.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createGenericTrainer } from '../../main/engine/training/genericTrainer.ts';
import type { TrainingAttack } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';

const d = 20;
const m = 12;
const B = 30;
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});

function setup(input: ExperimentInput) {
  const config = resolveSparseCoding(mergeModel(input));
  const rng = RandomStream.derive(5, 'fused-test');
  const xValues = Float32Array.from({ length: B * d }, () => rng.normal() * 0.4);
  const x = tf.tensor2d(xValues, [B, d]);
  return {
    config,
    x,
    xT: tf.transpose(x) as tf.Tensor2D,
    y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())),
    scale: tf.fill([B], 1 / B) as tf.Tensor1D,
  };
}

function mergeModel(input: ExperimentInput): ExperimentInput {
  return { ...input, task: { kind: 'sparse-coding', d, trainSize: 100 }, train: { batchSize: B, ...input.train } } as ExperimentInput;
}

const cases: [string, ExperimentInput][] = [
  ['relative, SGD', { model: { kind: 'two-layer', width: m, threshold: { mode: 'relative', ratio: 0.3 } } }],
  ['relative, SGD with momentum, a = 1/sqrt(m)', { model: { kind: 'two-layer', width: m, outputWeight: 'inv-sqrt-width' }, train: { optimizer: { momentum: 0.9, lr: 0.1 } } }],
  ['relative, Adam', { model: { kind: 'two-layer', width: m }, train: { optimizer: { kind: 'adam', lr: 0.01 } } }],
  ['fixed, SGD', { model: { kind: 'two-layer', width: m, threshold: { mode: 'fixed', value: 0.1 } } }],
];

describe('fused training steps equal the generic ones', () => {
  for (const [name, input] of cases) {
    it(name, () => {
      const { config, x, xT, y, scale } = setup(input);
      const generic = TwoLayerNet.initialise(config.model, d, 1);
      const fused = TwoLayerNet.initialise(config.model, d, 1);
      const g = createGenericTrainer(generic, config);
      const f = createFusedTrainer(kernels, fused, config)!;
      expect(f).not.toBeNull();
      for (let s = 0; s < 8; s++) {
        g.step(x, xT, y, scale, config.train.optimizer.lr);
        f.step(x, xT, y, scale, config.train.optimizer.lr);
      }
      f.sync();
      const a = generic.weights();
      const b = fused.weights();
      let moved = 0;
      const init = TwoLayerNet.initialise(config.model, d, 1).weights();
      for (let k = 0; k < a.length; k++) {
        expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(a[k]!));
        moved = Math.max(moved, Math.abs(a[k]! - init[k]!));
      }
      expect(moved).toBeGreaterThan(1e-3); // the weights did change
      expect(f.takeLoss()).toBeCloseTo(g.takeLoss(), 4);
      g.dispose();
      f.dispose();
      generic.dispose();
      fused.dispose();
      tf.dispose([x, xT, y, scale]);
    });
  }

  it('learned thresholds have no fused path (the generic trainer runs them)', () => {
    const { config } = setup({ model: { kind: 'two-layer', width: m, threshold: { mode: 'learned', value: 0.1 } } });
    const net = TwoLayerNet.initialise(config.model, d, 1);
    expect(createFusedTrainer(kernels, net, config)).toBeNull();
    net.dispose();
  });
});

describe('fused attacks equal the generic ones', () => {
  for (const norm of ['l2', 'linf'] as const) {
    it(`training perturbation, ${norm}`, () => {
      const { config, x, y } = setup({ model: { kind: 'two-layer', width: m } });
      const net = TwoLayerNet.initialise(config.model, d, 2);
      const attack: TrainingAttack = { eps: 0.3, norm, steps: 5, stepSize: null, randomStart: false, clip: null, rng: RandomStream.derive(0, 'a') };
      const generic = createGenericTrainer(net, config).perturb(x, y, attack).dataSync();
      const trainer = createFusedTrainer(kernels, net, config)!;
      const fused = trainer.perturb(x, y, attack).dataSync();
      for (let k = 0; k < generic.length; k++) expect(Math.abs(generic[k]! - fused[k]!)).toBeLessThan(1e-4);
      trainer.dispose();
      net.dispose();
    });
  }

  it('evaluation PGD over an eps grid, with the zero-gradient count', () => {
    const { config, x, y } = setup({ model: { kind: 'two-layer', width: m } });
    const net = TwoLayerNet.initialise(config.model, d, 3);
    const options = { eps: [0, 0.1, 0.5], norm: 'l2' as const, steps: 10 };
    const generic = pgdAttack(net, x, y, options);
    net.inputGradientProvider = (n) => fusedInputGradient(kernels, n);
    const fused = pgdAttack(net, x, y, options);
    generic.margins.forEach((row, k) => row.forEach((v, i) => expect(fused.margins[k]![i]!).toBeCloseTo(v, 4)));
    expect(fused.zeroGradient).toEqual(generic.zeroGradient);
    net.dispose();
  });
});
