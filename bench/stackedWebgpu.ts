/**
 * The stacked WGSL kernels (main/engine/backend/webgpu/stackedWebgpu.ts, issue 14 item 3): K
 * two-layer members' training step in one stacked call against K single steps on the one-member
 * WGSL trainer, and the same for a PGD step of their training attacks; the dispatches of each
 * (counted by GpuKernels, not assumed).
 *
 * On a hardware adapter: K = 64 at flagship size (d = m = 128, B = 100) and at MNIST size
 * (784 -> 256, B = 128), time per stacked step against time per 64 single steps. On a software
 * adapter (SwiftShader runs the shaders on the CPU, so its times say nothing about a GPU): K = 3 at
 * a tiny shape, the dispatches and how far each stacked member's weights are from the member run
 * alone after 8 steps, correctness only.
 *
 * Run by `npm run bench` as a child process (Dawn reads LD_LIBRARY_PATH and VK_ICD_FILENAMES at
 * process start), or on its own on a machine with a GPU: `node --import tsx bench/stackedWebgpu.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding } from '../shared/config.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { GpuKernels } from '../main/engine/backend/webgpu/gpuKernels.ts';
import { createArena, joinArena, leaveArena, recordAttack, StackScratch, stackedWebgpuAttacks, stackedWebgpuSteps, syncMember, takeMemberLoss, disposeArena } from '../main/engine/backend/webgpu/stackedWebgpu.ts';
import { createTwoLayerWebgpuTrainer } from '../main/engine/backend/webgpu/twoLayerWebgpu.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import type { Trainer, TrainingAttack } from '../main/engine/training/trainer.ts';
import { perCall } from './perCall.ts';

interface Shape {
  readonly name: string;
  readonly d: number;
  readonly m: number;
  readonly B: number;
}

/** K members of one shape, each with its own seed, batch and attack radius; stacked and alone. */
function stackOf(shape: Shape, K: number) {
  const { d, m, B } = shape;
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: Math.max(B, 100) }, model: { kind: 'two-layer', width: m }, train: { batchSize: B, optimizer: { lr: 0.05 } } });
  const batches = Array.from({ length: K }, (_, k) => {
    const rng = RandomStream.derive(k, 'bench-stacked-webgpu');
    return {
      x: tf.tensor2d(Float32Array.from({ length: B * d }, () => rng.normal() / Math.sqrt(d)), [B, d]),
      y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())),
      scale: tf.fill([B], 1 / B) as tf.Tensor1D,
    };
  });
  const attack = (k: number): TrainingAttack => ({ eps: 0.2 + 0.01 * k, norm: 'l2', steps: 20, stepSize: null, randomStart: false, clip: null, rng: RandomStream.derive(k, 'bench-attack') });
  const net = (k: number) => TwoLayerNet.initialise(config.model, d, k);
  return { config, batches, attack, net };
}

interface Figures {
  stepDispatches: number;
  attackDispatches: number;
  stackedStep: number;
  singleSteps: number;
  stackedPgd: number;
  singlePgd: number;
  /** The largest relative Frobenius distance of a stacked member's W from the member alone after the timed steps. */
  agreement: number;
}

