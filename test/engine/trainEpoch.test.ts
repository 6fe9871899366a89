/**
 * The epoch loop's own kernels (main/engine/training/trainEpoch.ts, batches.ts) on wasm: it
 * transposes no batch for a trainer that forms X^T G from x itself (the threaded kernels here; the
 * WGSL ones on webgpu, test/engine/webgpu.test.ts), and fills the loss weights once per batch
 * size. A trainer whose gradient is a tfjs matMul over x^T transposes x itself, once a step, and
 * ends bit for bit where it ends when handed the transpose (the generic and fused two-layer
 * trainers, the image MLP's generic and fused ones). Tiny shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, resolveSparseCoding, type MlpModel } from '../../shared/config.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools, kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createFusedMlpTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { createFusedTrainer } from '../../main/engine/training/fusedTrainer.ts';
import { createGenericTrainer } from '../../main/engine/training/genericTrainer.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { createThreadedTrainer } from '../../main/engine/training/threadedTrainer.ts';
import { trainEpoch } from '../../main/engine/training/trainEpoch.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';

const d = 22;
const m = 13;
/** 70 samples in batches of 30, 30 and 10: two batch sizes. */
const n = 70;
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});
afterAll(() => closeKernelThreadPools());

const modes = ['clean', 'replace', 'mix'] as const;
type Mode = (typeof modes)[number];

function twoLayerConfig(mode: Mode) {
  return resolveSparseCoding({
    task: { kind: 'sparse-coding', d, trainSize: n },
    model: { kind: 'two-layer', width: m },
    train: { batchSize: 30, attack: { kind: 'pgd', eps: 0.3, steps: 2 }, mix: { mode: mode === 'clean' ? 'replace' : mode } },
  });
}

const rng = RandomStream.derive(7, 'train-epoch-test');
const data = { x: Float32Array.from({ length: n * d }, () => rng.normal() * 0.4), y: Float32Array.from({ length: n }, () => rng.sign()), n, d };

/** The kernels (by name, counted) one epoch of `trainer` ran. */
async function epochKernels(trainer: Trainer, mode: Mode): Promise<Record<string, number>> {
  const profile = await tf.profile(async () => {
    await trainEpoch(trainer, data, twoLayerConfig(mode), {
      phase: mode === 'clean' ? 'clean' : 'adversarial', epoch: 1, epochs: 1, clip: null,
      shuffleRng: RandomStream.derive(1, 'shuffle'), attackRng: RandomStream.derive(1, 'attack'),
    });
  });
  const counts: Record<string, number> = {};
  for (const { name } of profile.kernels) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

describe('the epoch loop spends no kernel on what its trainer does not read', () => {
  for (const mode of modes) {
    it(`${mode}: the threaded trainer (X^T G from x in its kernels) gets no transpose; the loss weights are filled once per batch size`, async () => {
      const config = twoLayerConfig(mode);
      const net = TwoLayerNet.initialise(config.model, d, 1);
      const trainer = createThreadedTrainer(kernelThreadPool(1), kernels, net, config)!;
      const counts = await epochKernels(trainer, mode);
      trainer.dispose();
      net.dispose();
      expect({ transposes: counts['Transpose'] ?? 0, fills: counts['Fill'] ?? 0 }).toEqual({ transposes: 0, fills: 2 });
    });

    it(`${mode}: the generic trainer (X^T G a tfjs matMul) transposes each step's x once (and its attack W, once an attack)`, async () => {
      const config = twoLayerConfig(mode);
      const net = TwoLayerNet.initialise(config.model, d, 1);
      const trainer = createGenericTrainer(net, config);
      const counts = await epochKernels(trainer, mode);
      trainer.dispose();
      net.dispose();
      expect({ transposes: counts['Transpose'] ?? 0, fills: counts['Fill'] ?? 0 }).toEqual({ transposes: mode === 'clean' ? 3 : 3 + 3, fills: 2 });
    });
  }
});

describe('a trainer handed no transpose makes it, to the same bits', () => {
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const batches = (cols: number, labels: () => number) =>
    [30, 17, 30].map((B) => ({ x: tf.tensor2d(Float32Array.from({ length: B * cols }, () => rng.uniform()), [B, cols]), y: tf.tensor1d(Float32Array.from({ length: B }, labels)), scale: tf.fill([B], 1 / B) as tf.Tensor1D }));
  /** Three steps of `trainer`, handed x^T or not. */
  const steps = (trainer: Trainer, list: ReturnType<typeof batches>, handed: boolean) => {
    for (const b of list) {
      const xT = handed ? (tf.transpose(b.x) as tf.Tensor2D) : null;
      trainer.step(b.x, xT, b.y, b.scale, 0.2);
      xT?.dispose();
    }
    trainer.sync();
  };

  it('the two-layer net, generic and fused: the same weights and loss', () => {
    const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: n }, model: { kind: 'two-layer', width: m }, train: { batchSize: 30, optimizer: { momentum: 0.9, lr: 0.2 } } });
    const list = batches(d, () => rng.sign());
    for (const make of [(net: TwoLayerNet) => createGenericTrainer(net, config), (net: TwoLayerNet) => createFusedTrainer(kernels, net, config)!]) {
      const [handed, own] = [true, false].map((given) => {
        const net = TwoLayerNet.initialise(config.model, d, 3);
        const trainer = make(net);
        steps(trainer, list, given);
        const out = { weights: bytes(net.weights()), loss: trainer.takeLoss() };
        trainer.dispose();
        net.dispose();
        return out;
      });
      expect(own!.weights.equals(handed!.weights)).toBe(true);
      expect(own!.loss).toBe(handed!.loss);
    }
    tf.dispose(list.flatMap((b) => [b.x, b.y, b.scale]));
  });

  it('the image MLP, generic and fused: the same parameters and loss', () => {
    const spec: MlpModel = { kind: 'mlp', width: 20, activation: 'symmetric-threshold', thresholdRatio: 0.05, initScale: 1 };
    const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: spec, train: { optimizer: { momentum: 0.9, lr: 0.2 } } });
    const list = batches(64, () => Math.floor(rng.uniform() * 10));
    for (const make of [(model: Mlp) => createImageTrainer(model, config), (model: Mlp) => createFusedMlpTrainer(model, config, kernels)]) {
      const [handed, own] = [true, false].map((given) => {
        const model = Mlp.initialise(spec, { height: 8, width: 8, channels: 1 }, 10, 4);
        const trainer = make(model);
        steps(trainer, list, given);
        const out = { parameters: model.exportParameters().map((p) => bytes(p.data)), loss: trainer.takeLoss() };
        trainer.dispose();
        model.dispose();
        return out;
      });
      own!.parameters.forEach((p, k) => expect(p.equals(handed!.parameters[k]!)).toBe(true));
      expect(own!.loss).toBe(handed!.loss);
    }
    tf.dispose(list.flatMap((b) => [b.x, b.y, b.scale]));
  });
});

