/**
 * The step benchmarks of the fused WGSL kernels (issue 14): for the two-layer net at flagship size
 * (d = m = 128), at MNIST size (784 -> 256) and at d = m = 1024, and for the image MLP at MNIST
 * size, the dispatches of a training step and of a PGD step and the time per step on webgpu
 * against webgpu without its fused kernels (tfjs-webgpu's own ops: whether the fused WGSL path
 * pays at each size) and against the fused wasm kernels, in the same process. The dispatches are counted, not assumed, on
 * real steps through the epoch loop: the fused kernels' (GpuKernels) and every program tfjs runs
 * beside them (./webgpuPrograms.ts), per step and per epoch (the differences between epochs of 1
 * and of 2 batches).
 *
 * Run by `npm run bench` as a child process (Dawn reads LD_LIBRARY_PATH and VK_ICD_FILENAMES at
 * process start, so the bench sets them for SwiftShader when no Vulkan driver is configured), or on
 * its own: `node --import tsx bench/webgpuSteps.ts` on a machine with a GPU. On a software adapter
 * the times are labelled as such: SwiftShader runs the shaders on the CPU, so its figures say
 * nothing about a GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding, type MlpModel, type ResolvedExperiment } from '../shared/config.ts';
import type { Phase } from '../shared/events.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { GpuKernels } from '../main/engine/backend/webgpu/gpuKernels.ts';
import { loadFusedKernelsSync } from '../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../main/engine/models/mlp.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createFusedImageTrainer } from '../main/engine/training/fusedImageTrainer.ts';
import { createGenericTrainer } from '../main/engine/training/genericTrainer.ts';
import { createImageTrainer } from '../main/engine/training/imageTrainer.ts';
import { trainEpoch } from '../main/engine/training/trainEpoch.ts';
import type { Trainer } from '../main/engine/training/trainer.ts';
import type { Dataset } from '../main/engine/tasks/dataset.ts';
import { perCall } from './perCall.ts';
import { programCount, webgpuPrograms } from './webgpuPrograms.ts';

/** 'webgpu-plain': webgpu without the fused WGSL kernels (tfjs-webgpu's own ops, its tiled matMul), to show where the fused path pays. */
type Backend = 'wasm' | 'webgpu' | 'webgpu-plain';

/** GPU programs: the fused kernels' dispatches and the programs of tfjs's own ops. */
interface Programs {
  fused: number;
  other: number;
}

interface Figures {
  train: number;
  pgd: number;
  /** webgpu only: the programs of a training step, of a 20-step PGD attack, and those an epoch adds once. */
  dispatches?: { step: Programs; attack: Programs; clean: Programs; adversarial: Programs };
}

/** PGD steps of an attack. */
const attackSteps = 20;

/** The GPU programs `run` submits on webgpu. */
async function programsOf(run: () => Promise<unknown>): Promise<Programs> {
  const gpu = GpuKernels.ofActiveBackend();
  const before = gpu.dispatches;
  const { programs } = await webgpuPrograms(run);
  return { fused: gpu.dispatches - before, other: programCount(programs) };
}

const minus = (a: Programs, b: Programs): Programs => ({ fused: a.fused - b.fused, other: a.other - b.other });

/**
 * The programs of real steps: epochs of 1 and of 2 batches of B through the epoch loop, clean and
 * adversarial (PGD-20 replacing the batch). Their difference is a step's (a training step; a
 * training step and its attack); the 1-batch epoch less a step is what an epoch adds once (the
 * loss read back, the weights written back, the loss weights 1/B filled).
 */
async function epochDispatches(trainer: Trainer, config: ResolvedExperiment, data: (batches: number) => Dataset, clip: readonly [number, number] | null): Promise<NonNullable<Figures['dispatches']>> {
  const epoch = (phase: Phase, batches: number) =>
    programsOf(() => trainEpoch(trainer, data(batches), config, { phase, epoch: 1, epochs: 1, clip, shuffleRng: RandomStream.derive(0, 'shuffle'), attackRng: RandomStream.derive(0, 'attack') }));
  const [clean1, clean2, adversarial1, adversarial2] = [await epoch('clean', 1), await epoch('clean', 2), await epoch('adversarial', 1), await epoch('adversarial', 2)];
  const step = minus(clean2, clean1);
  const stepAndAttack = minus(adversarial2, adversarial1);
  return { step, attack: minus(stepAndAttack, step), clean: minus(clean1, step), adversarial: minus(adversarial1, stepAndAttack) };
}

