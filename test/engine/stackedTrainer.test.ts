/**
 * A stack of K same-shaped two-layer networks training as one program
 * (main/engine/training/stackedTrainer.ts, the phases of main/engine/kernels/assembly/stacked.ts):
 * each member, with its own init, data, batch size, learning rate and rho, computes exactly what
 * the threaded trainer computes for it alone on one thread, bit for bit, whether the stack's pool
 * has 1 or 2 threads (the threads split members, never a batch), for every optimiser and threshold
 * mode; a member sitting a step out is untouched; the training attack (random start, several
 * PGD steps, all members per kernel call) gives the lone trainer's batches bit for bit; a member's
 * checkpoint state resumes in a lone trainer; members running their own epoch loops at once share
 * every kernel call of the stacked program and end as they do alone, each timing only its own
 * training (its code and its share of the calls). Tiny shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools, kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createStackedTrainer, type StackBatch } from '../../main/engine/training/stackedTrainer.ts';
import { StackedProgram } from '../../main/engine/training/stackedProgram.ts';
import { createThreadedTrainer } from '../../main/engine/training/threadedTrainer.ts';
import { timedTraining } from '../../main/engine/training/timedTraining.ts';
import { trainEpoch } from '../../main/engine/training/trainEpoch.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';

// d and the batch sizes not multiples of the SIMD width, so every tail path runs
const d = 22;
const m = 13;
const K = 3;
/** Member k's batch size: the last one's is smaller, as an epoch's last batch is. */
const rowsOf = (k: number) => (k === K - 1 ? 17 : 30);
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});
afterAll(() => closeKernelThreadPools());

/** Member k's config: its own lr and rho on the shared shapes. */
function configOf(input: ExperimentInput, k: number): ReturnType<typeof resolveSparseCoding> {
  const model = input.model as { kind: 'two-layer'; width: number; threshold?: { mode: string; ratio?: number; value?: number } };
  const threshold = model.threshold?.mode === 'fixed' ? model.threshold : { mode: 'relative', ratio: 0.2 + 0.1 * k };
  const optimizer = { ...(input.train?.optimizer ?? {}), lr: ((input.train?.optimizer as { lr?: number } | undefined)?.lr ?? 0.1) * (1 + 0.5 * k) };
  return resolveSparseCoding({
    ...input,
    model: { ...model, threshold },
    task: { kind: 'sparse-coding', d, trainSize: 100 },
    train: { batchSize: 30, ...input.train, optimizer },
  } as ExperimentInput);
}

/** Member k's batches, one per step: its own data stream. */
function batchesOf(k: number, steps: number): { x: tf.Tensor2D; xT: tf.Tensor2D; y: tf.Tensor1D; scale: tf.Tensor1D }[] {
  const rng = RandomStream.derive(11 + k, 'stacked-test');
  const B = rowsOf(k);
  return Array.from({ length: steps }, () => {
    const x = tf.tensor2d(Float32Array.from({ length: B * d }, () => rng.normal() * 0.4), [B, d]);
    return { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())), scale: tf.fill([B], 1 / B) as tf.Tensor1D };
  });
}

const cases: [string, ExperimentInput][] = [
  ['relative, SGD', { model: { kind: 'two-layer', width: m } }],
  ['relative, momentum', { model: { kind: 'two-layer', width: m }, train: { optimizer: { momentum: 0.9, lr: 0.1 } } }],
  ['relative, Adam', { model: { kind: 'two-layer', width: m }, train: { optimizer: { kind: 'adam', lr: 0.01 } } }],
  ['fixed, SGD', { model: { kind: 'two-layer', width: m, threshold: { mode: 'fixed', value: 0.1 } } }],
];

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const STEPS = 8;
/** Member 1 sits this step out (a member that finished its epoch, or was cancelled). */
const SITS_OUT = 3;

/** Each member alone: the threaded trainer on one thread, the same batches (member 1 skipping SITS_OUT). */
function alone(input: ExperimentInput) {
  return Array.from({ length: K }, (_, k) => {
    const config = configOf(input, k);
    const net = TwoLayerNet.initialise(config.model, d, 5 + k);
    const trainer = createThreadedTrainer(kernelThreadPool(1), kernels, net, config)!;
    const batches = batchesOf(k, STEPS);
    batches.forEach((b, s) => {
      if (!(k === 1 && s === SITS_OUT)) trainer.step(b.x, b.xT, b.y, b.scale, config.train.optimizer.lr);
    });
    trainer.sync();
    const out = { weights: net.weights(), loss: trainer.takeLoss(), state: trainer.exportState() };
    trainer.dispose();
    net.dispose();
    tf.dispose(batches.flatMap((b) => [b.x, b.xT, b.y, b.scale]));
    return out;
  });
}

