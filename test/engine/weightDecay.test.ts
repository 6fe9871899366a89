/**
 * Decoupled weight decay for the image MLP (train.optimizer.weightDecay, main/engine/training/weightDecay.ts)
 * on every path it trains on: the generic tfjs trainer, the fused one-thread trainer and the
 * threaded trainer on 1 and 2 threads. One step with decay equals the hand-computed update
 * W <- W1 - lr lambda W1 (W1 = the same path's step without decay) on fc1.weight and fc2.weight,
 * with the biases untouched; 6 steps with momentum and the symmetric threshold agree across the
 * paths; the config refuses a negative decay and a decay on a model that does not implement it.
 * Tiny shapes (d = 18, m = 20, 3 classes).
 */
import { describe, expect, it } from 'vitest';
import { resolveExperiment, weightDecayOf, type MlpModel } from '../../shared/config.ts';
import { configHash } from '../../main/lab/provenance.ts';
import { kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { createFusedMlpTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { createThreadedMlpTrainer } from '../../main/engine/training/threadedMlpTrainer.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { fusedKernelsOnWasm } from '../support/fusedKernels.ts';
import { relativeFrobenius } from '../support/relativeFrobenius.ts';
import { classes, picture, tinyMlpBatches, tinyMlpConfig, type TinyMlpConfig } from '../support/tinyMlp.ts';

const wasm = fusedKernelsOnWasm();
type Make = (model: Mlp, config: TinyMlpConfig) => Trainer;

const paths: [string, Make][] = [
  ['generic tfjs', (model, config) => createImageTrainer(model, config)],
  ['fused', (model, config) => createFusedMlpTrainer(model, config, wasm.kernels)],
  ['threaded T = 1', (model, config) => createThreadedMlpTrainer(kernelThreadPool(1), wasm.kernels, model, config)],
  ['threaded T = 2', (model, config) => createThreadedMlpTrainer(kernelThreadPool(2), wasm.kernels, model, config)],
];

/** `steps` batches of 30 (the last of 17, as epochs end), the same for every path. */
const batches = (steps: number) => tinyMlpBatches(Array.from({ length: steps }, (_, k) => (k === steps - 1 ? 17 : 30)), 5, 'weight-decay-batches');

/** Each parameter's values (fc1.weight, fc1.bias, fc2.weight, fc2.bias) after the steps from the seeded init. */
function train(config: TinyMlpConfig, make: Make, data: ReturnType<typeof batches>): Float32Array[] {
  const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
  const trainer = make(model, config);
  for (const b of data) trainer.step(b.x, b.xT, b.y, b.scale, config.train.optimizer.lr);
  trainer.sync();
  const params = model.exportParameters().map((t) => Float32Array.from(t.data));
  trainer.dispose();
  model.dispose();
  return params;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
  return worst;
}


describe('one step with weight decay is the hand-computed update, on each path', () => {
  const lr = 0.5;
  const lambda = 0.2;
  for (const [name, make] of paths) {
    it(name, () => {
      const data = batches(1);
      const plain = train(tinyMlpConfig('relu', { lr }), make, data);
      const decayed = train(tinyMlpConfig('relu', { lr, weightDecay: lambda }), make, data);
      // fc1.weight and fc2.weight: W1 - lr lambda W1 = 0.9 W1; the biases as without decay
      for (const i of [0, 2]) {
        const expected = plain[i]!.map((w) => w - lr * lambda * w);
        expect(maxAbsDiff(decayed[i]!, expected), `parameter ${i}`).toBeLessThan(1e-6);
        expect(maxAbsDiff(decayed[i]!, plain[i]!), `parameter ${i} moved`).toBeGreaterThan(1e-3);
      }
      for (const i of [1, 3]) expect(Array.from(decayed[i]!), `bias ${i} is not decayed`).toEqual(Array.from(plain[i]!));
    });
  }
});

describe('the paths agree with weight decay over 6 steps', () => {
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    it(`${activation}, momentum`, () => {
      const data = batches(6);
      const config = tinyMlpConfig(activation, { lr: 0.2, momentum: 0.9, weightDecay: 0.05 });
      const reference = train(config, paths[0]![1], data).flatMap((p) => Array.from(p));
      const without = train(tinyMlpConfig(activation, { lr: 0.2, momentum: 0.9 }), paths[0]![1], data).flatMap((p) => Array.from(p));
      expect(relativeFrobenius(Float32Array.from(reference), Float32Array.from(without)), 'the decay changed the run').toBeGreaterThan(1e-2);
      for (const [name, make] of paths.slice(1)) {
        const run = train(config, make, data).flatMap((p) => Array.from(p));
        expect(relativeFrobenius(Float32Array.from(reference), Float32Array.from(run)), `${name} against the generic trainer`).toBeLessThan(1e-5);
      }
    });
  }
});

describe('the weightDecay setting', () => {
  it('is left out of a resolved config at 0, so every config keeps the hash it had before the field; kept when set', () => {
    const input = { task: { kind: 'mnist' as const, trainSize: 1000 }, model: { kind: 'mlp' as const } };
    const plain = resolveExperiment(input);
    expect('weightDecay' in plain.train.optimizer).toBe(false);
    expect(configHash(resolveExperiment({ ...input, train: { optimizer: { weightDecay: 0 } } }))).toBe(configHash(plain));
    const decayed = resolveExperiment({ ...input, train: { optimizer: { weightDecay: 0.001 } } });
    expect(decayed.train.optimizer.weightDecay).toBe(0.001);
    expect(weightDecayOf(plain.train.optimizer)).toBe(0);
    expect(resolveExperiment(decayed)).toEqual(decayed);
  });
  it('refuses a negative decay, naming the field', () => {
    expect(() => tinyMlpConfig('relu', { weightDecay: -0.1 })).toThrow(/train\.optimizer\.weightDecay.*expected at least 0/);
  });
  it('refuses a decay on a model that does not implement it', () => {
    expect(() => resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: { kind: 'cnn' }, train: { optimizer: { weightDecay: 0.01 } } })).toThrow(
      /train\.optimizer\.weightDecay.*implemented for the image "mlp" only/,
    );
  });
});