/** One model's training step and PGD step (20 steps an attack) on the active backend, timed as the epoch loop calls them (no x^T handed). */
async function measure(trainer: Trainer, config: ResolvedExperiment, data: (batches: number) => Dataset, clip: readonly [number, number] | null, reps: number, countPrograms = true): Promise<Figures> {
  const { x, y, scale } = batchOf(data(1));
  const train = perCall(() => trainer.step(x, null, y, scale, 0.01), () => void trainer.takeLoss(), reps);
  const steps = attackSteps;
  const attack = { eps: 0.3, norm: 'l2' as const, steps, stepSize: null, randomStart: false, clip, rng: RandomStream.derive(0, 'bench') };
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
  tf.dispose([x, y, scale]);
  const dispatches = countPrograms && tf.getBackend() === 'webgpu' ? await epochDispatches(trainer, config, data, clip) : undefined;
  return { train, pgd, ...(dispatches ? { dispatches } : {}) };
}

/** `batches` batches of B samples (the same stream each call, so an epoch's first batch is the timed one). */
function samples(B: number, d: number, labels: (rng: RandomStream) => number, scaleX: number, positive: boolean) {
  return (batches: number): Dataset => {
    const rng = RandomStream.derive(0, 'bench-webgpu');
    const n = batches * B;
    const x = Float32Array.from({ length: n * d }, () => (positive ? rng.uniform() : rng.normal() * scaleX));
    return { x, y: Float32Array.from({ length: n }, () => labels(rng)), n, d };
  };
}

/** One batch as tensors: x, labels, loss weights 1/B. */
function batchOf({ x, y, n, d }: Dataset) {
  return { x: tf.tensor2d(x, [n, d]), y: tf.tensor1d(y), scale: tf.fill([n], 1 / n) as tf.Tensor1D };
}

/** The backend loaded with its hot path (fused kernels), or webgpu with tfjs's own ops only. */
const load = (backend: Backend) => (backend === 'webgpu-plain' ? prepareBackend({ backend: 'webgpu', fused: false }) : prepareBackend({ backend, fused: true }));

async function twoLayer(backend: Backend, d: number, m: number, B: number, reps: number): Promise<Figures> {
  const { hooks } = await load(backend);
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: Math.max(B, 100) }, model: { kind: 'two-layer', width: m }, train: { batchSize: B, attack: { kind: 'pgd', eps: 0.3, steps: attackSteps } } });
  const net = TwoLayerNet.initialise(config.model, d, 0);
  const trainer = hooks.makeTrainer?.(net, config) ?? createGenericTrainer(net, config);
  try {
    return await measure(trainer, config, samples(B, d, (rng) => rng.sign(), 1 / Math.sqrt(d), false), null, reps, backend !== 'webgpu-plain');
  } finally {
    trainer.dispose();
    net.dispose();
  }
}

async function imageMlp(backend: Backend, side: number, m: number, B: number, reps: number): Promise<Figures> {
  const { hooks } = await load(backend);
  const d = side * side;
  const spec: MlpModel = { kind: 'mlp', width: m, activation: 'relu', thresholdRatio: 0.05, initScale: 1 };
  const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: spec, train: { batchSize: B, attack: { kind: 'pgd', eps: 0.3, steps: attackSteps } } });
  const model = Mlp.initialise(spec, { height: side, width: side, channels: 1 }, 10, 0);
  const plain = backend === 'webgpu-plain';
  const kernels = plain ? null : loadFusedKernelsSync();
  model.pgdKernels = kernels;
  if (hooks.imageHotPath) model.inputGradientProvider = hooks.imageHotPath.mlpInputGradientProvider;
  const trainer = hooks.imageHotPath?.makeTrainer(model, config) ?? (kernels ? createFusedImageTrainer(model, config, kernels) : createImageTrainer(model, config));
  try {
    return await measure(trainer, config, samples(B, d, (rng) => Math.floor(rng.uniform() * 10), 1, true), [0, 1], reps, !plain);
  } finally {
    trainer.dispose();
    model.dispose();
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
    const plain = await run('webgpu-plain');
    const wasm = await run('wasm');
    console.log(`  ${name}`);
    const { step, attack, clean, adversarial } = gpu.dispatches!;
    const programs = ({ fused, other }: Programs) => `${fused + other} (${fused} fused, ${other} other)`;
    console.log(`    dispatches: ${programs(step)} per training step, ${programs(attack)} per ${attackSteps}-step PGD attack (${((attack.fused + attack.other) / attackSteps).toFixed(2)} per PGD step)`);
    console.log(`    and once an epoch: ${programs(clean)} clean, ${programs(adversarial)} adversarial (loss read-back, weights written back, loss weights 1/B)`);
    console.log(`    ${label}: training step ${ms(gpu.train)}, PGD step ${ms(gpu.pgd)}`);
    console.log(`    webgpu, plain tfjs ops (no fused kernels): training step ${ms(plain.train)}, PGD step ${ms(plain.pgd)}; fused / plain: ${(gpu.train / plain.train).toFixed(2)}x, ${(gpu.pgd / plain.pgd).toFixed(2)}x`);
    console.log(`    wasm, fused kernels: training step ${ms(wasm.train)}, PGD step ${ms(wasm.pgd)}`);
  }
  if (software) console.log(`  ${cases.slice(1).map(([name]) => name).join('; ')}: not run on a software adapter (seconds a step)`);
}

await main();
