/**
 * The step benchmarks of the fused WGSL kernels (issue 14): for the two-layer net at flagship size
 * (d = m = 128), at MNIST size (784 -> 256) and at d = m = 1024, and for the image MLP at MNIST
 * size, the dispatches of a training step and of a PGD step (counted by GpuKernels, not assumed)
 * and the time per step on webgpu against the fused wasm kernels in the same process.
 *
 * Run by `npm run bench` as a child process (Dawn reads LD_LIBRARY_PATH and VK_ICD_FILENAMES at
 * process start, so the bench sets them for SwiftShader when no Vulkan driver is configured), or on
 * its own: `node --import tsx bench/webgpuSteps.ts` on a machine with a GPU. On a software adapter
 * the times are labelled as such: SwiftShader runs the shaders on the CPU, so its figures say
 * nothing about a GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding, type MlpModel } from '../shared/config.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { GpuKernels } from '../main/engine/backend/webgpu/gpuKernels.ts';
import { loadFusedKernelsSync } from '../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../main/engine/models/mlp.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createFusedImageTrainer } from '../main/engine/training/fusedImageTrainer.ts';
import type { Trainer } from '../main/engine/training/trainer.ts';
import { perCall } from './perCall.ts';

type Backend = 'wasm' | 'webgpu';

interface Figures {
  train: number;
  pgd: number;
  trainDispatches: number;
  pgdDispatches: number;
}

/** One model's training step and PGD step (20 steps an attack) on the active backend. */
function measure(trainer: Trainer, x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D, clip: readonly [number, number] | null, reps: number): Figures {
  const gpu = tf.getBackend() === 'webgpu' ? GpuKernels.ofActiveBackend() : null;
  const counted = (f: () => void) => {
    const before = gpu?.dispatches ?? 0;
    f();
    return (gpu?.dispatches ?? 0) - before;
  };
  const trainDispatches = counted(() => trainer.step(x, xT, y, scale, 0.01));
  const train = perCall(() => trainer.step(x, xT, y, scale, 0.01), () => void trainer.takeLoss(), reps);
  const steps = 20;
  const attack = { eps: 0.3, norm: 'l2' as const, steps, stepSize: null, randomStart: false, clip, rng: RandomStream.derive(0, 'bench') };
  const pgdDispatches = counted(() => trainer.perturb(x, y, attack).dispose());
  let last: tf.Tensor | null = null;
  const pgd =
    perCall(
      () => {
        last?.dispose();
        last = trainer.perturb(x, y, attack);
      },
      () => void (last as tf.Tensor | null)?.dataSync(),
      Math.max(1, Math.round(reps / 5)),
    ) / steps;
  (last as tf.Tensor | null)?.dispose();
  return { train, pgd, trainDispatches, pgdDispatches };
}

function batch(B: number, d: number, labels: (rng: RandomStream) => number, scaleX: number, positive: boolean) {
  const rng = RandomStream.derive(0, 'bench-webgpu');
  const values = Float32Array.from({ length: B * d }, () => (positive ? rng.uniform() : rng.normal() * scaleX));
  const x = tf.tensor2d(values, [B, d]);
  return { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.tensor1d(Float32Array.from({ length: B }, () => labels(rng))), scale: tf.fill([B], 1 / B) as tf.Tensor1D };
}

async function twoLayer(backend: Backend, d: number, m: number, B: number, reps: number): Promise<Figures> {
  const { hooks } = await prepareBackend({ backend, fused: true });
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: Math.max(B, 100) }, model: { kind: 'two-layer', width: m }, train: { batchSize: B } });
  const net = TwoLayerNet.initialise(config.model, d, 0);
  const trainer = hooks.makeTrainer!(net, config);
  const { x, xT, y, scale } = batch(B, d, (rng) => rng.sign(), 1 / Math.sqrt(d), false);
  try {
    return measure(trainer, x, xT, y, scale, null, reps);
  } finally {
    trainer.dispose();
    net.dispose();
    tf.dispose([x, xT, y, scale]);
  }
}

async function imageMlp(backend: Backend, side: number, m: number, B: number, reps: number): Promise<Figures> {
  const { hooks } = await prepareBackend({ backend, fused: true });
  const d = side * side;
  const spec: MlpModel = { kind: 'mlp', width: m, activation: 'relu', thresholdRatio: 0.05, initScale: 1 };
  const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: spec, train: { batchSize: B } });
  const model = Mlp.initialise(spec, { height: side, width: side, channels: 1 }, 10, 0);
  const kernels = loadFusedKernelsSync();
  model.pgdKernels = kernels;
  if (hooks.imageHotPath) model.inputGradientProvider = hooks.imageHotPath.mlpInputGradientProvider;
  const trainer = hooks.imageHotPath?.makeTrainer(model, config) ?? createFusedImageTrainer(model, config, kernels!);
  const { x, xT, y, scale } = batch(B, d, (rng) => Math.floor(rng.uniform() * 10), 1, true);
  try {
    return measure(trainer, x, xT, y, scale, [0, 1], reps);
  } finally {
    trainer.dispose();
    model.dispose();
    tf.dispose([x, xT, y, scale]);
  }
}

const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;

async function main(): Promise<void> {
  let software = true;
  try {
    const { choice } = await prepareBackend({ backend: 'webgpu', fused: true });
    software = choice.device === 'cpu';
    console.log(`  adapter: ${choice.label}`);
  } catch (error) {
    console.log(`  webgpu skipped: ${(error as Error).message.split('\n')[0]}`);
    return;
  }
  const label = software ? 'webgpu on a SOFTWARE adapter (shaders on the CPU: correctness only, not a GPU figure)' : 'webgpu';
  const cases: [string, (backend: Backend) => Promise<Figures>][] = [
    ['two-layer d=128 m=128 B=100 (flagship)', (b) => twoLayer(b, 128, 128, 100, software ? 3 : 200)],
    ['two-layer d=784 m=256 B=128 (MNIST size)', (b) => twoLayer(b, 784, 256, 128, 100)],
    ['two-layer d=1024 m=1024 B=100', (b) => twoLayer(b, 1024, 1024, 100, 100)],
    ['image MLP 784 -> 256 -> 10 B=128', (b) => imageMlp(b, 28, 256, 128, 100)],
  ];
  const small: [string, (backend: Backend) => Promise<Figures>] = ['image MLP 64 -> 32 -> 10 B=32 (small)', (b) => imageMlp(b, 8, 32, 32, 3)];
  // A software adapter takes seconds a step at MNIST size: there only the flagship's shape runs
  // (the dispatch counts do not depend on the shape).
  for (const [name, run] of software ? [cases[0]!, small] : cases) {
    const gpu = await run('webgpu');
    const wasm = await run('wasm');
    console.log(`  ${name}`);
    console.log(`    dispatches: ${gpu.trainDispatches} per training step, ${gpu.pgdDispatches} per 20-step PGD attack (${(gpu.pgdDispatches / 20).toFixed(2)} per PGD step)`);
    console.log(`    ${label}: training step ${ms(gpu.train)}, PGD step ${ms(gpu.pgd)}`);
    console.log(`    wasm, fused kernels: training step ${ms(wasm.train)}, PGD step ${ms(wasm.pgd)}`);
  }
  if (software) console.log(`  ${cases.slice(1).map(([name]) => name).join('; ')}: not run on a software adapter (seconds a step)`);
}

await main();