describe('a stacked training step: each member exactly as the threaded trainer alone on one thread', () => {
  for (const [name, input] of cases) {
    it(name, () => {
      const expected = alone(input);
      for (const T of [1, 2]) {
        const configs = Array.from({ length: K }, (_, k) => configOf(input, k));
        const nets = configs.map((config, k) => TwoLayerNet.initialise(config.model, d, 5 + k));
        const start = nets.map((net) => net.weights());
        const stacked = createStackedTrainer(kernelThreadPool(T), kernels, nets.map((net, k) => ({ net, config: configs[k]! })))!;
        const batches = Array.from({ length: K }, (_, k) => batchesOf(k, STEPS));
        for (let s = 0; s < STEPS; s++) {
          stacked.step(batches.map((own, k): StackBatch | null => (k === 1 && s === SITS_OUT ? null : { ...own[s]!, lr: configs[k]!.train.optimizer.lr })));
        }
        for (let k = 0; k < K; k++) {
          const member = stacked.member(k);
          member.sync();
          const weights = nets[k]!.weights();
          expect(bytes(weights).equals(bytes(start[k]!)), `T = ${T}, member ${k}: the weights moved`).toBe(false);
          expect(bytes(weights).equals(bytes(expected[k]!.weights)), `T = ${T}, member ${k}: weights bit for bit`).toBe(true);
          expect(member.takeLoss(), `T = ${T}, member ${k}: loss`).toBe(expected[k]!.loss);
          const state = member.exportState();
          expect(state.t, `T = ${T}, member ${k}: steps`).toBe(k === 1 ? STEPS - 1 : STEPS);
          expect(Object.keys(state.tensors).sort()).toEqual(Object.keys(expected[k]!.state.tensors).sort());
          for (const [key, values] of Object.entries(expected[k]!.state.tensors)) {
            expect(bytes(state.tensors[key]!).equals(bytes(values)), `T = ${T}, member ${k}: ${key}`).toBe(true);
          }
        }
        stacked.dispose();
        nets.forEach((net) => net.dispose());
        tf.dispose(batches.flat().flatMap((b) => [b.x, b.xT, b.y, b.scale]));
      }
    });
  }

  it('refuses members of different shapes, naming the one that differs', () => {
    const a = configOf(cases[0]![1], 0);
    const b = configOf(cases[2]![1], 1);
    const nets = [TwoLayerNet.initialise(a.model, d, 1), TwoLayerNet.initialise(b.model, d, 2)];
    expect(() => createStackedTrainer(kernelThreadPool(1), kernels, [{ net: nets[0]!, config: a }, { net: nets[1]!, config: b }])).toThrow(
      "members[1]: its optimizer differs from member 0's",
    );
    nets.forEach((net) => net.dispose());
  });
});

describe('the stacked training attack and a member checkpoint', () => {
  it('perturbs each member batch as its lone trainer does, bit for bit, and a member state resumes alone', () => {
    const input = cases[1]![1];
    const configs = Array.from({ length: K }, (_, k) => configOf(input, k));
    const batches = Array.from({ length: K }, (_, k) => batchesOf(k, 2));
    const attackOf = (k: number) => ({
      eps: 0.2 + 0.1 * k, norm: k === 2 ? ('linf' as const) : ('l2' as const), steps: 3, stepSize: null,
      randomStart: k !== 0, clip: k === 1 ? ([-1, 1] as const) : null, rng: RandomStream.derive(k, 'attack'),
    });
    // alone: one step, then the attack on the second batch, then the state into a fresh trainer and one more step
    const expected = configs.map((config, k) => {
      const net = TwoLayerNet.initialise(config.model, d, 5 + k);
      const trainer = createThreadedTrainer(kernelThreadPool(1), kernels, net, config)!;
      const b = batches[k]!;
      trainer.step(b[0]!.x, b[0]!.xT, b[0]!.y, b[0]!.scale, config.train.optimizer.lr);
      const xAdv = trainer.perturb(b[1]!.x, b[1]!.y, attackOf(k));
      const values = xAdv.dataSync().slice() as Float32Array;
      xAdv.dispose();
      trainer.dispose();
      net.dispose();
      return values;
    });
    const nets = configs.map((config, k) => TwoLayerNet.initialise(config.model, d, 5 + k));
    const stacked = createStackedTrainer(kernelThreadPool(2), kernels, nets.map((net, k) => ({ net, config: configs[k]! })))!;
    stacked.step(batches.map((b, k) => ({ ...b[0]!, lr: configs[k]!.train.optimizer.lr })));
    const adv = stacked.perturb(batches.map((b, k) => ({ x: b[1]!.x, y: b[1]!.y, attack: attackOf(k) })));
    for (let k = 0; k < K; k++) {
      const got = adv[k]!.dataSync() as Float32Array;
      expect(bytes(got).equals(bytes(expected[k]!)), `member ${k}: adversarial batch bit for bit`).toBe(true);
      expect(bytes(got).equals(bytes(batches[k]![1]!.x.dataSync() as Float32Array)), `member ${k}: the attack moved the batch`).toBe(false);
    }
    tf.dispose(adv.filter((x): x is tf.Tensor2D => x !== null));

    // member 1's checkpoint, resumed by a lone threaded trainer, steps as the stacked member does
    const member = stacked.member(1);
    member.sync();
    const state = member.exportState();
    const resumedNet = TwoLayerNet.initialise(configs[1]!.model, d, 99);
    resumedNet.setWeights(nets[1]!.weights(), null);
    const resumed = createThreadedTrainer(kernelThreadPool(1), kernels, resumedNet, configs[1]!)!;
    resumed.importState(state);
    const b1 = batches[1]![1]!;
    resumed.step(b1.x, b1.xT, b1.y, b1.scale, configs[1]!.train.optimizer.lr);
    member.step(b1.x, b1.xT, b1.y, b1.scale, configs[1]!.train.optimizer.lr);
    resumed.sync();
    member.sync();
    expect(bytes(resumedNet.weights()).equals(bytes(nets[1]!.weights())), 'a member resumed alone').toBe(true);
    resumed.dispose();
    resumedNet.dispose();
    stacked.dispose();
    nets.forEach((net) => net.dispose());
    tf.dispose(batches.flat().flatMap((b) => [b.x, b.xT, b.y, b.scale]));
  });
});

