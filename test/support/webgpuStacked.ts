/**
 * Child-process driver for test/engine/webgpuStacked.test.ts (a child, because Dawn finds the
 * software adapter only in a process started with LD_LIBRARY_PATH and VK_ICD_FILENAMES set): K = 3
 * two-layer members, each with its own seed, batches (of its own size), learning rate, rho, init
 * scale and attack radius, trained 8 steps as a stack on webgpu (WebgpuStackedProgram, every step
 * a request answered for all three at once) and each alone on the one-member WGSL trainer; then
 * their training attacks, stacked and alone. Prints one JSON line: every member's weights, loss
 * and attack outputs both ways, the stacked calls made and the dispatches each took.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { GpuKernels } from '../../main/engine/backend/webgpu/gpuKernels.ts';
import { WebgpuStackedProgram } from '../../main/engine/backend/webgpu/stackedWebgpuProgram.ts';
import { createTwoLayerWebgpuTrainer } from '../../main/engine/backend/webgpu/twoLayerWebgpu.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import type { Trainer, TrainingAttack } from '../../main/engine/training/trainer.ts';

const d = 20;
const m = 12;
type Numbers = number[];

/** Member k's scalars: everything a stack's members may differ in. */
const members = [
  { seed: 1, rows: 30, lrScale: 1, ratio: 0.05, initScale: 1, eps: 0.3, fixed: 0.05 },
  { seed: 2, rows: 17, lrScale: 0.5, ratio: 0.1, initScale: 1.5, eps: 0.2, fixed: 0.1 },
  { seed: 3, rows: 30, lrScale: 2, ratio: 0.02, initScale: 0.7, eps: 0.45, fixed: 0.02 },
];

const optimizers: [string, { kind?: 'adam'; lr: number; momentum?: number }][] = [
  ['SGD', { lr: 0.5 }],
  ['SGD with momentum', { lr: 0.2, momentum: 0.9 }],
  ['Adam', { kind: 'adam', lr: 0.01 }],
];

function config(k: number, optimizer: { kind?: 'adam'; lr: number; momentum?: number }, threshold: 'relative' | 'fixed') {
  const member = members[k]!;
  return resolveSparseCoding({
    seed: member.seed,
    task: { kind: 'sparse-coding', d, trainSize: 100 },
    model: { kind: 'two-layer', width: m, initScale: member.initScale, threshold: threshold === 'fixed' ? { mode: 'fixed', value: member.fixed } : { ratio: member.ratio } },
    train: { batchSize: member.rows, optimizer: { ...optimizer, lr: optimizer.lr * member.lrScale } },
  } as ExperimentInput);
}

/** Member k's eight batches: x ~ 0.4 N(0, 1), labels ±1, loss weights 1/B, from its own stream. */
function batches(k: number) {
  const rng = RandomStream.derive(members[k]!.seed, 'stacked-webgpu');
  const B = members[k]!.rows;
  return Array.from({ length: 8 }, () => ({
    x: tf.tensor2d(Float32Array.from({ length: B * d }, () => rng.normal() * 0.4), [B, d]),
    y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())),
    scale: tf.fill([B], 1 / B) as tf.Tensor1D,
  }));
}

const net = (k: number, c: ReturnType<typeof config>) => TwoLayerNet.initialise(c.model, d, members[k]!.seed);