function measure(gpu: GpuKernels, shape: Shape, K: number, reps: number, timed: boolean): Figures {
  const { config, batches, attack, net } = stackOf(shape, K);
  const lr = config.train.optimizer.lr;
  const arena = createArena(net(0), config);
  const scratch = new StackScratch(gpu);
  const stackedNets = batches.map((_, k) => net(k));
  const members = stackedNets.map((n) => joinArena(gpu, arena, n, config));
  const aloneNets = batches.map((_, k) => net(k));
  const alone: Trainer[] = aloneNets.map((n) => createTwoLayerWebgpuTrainer(n, config)!);
  const items = members.map((member, k) => ({ member, batch: { ...batches[k]!, lr } }));
  const counted = (f: () => void) => {
    const before = gpu.dispatches;
    f();
    return gpu.dispatches - before;
  };
  const stackedStep = () => stackedWebgpuSteps(gpu, scratch, items);
  const singleSteps = () => alone.forEach((t, k) => t.step(batches[k]!.x, batches[k]!.x, batches[k]!.y, batches[k]!.scale, lr));
  const stepDispatches = counted(stackedStep);
  singleSteps();
  const settleStacked = () => void takeMemberLoss(gpu, members[K - 1]!);
  const settleAlone = () => void alone[K - 1]!.takeLoss();
  const figures = { stackedStep: 0, singleSteps: 0, stackedPgd: 0, singlePgd: 0 };
  if (timed) {
    figures.stackedStep = perCall(stackedStep, settleStacked, reps);
    figures.singleSteps = perCall(singleSteps, settleAlone, reps);
  } else {
    for (let s = 0; s < reps + 2; s++) {
      stackedStep();
      singleSteps();
    }
  }
  // Both sides took the same steps: 1 + (reps + 2) each, timed or not.
  members.forEach((member) => syncMember(member));
  alone.forEach((t) => t.sync());
  const agreement = Math.max(...stackedNets.map((n, k) => tf.tidy(() => tf.div(tf.norm(tf.sub(n.Wt, aloneNets[k]!.Wt)), tf.norm(aloneNets[k]!.Wt)).dataSync()[0]!)));
  let outputs: tf.Tensor2D[] = [];
  const stackedAttack = () => {
    tf.dispose(outputs);
    const pending = members.map((member, k) => recordAttack(member, batches[k]!.x, batches[k]!.y, attack(k)));
    stackedWebgpuAttacks(gpu, scratch, pending);
    outputs = pending.map((p) => p.xa);
  };
  const singleAttacks = () => {
    tf.dispose(outputs);
    outputs = alone.map((t, k) => t.perturb(batches[k]!.x, batches[k]!.y, attack(k)));
  };
  const settleAttack = () => void outputs.at(-1)?.dataSync();
  const attackDispatches = counted(stackedAttack);
  if (timed) {
    const attacks = Math.max(1, Math.round(reps / 5));
    figures.stackedPgd = perCall(stackedAttack, settleAttack, attacks) / 20;
    figures.singlePgd = perCall(singleAttacks, settleAttack, attacks) / 20;
  }
  tf.dispose(outputs);
  members.forEach(leaveArena);
  disposeArena(arena);
  scratch.dispose();
  alone.forEach((t) => t.dispose());
  [...stackedNets, ...aloneNets].forEach((n) => n.dispose());
  batches.forEach((b) => tf.dispose([b.x, b.y, b.scale]));
  return { stepDispatches, attackDispatches, agreement, ...figures };
}

const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;

async function main(): Promise<void> {
  let software = true;
  try {
    const { choice, info } = await prepareBackend({ backend: 'webgpu', fused: true });
    software = choice.device === 'cpu';
    console.log(`  adapter: ${choice.label}`);
    if (!info.fusedKernels) {
      console.log('  the stacked WGSL kernels need the fused hot path, which this device does not take (too few storage buffers per kernel)');
      return;
    }
  } catch (error) {
    console.log(`  webgpu skipped: ${(error as Error).message.split('\n')[0]}`);
    return;
  }
  const gpu = GpuKernels.ofActiveBackend();
  if (software) {
    const shape: Shape = { name: 'd=24 m=16 B=20', d: 24, m: 16, B: 20 };
    const f = measure(gpu, shape, 3, 6, false);
    console.log('  a SOFTWARE adapter (shaders on the CPU): correctness only, no times (they would say nothing about a GPU)');
    console.log(`  K=3 ${shape.name}: ${f.stepDispatches} dispatches per stacked training step, ${f.attackDispatches} per stacked 20-step PGD attack (1 per PGD step and the thresholds)`);
    console.log(`    each stacked member against itself alone after 9 steps: largest relative Frobenius distance of W ${f.agreement.toExponential(2)}`);
    console.log('  K=64 stacked against 64 single steps: not measured (no GPU here; run `node --import tsx bench/stackedWebgpu.ts` on one)');
    return;
  }
  const K = 64;
  for (const shape of [
    { name: 'flagship d=128 m=128 B=100', d: 128, m: 128, B: 100 },
    { name: 'MNIST size d=784 m=256 B=128', d: 784, m: 256, B: 128 },
  ]) {
    const f = measure(gpu, shape, K, 50, true);
    console.log(`  K=${K} ${shape.name}`);
    console.log(`    dispatches: ${f.stepDispatches} per stacked training step (a single step takes as many), ${f.attackDispatches} per stacked 20-step PGD attack`);
    console.log(`    training: one stacked step ${ms(f.stackedStep)}, ${K} single steps ${ms(f.singleSteps)} (${(f.singleSteps / f.stackedStep).toFixed(1)}x)`);
    console.log(`    PGD: one stacked step ${ms(f.stackedPgd)}, ${K} single steps ${ms(f.singlePgd)} (${(f.singlePgd / f.stackedPgd).toFixed(1)}x)`);
    console.log(`    each stacked member against itself alone: largest relative Frobenius distance of W ${f.agreement.toExponential(2)}`);
  }
}

await main();