describe('a mixed adversarial epoch (train.mix.mode = mix)', () => {
  it('steps on [x; x_adv] with labels [y; y] and loss weights [(1 - lambda)/B; lambda/B], the weights made once per batch size', async () => {
    const lambda = 0.3;
    const config = resolveSparseCoding({
      task: { kind: 'sparse-coding', d, trainSize: n },
      model: { kind: 'two-layer', width: m },
      train: { batchSize: 30, attack: { kind: 'pgd', eps: 0.3, steps: 2 }, mix: { mode: 'mix', lambda } },
    });
    const net = TwoLayerNet.initialise(config.model, d, 3);
    const inner = createGenericTrainer(net, config);
    // The generic trainer, recording what each step is handed.
    const seen: { rows: number; x: Float32Array; y: Float32Array; scale: Float32Array; scaleId: number; adversarial: Float32Array }[] = [];
    let lastAdversarial: Float32Array | null = null;
    const recording: Trainer = {
      ...inner,
      step: (x, xT, y, scale, lr) => {
        seen.push({ rows: x.shape[0], x: x.dataSync() as Float32Array, y: y.dataSync() as Float32Array, scale: scale.dataSync() as Float32Array, scaleId: scale.id, adversarial: lastAdversarial! });
        inner.step(x, xT, y, scale, lr);
      },
      perturb: (x, y, attack) => {
        const xAdv = inner.perturb(x, y, attack);
        lastAdversarial = xAdv.dataSync() as Float32Array;
        return xAdv;
      },
    };
    await trainEpoch(recording, data, config, { phase: 'adversarial', epoch: 1, epochs: 1, clip: null, shuffleRng: RandomStream.derive(1, 'shuffle'), attackRng: RandomStream.derive(1, 'attack') });
    inner.dispose();
    net.dispose();
    // Batches of 30, 30 and 10, each doubled.
    expect(seen.map((s) => s.rows)).toEqual([60, 60, 20]);
    for (const s of seen) {
      const B = s.rows / 2;
      expect([...s.scale.subarray(0, B)]).toEqual(new Array(B).fill(Math.fround(Math.fround(1 / B) * Math.fround(1 - lambda))));
      expect([...s.scale.subarray(B)]).toEqual(new Array(B).fill(Math.fround(Math.fround(1 / B) * Math.fround(lambda))));
      expect([...s.y.subarray(B)]).toEqual([...s.y.subarray(0, B)]);
      expect([...s.x.subarray(B * d)]).toEqual([...s.adversarial]);
      expect(s.x.subarray(B * d)).not.toEqual(s.x.subarray(0, B * d));
    }
    // The two full batches share one weights tensor; the last, smaller one has its own.
    expect(seen[1]!.scaleId).toBe(seen[0]!.scaleId);
    expect(seen[2]!.scaleId).not.toBe(seen[0]!.scaleId);
  });
});