async function main() {
  const { info } = await prepareBackend({ backend: 'webgpu' });
  const gpu = GpuKernels.ofActiveBackend();
  const program = new WebgpuStackedProgram(gpu);
  const data = members.map((_, k) => batches(k));
  const training: Record<string, { stacked: { weights: Numbers; loss: number }[]; alone: { weights: Numbers; loss: number }[] }> = {};
  const dispatches: Record<string, number> = {};
  const calls: Record<string, typeof program.calls> = {};
  const finish = (n: TwoLayerNet, trainer: Trainer) => {
    trainer.sync();
    const out = { weights: [...n.weights()], loss: trainer.takeLoss() };
    trainer.dispose();
    n.dispose();
    return out;
  };
  for (const [name, optimizer] of optimizers) {
    for (const threshold of ['relative', 'fixed'] as const) {
      const configs = members.map((_, k) => config(k, optimizer, threshold));
      const nets = configs.map((c, k) => net(k, c));
      const trainers = nets.map((n, k) => program.makeTrainer(n, configs[k]!)!);
      const before = { ...program.calls };
      for (let s = 0; s < 8; s++) {
        const start = gpu.dispatches;
        await Promise.all(trainers.map((t, k) => t.later!.step(data[k]![s]!.x, data[k]![s]!.y, data[k]![s]!.scale, configs[k]!.train.optimizer.lr)));
        dispatches[`step ${threshold}`] = gpu.dispatches - start;
      }
      calls[`${name}, ${threshold}`] = { steps: program.calls.steps - before.steps, memberSteps: program.calls.memberSteps - before.memberSteps, attacks: 0, memberAttacks: 0 };
      const stacked = trainers.map((t, k) => finish(nets[k]!, t));
      const alone = configs.map((c, k) => {
        const n = net(k, c);
        const trainer = createTwoLayerWebgpuTrainer(n, c)!;
        for (const b of data[k]!) trainer.step(b.x, b.x, b.y, b.scale, c.train.optimizer.lr);
        return finish(n, trainer);
      });
      training[`${name}, ${threshold}`] = { stacked, alone };
    }
  }

  const perturbations: Record<string, { stacked: Numbers[]; alone: Numbers[] }> = {};
  for (const threshold of ['relative', 'fixed'] as const) {
    for (const norm of ['l2', 'linf'] as const) {
      for (const clip of [null, [-0.5, 0.5] as const]) {
        const attack = (k: number): TrainingAttack => ({ eps: members[k]!.eps, norm, steps: 5, stepSize: null, randomStart: clip !== null, clip, rng: RandomStream.derive(members[k]!.seed, 'attack') });
        const configs = members.map((_, k) => config(k, { lr: 0.5 }, threshold));
        const nets = configs.map((c, k) => net(k, c));
        const trainers = nets.map((n, k) => program.makeTrainer(n, configs[k]!)!);
        const before = { ...program.calls };
        const start = gpu.dispatches;
        const stackedOut = await Promise.all(trainers.map((t, k) => t.later!.perturb(data[k]![0]!.x, data[k]![0]!.y, attack(k))));
        const label = `${threshold}, ${norm}${clip ? ', clipped, random start' : ''}`;
        dispatches[`attack of 5 steps, ${threshold}`] = gpu.dispatches - start;
        calls[`attack ${label}`] = { steps: 0, memberSteps: 0, attacks: program.calls.attacks - before.attacks, memberAttacks: program.calls.memberAttacks - before.memberAttacks };
        const aloneOut = configs.map((c, k) => {
          const n = net(k, c);
          const trainer = createTwoLayerWebgpuTrainer(n, c)!;
          const x = trainer.perturb(data[k]![0]!.x, data[k]![0]!.y, attack(k));
          const values = [...x.dataSync()];
          x.dispose();
          trainer.dispose();
          n.dispose();
          return values;
        });
        perturbations[label] = { stacked: stackedOut.map((x) => [...x.dataSync()]), alone: aloneOut };
        tf.dispose(stackedOut);
        trainers.forEach((t) => t.dispose());
        nets.forEach((n) => n.dispose());
      }
    }
  }
  // A member checkpointed after 4 of 8 Adam steps (the network synced, the optimiser's state
  // exported), then resumed as a new member of the stack, against its 8 steps uninterrupted.
  const adam = optimizers[2]![1];
  const resumeConfigs = members.map((_, k) => config(k, adam, 'relative'));
  const resumed: Numbers[] = [];
  const uninterrupted: Numbers[] = [];
  for (const [k, c] of resumeConfigs.entries()) {
    const lr = c.train.optimizer.lr;
    const n = net(k, c);
    let trainer = program.makeTrainer(n, c)!;
    for (const b of data[k]!.slice(0, 4)) await trainer.later!.step(b.x, b.y, b.scale, lr);
    trainer.sync();
    const state = trainer.exportState();
    trainer.dispose();
    trainer = program.makeTrainer(n, c)!;
    trainer.importState(structuredClone(state));
    for (const b of data[k]!.slice(4)) await trainer.later!.step(b.x, b.y, b.scale, lr);
    resumed.push(finish(n, trainer).weights);
    const whole = net(k, c);
    const wholeTrainer = program.makeTrainer(whole, c)!;
    for (const b of data[k]!) await wholeTrainer.later!.step(b.x, b.y, b.scale, lr);
    uninterrupted.push(finish(whole, wholeTrainer).weights);
  }
  program.dispose();
  return { resume: { resumed, uninterrupted }, backend: info.name, fusedKernels: info.fusedKernels, training, perturbations, dispatches, calls };
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