describe('the stacked program: members running their own epoch loops share each kernel call', () => {
  it('two members training an adversarial epoch at once: each step and PGD step is one call for both, and each member ends as alone', async () => {
    const input = cases[1]![1];
    const members = [0, 1].map((k) => {
      const config = configOf(input, k);
      const rng = RandomStream.derive(40 + k, 'stacked-program-data');
      const n = 60;
      const train = { x: Float32Array.from({ length: n * d }, () => rng.normal() * 0.4), y: Float32Array.from({ length: n }, () => rng.sign()), n, d };
      return { config, train };
    });
    const epoch = (trainer: Trainer, k: number) =>
      trainEpoch(trainer, members[k]!.train, members[k]!.config, {
        phase: 'adversarial', epoch: 1, epochs: 1, clip: null,
        shuffleRng: RandomStream.derive(k, 'shuffle'), attackRng: RandomStream.derive(k, 'attack'),
      });
    const alone = [];
    for (const [k, { config }] of members.entries()) {
      const net = TwoLayerNet.initialise(config.model, d, 5 + k);
      const trainer = createThreadedTrainer(kernelThreadPool(1), kernels, net, config)!;
      const { loss } = await epoch(trainer, k);
      alone.push({ loss, weights: net.weights() });
      trainer.dispose();
      net.dispose();
    }
    const program = new StackedProgram(kernelThreadPool(2), kernels);
    const nets = members.map(({ config }, k) => TwoLayerNet.initialise(config.model, d, 5 + k));
    const trainers = nets.map((net, k) => program.makeTrainer(net, members[k]!.config)!);
    const t0 = performance.now();
    const timed = await Promise.all(trainers.map((trainer, k) => timedTraining(trainer, () => epoch(trainer, k))));
    const wall = (performance.now() - t0) / 1000;
    const results = timed.map((t) => t.result);
    const steps = 60 / 30;
    const pgdSteps = members[0]!.config.train.attack.steps;
    expect(program.calls).toEqual({ steps, memberSteps: 2 * steps, gradients: steps * pgdSteps, memberGradients: 2 * steps * pgdSteps });
    // The bench's breakdown (bench/stackLedger.ts) takes the calls' own time from these.
    expect(program.seconds.steps).toBeGreaterThan(0);
    expect(program.seconds.gradients).toBeGreaterThan(0);
    // Each member's training seconds are its own code and its share of the calls (the rows are
    // equal, so half of each), not the other member's work too: together at most the stack's wall
    // time (each epoch alone spans nearly all of it), each at least its half of the calls.
    const callSeconds = program.seconds.steps + program.seconds.gradients;
    const own = timed.map((t) => t.seconds);
    expect(own[0]! + own[1]!, `members' seconds ${own.join(' + ')} against the stack's wall ${wall}`).toBeLessThanOrEqual(wall);
    own.forEach((seconds, k) => {
      expect(seconds, `member ${k}`).toBeGreaterThanOrEqual(callSeconds / 2 - 1e-9);
      expect(seconds + timed[k]!.waitedSeconds, `member ${k}: own + waited is its epoch's wall`).toBeLessThanOrEqual(wall);
    });
    for (let k = 0; k < 2; k++) {
      expect(results[k]!.loss, `member ${k}: loss`).toBe(alone[k]!.loss);
      expect(bytes(nets[k]!.weights()).equals(bytes(alone[k]!.weights)), `member ${k}: weights bit for bit`).toBe(true);
      trainers[k]!.dispose();
      nets[k]!.dispose();
    }
  });
});
