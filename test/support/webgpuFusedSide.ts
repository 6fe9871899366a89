/**
 * For the child-process driver of test/engine/webgpu.test.ts (./webgpuAgreement.ts): the fused
 * hot paths of wasm (AssemblyScript kernels) and of webgpu (WGSL kernels) on the same tiny
 * problems: the two-layer net's and the image MLP's weights after 8 steps of SGD, momentum and
 * Adam, their training attacks (PGD l2 and linf), the evaluation attacks, and the dispatches each
 * fused step took (counted by GpuKernels). Whole runs, which go through the hot paths too, are
 * compared by ./webgpuAgreement.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding, type MlpModel } from '../../shared/config.ts';
import { webgpuPrograms } from '../../bench/webgpuPrograms.ts';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { loadFusedKernelsSync } from '../../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { createFusedImageTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { GpuKernels } from '../../main/engine/backend/webgpu/gpuKernels.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { trainEpoch } from '../../main/engine/training/trainEpoch.ts';
import type { TrainingAttack } from '../../main/engine/training/trainer.ts';
import { classes, d, mlpBatches, mlpSpec, optimizers, picture, pixels, twoLayerBatch, twoLayerConfig, type Numbers } from './webgpuProblems.ts';

/** Dispatches per call of `run`, counted on the webgpu side (0 on wasm). */
function dispatchesOf(backend: string, run: () => void): number {
  if (backend !== 'webgpu') {
    run();
    return 0;
  }
  const gpu = GpuKernels.ofActiveBackend();
  const before = gpu.dispatches;
  run();
  return gpu.dispatches - before;
}

async function twoLayer(backend: 'wasm' | 'webgpu') {
  const { hooks } = await prepareBackend({ backend, fused: true });
  const makeTrainer = hooks.makeTrainer!;
  const { x, xT, y, scale } = twoLayerBatch('webgpu-fused-agreement');
  const training: Record<string, { weights: Numbers; loss: number }> = {};
  const dispatches: Record<string, number> = {};
  for (const [name, optimizer] of optimizers) {
    for (const threshold of ['relative', 'fixed'] as const) {
      const config = twoLayerConfig(optimizer, threshold === 'fixed' ? { mode: 'fixed', value: 0.05 } : undefined);
      const net = TwoLayerNet.initialise(config.model, d, 1);
      const trainer = makeTrainer(net, config);
      for (let s = 0; s < 8; s++) dispatches[`step ${threshold}`] = dispatchesOf(backend, () => trainer.step(x, xT, y, scale, config.train.optimizer.lr));
      trainer.sync();
      training[`${name}, ${threshold}`] = { weights: [...net.weights()], loss: trainer.takeLoss() };
      trainer.dispose();
      net.dispose();
    }
  }
  const config = twoLayerConfig({ lr: 0.5 });
  const net = TwoLayerNet.initialise(config.model, d, 2);
  const trainer = makeTrainer(net, config);
  const perturbations: Record<string, Numbers> = {};
  for (const norm of ['l2', 'linf'] as const) {
    for (const clip of [null, [-0.5, 0.5] as const]) {
      const attack: TrainingAttack = { eps: 0.3, norm, steps: 5, stepSize: null, randomStart: clip !== null, clip, rng: RandomStream.derive(0, 'a') };
      let out: tf.Tensor2D | null = null;
      dispatches[`attack of 5 steps`] = dispatchesOf(backend, () => (out = trainer.perturb(x, y, attack)));
      perturbations[`${norm}${clip ? ', clipped, random start' : ''}`] = [...out!.dataSync()];
      out!.dispose();
    }
  }
  trainer.dispose();
  net.inputGradientProvider = hooks.inputGradientProvider ?? null;
  let evaluation: ReturnType<typeof pgdAttack> | null = null;
  dispatches['evaluation PGD-10'] = dispatchesOf(backend, () => (evaluation = pgdAttack(net, x, y, { eps: [0, 0.1, 0.5], norm: 'l2', steps: 10 })));
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  const { margins, zeroGradient } = evaluation!;
  return { training, perturbations, pgd: { margins: margins.map((row) => [...row]), zeroGradient: [...zeroGradient] }, dispatches };
}

async function imageMlp(backend: 'wasm' | 'webgpu') {
  const { info, hooks } = await prepareBackend({ backend, fused: true });
  // the image MLP, both activations
  const batches = mlpBatches('webgpu-fused-agreement-mlp');
  /** The trainer the image testbed makes on this backend's hot path. */
  const trainerFor = (model: Mlp, config: ReturnType<typeof resolveExperiment>) => {
    model.pgdKernels = backend === 'wasm' ? loadFusedKernelsSync() : null;
    if (hooks.imageHotPath) model.inputGradientProvider = hooks.imageHotPath.mlpInputGradientProvider;
    return hooks.imageHotPath?.makeTrainer(model, config) ?? createFusedImageTrainer(model, config, loadFusedKernelsSync()!);
  };
  void info;
  const training: Record<string, { parameters: Numbers[]; loss: number }> = {};
  const dispatches: Record<string, number> = {};
  for (const [name, optimizer] of optimizers) {
    for (const activation of ['relu', 'symmetric-threshold'] as const) {
      const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec(activation), train: { batchSize: 30, optimizer: name === 'Adam' ? { kind: 'adam', lr: 0.003 } : optimizer } });
      const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
      const trainer = trainerFor(model, config);
      for (const b of batches) dispatches[`step ${activation}`] = dispatchesOf(backend, () => trainer.step(b.xs, b.xT, b.y, b.scale, config.train.optimizer.lr));
      trainer.sync();
      training[`${name}, ${activation}`] = { parameters: model.exportParameters().map((p) => [...p.data]), loss: trainer.takeLoss() };
      trainer.dispose();
      model.dispose();
    }
  }
  const perturbations: Record<string, Numbers> = {};
  const first = batches[0]!;
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec(activation), train: { batchSize: 30 } });
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 14);
    const trainer = trainerFor(model, config);
    for (const [norm, eps] of [['linf', 0.1], ['l2', 1]] as const) {
      const attack: TrainingAttack = { eps, norm, steps: 5, stepSize: null, randomStart: false, clip: [0, 1], rng: RandomStream.derive(0, 'a') };
      let out: tf.Tensor2D | null = null;
      dispatches[`attack of 5 steps, ${activation}`] = dispatchesOf(backend, () => (out = trainer.perturb(first.xs, first.y, attack)));
      perturbations[`training, ${norm}, ${activation}`] = [...out!.dataSync()];
      out!.dispose();
      // The evaluation's attack, through the model's own session.
      dispatches[`evaluation attack of 5 steps, ${activation}`] = dispatchesOf(backend, () => (out = pgdPerturb(model, first.xs, first.y, { eps, norm, steps: 5, clip: [0, 1] })));
      perturbations[`evaluation, ${norm}, ${activation}`] = [...out!.dataSync()];
      out!.dispose();
    }
    trainer.dispose();
    model.dispose();
  }
  for (const b of batches) tf.dispose([b.xs, b.xT, b.y, b.scale]);
  return { training, perturbations, dispatches };
}

/**
 * One epoch of each model through the epoch loop on the WGSL hot path (70 samples in batches of
 * 30, 30 and 10), clean and adversarial (PGD-2, replacing or mixed with the clean batch): the tfjs
 * programs it ran, by shader, and the fused dispatches.
 */
export async function epochPrograms() {
  const { hooks } = await prepareBackend({ backend: 'webgpu', fused: true });
  const n = 70;
  const rng = RandomStream.derive(3, 'webgpu-epoch-programs');
  const out: Record<string, { programs: Record<string, number>; fused: number }> = {};
  const gpu = GpuKernels.ofActiveBackend();
  for (const mode of ['clean', 'replace', 'mix'] as const) {
    const train = { batchSize: 30, attack: { kind: 'pgd', eps: 0.3, steps: 2 }, mix: { mode: mode === 'clean' ? 'replace' : mode } } as const;
    const phase = mode === 'clean' ? 'clean' : 'adversarial';
    const options = (seed: number) => ({ phase, epoch: 1, epochs: 1, clip: null, shuffleRng: RandomStream.derive(seed, 'shuffle'), attackRng: RandomStream.derive(seed, 'attack') }) as const;
    const counted = async (name: string, epoch: () => Promise<unknown>) => {
      const before = gpu.dispatches;
      const { programs } = await webgpuPrograms(epoch);
      out[name] = { programs, fused: gpu.dispatches - before };
    };
    {
      const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: n }, model: { kind: 'two-layer', width: 12 }, train });
      const data = { x: Float32Array.from({ length: n * d }, () => rng.normal() * 0.4), y: Float32Array.from({ length: n }, () => rng.sign()), n, d };
      const net = TwoLayerNet.initialise(config.model, d, 1);
      const trainer = hooks.makeTrainer!(net, config)!;
      await counted(`two-layer, ${mode}`, () => trainEpoch(trainer, data, config, options(1)));
      trainer.dispose();
      net.dispose();
    }
    {
      const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec('relu'), train });
      const data = { x: Float32Array.from({ length: n * pixels }, () => rng.uniform()), y: Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes)), n, d: pixels };
      const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
      model.inputGradientProvider = hooks.imageHotPath!.mlpInputGradientProvider;
      const trainer = hooks.imageHotPath!.makeTrainer(model, config)!;
      await counted(`image MLP, ${mode}`, () => trainEpoch(trainer, data, config, { ...options(2), clip: [0, 1] }));
      trainer.dispose();
      model.dispose();
    }
  }
  return out;
}

/** Everything above on `backend`'s hot path (the fused wasm kernels or the fused WGSL ones). */
export async function fusedSide(backend: 'wasm' | 'webgpu') {
  const { info } = await prepareBackend({ backend, fused: true });
  return { hotPath: info.fusedKernels, twoLayer: await twoLayer(backend), imageMlp: await imageMlp(backend), ...(backend === 'webgpu' ? { epochs: await epochPrograms() } : {}) };
}
