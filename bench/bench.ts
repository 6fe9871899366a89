/**
 * `npm run bench`: speed figures, printed, never asserted in tests.
 *
 * For each backend that loads here: the training step and the PGD step of the two-layer net at
 * d = m = 128 (batch 100) and at MNIST size 784 -> 256 (batch 128), beside the plain matMul of the
 * same shape on the same backend in the same run. FLOPs count 2·B·d·m per matMul a step needs:
 * 2 for a training step (forward U = X Wt, weight gradient X^T G), 2 for an input-gradient step
 * (forward, G W). The gate: on wasm, each step reaches >= 60 % of the matMul's GFLOP/s.
 * Then the flagship end to end against the same protocol in NumPy float32 (./flagshipVsNumpy.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobQueue } from '../main/lab/jobs.ts';
import { printBarrierLatency } from './barrierLatency.ts';
import { printFlagshipVsNumpy } from './flagshipVsNumpy.ts';
import { printJobsAtOnce } from './jobsAtOnce.ts';
import { printStackedSweep } from './stackedSweep.ts';
import { printThreadScaling } from './threadScaling.ts';
import { printLinearAlgebra } from './linearAlgebra.ts';
import { RunStore } from '../main/lab/store/runStore.ts';
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding } from '../shared/config.ts';
import { createFusedImageTrainer } from '../main/engine/training/fusedImageTrainer.ts';
import { createImageTrainer } from '../main/engine/training/imageTrainer.ts';
import { loadFusedKernelsSync } from '../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../main/engine/models/mlp.ts';
import { defaultLoaders, type BackendName } from '../main/engine/backend/chooseBackend.ts';
import { runExperiment } from '../main/engine/experiment.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { fusedTrainerFactory } from '../main/engine/training/fusedTrainer.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createGenericTrainer } from '../main/engine/training/genericTrainer.ts';
import type { Trainer } from '../main/engine/training/trainer.ts';

type TrainerFactory = (net: TwoLayerNet, config: ReturnType<typeof resolveSparseCoding>) => Trainer;

/**
 * Seconds per call of `f`: the best of 5 blocks of at least 0.15 s each (after a warm-up). The
 * best block is the one least disturbed by the rest of the machine, which on a shared 2-core box
 * matters more than any averaging.
 */
function seconds(f: () => void, blocks = 5, minSeconds = 0.15): number {
  for (let i = 0; i < 5; i++) f(); // warm up (kernel caches, JIT)
  let best = Infinity;
  for (let b = 0; b < blocks; b++) {
    let reps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < minSeconds * 1000 || reps < 5) {
      f();
      reps++;
    }
    best = Math.min(best, (performance.now() - t0) / 1000 / reps);
  }
  return best;
}

const gflops = (flops: number, s: number) => flops / s / 1e9;
const fmt = (x: number, digits = 1) => x.toFixed(digits);

interface StepFigures {
  /** Plain matMul X W, same operands every call (tfjs-wasm keeps W packed). */
  matmul: number;
  /** Plain matMul with a fresh right-hand operand each call (it must be packed each time). */
  matmulFresh: number;
  /** Training step on a batch uploaded fresh each step, as the epoch loop does. */
  train: number;
  /** Training step reusing one uploaded batch (the kernels' steady state). */
  trainReused: number;
  /** One PGD step (the attack reuses the weights across its steps). */
  pgd: number;
}

/** Seconds per call to GFLOP/s, for a step of two matMuls of `flops` each (the plain matMul: one). */
function stepFiguresOf(flops: number, seconds: Record<keyof StepFigures, number>): StepFigures {
  return {
    matmul: gflops(flops, seconds.matmul),
    matmulFresh: gflops(flops, seconds.matmulFresh),
    train: gflops(2 * flops, seconds.train),
    trainReused: gflops(2 * flops, seconds.trainReused),
    pgd: gflops(2 * flops, seconds.pgd),
  };
}

function stepFigures(d: number, m: number, B: number, factory: TrainerFactory): StepFigures {
  const config = resolveSparseCoding({
    task: { kind: 'sparse-coding', d, trainSize: Math.max(B, 100) },
    model: { kind: 'two-layer', width: m },
    train: { batchSize: B },
  });
  const rng = RandomStream.derive(0, 'bench');
  const xValues = new Float32Array(B * d);
  rng.fillNormal(xValues, 1 / Math.sqrt(d));
  const xTValues = new Float32Array(B * d);
  for (let r = 0; r < B; r++) for (let j = 0; j < d; j++) xTValues[j * B + r] = xValues[r * d + j]!;
  const x = tf.tensor2d(xValues, [B, d]);
  const xT = tf.tensor2d(xTValues, [d, B]);
  const y = tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign()));
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  const wValues = new Float32Array(d * m);
  rng.fillNormal(wValues, 1 / Math.sqrt(d));
  const W = tf.tensor2d(wValues, [d, m]);
  const matmulSeconds = seconds(() => {
    tf.matMul(x, W).dispose();
  });
  const matmulFreshSeconds = seconds(() => {
    const w = tf.tensor2d(wValues, [d, m]);
    tf.matMul(x, w).dispose();
    w.dispose();
  });
  const net = TwoLayerNet.initialise(config.model, d, 0);
  const trainer = factory(net, config);
  const trainReusedSeconds = seconds(() => trainer.step(x, xT, y, scale, 0.01));
  const trainSeconds = seconds(() => {
    // A new batch each step, uploaded from the host: what every step of an epoch costs.
    const xb = tf.tensor2d(xValues, [B, d]);
    const xbT = tf.tensor2d(xTValues, [d, B]);
    trainer.step(xb, xbT, y, scale, 0.01);
    tf.dispose([xb, xbT]);
  });
  trainer.takeLoss();
  const steps = 20;
  const attack = { eps: 0.3, norm: 'l2' as const, steps, stepSize: null, randomStart: false, clip: null, rng };
  const pgdSeconds =
    seconds(() => {
      trainer.perturb(x, y, attack).dispose();
    }) / steps;
  trainer.dispose();
  net.dispose();
  tf.dispose([x, xT, y, scale, W]);
  return stepFiguresOf(2 * B * d * m, { matmul: matmulSeconds, matmulFresh: matmulFreshSeconds, train: trainSeconds, trainReused: trainReusedSeconds, pgd: pgdSeconds });
}

/**
 * The image MLP of the mnist-mlp preset (784 -> m ReLU -> 10, softmax cross-entropy, both layers
 * trained): a training step is two large matMuls (U = X W, dW = X^T dU) plus the 10-wide output
 * layer; a linf PGD step on images (clipped to [0, 1]) is two (U = X W, dX = dU W^T). Only the
 * large matMuls are counted, so the ratios understate the step's real throughput a little. With
 * `fusedKernels`, createFusedImageTrainer picks the MLP's fused trainer (everything between the two
 * matMuls and the optimiser update in wasm kernels) and the attack runs through the model's fused
 * input gradient (the model's pgdKernels); without, both are the generic tfjs paths.
 */
function mlpStepFigures(d: number, m: number, B: number, fusedKernels: boolean): StepFigures {
  const spec = { kind: 'mlp' as const, width: m, activation: 'relu' as const, thresholdRatio: 0, initScale: 0.05 };
  const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: spec, train: { batchSize: B, optimizer: { lr: 0.1 } } });
  const rng = RandomStream.derive(0, 'bench-mlp');
  const xValues = Float32Array.from({ length: B * d }, () => rng.uniform());
  const xTValues = new Float32Array(B * d);
  for (let r = 0; r < B; r++) for (let j = 0; j < d; j++) xTValues[j * B + r] = xValues[r * d + j]!;
  const x = tf.tensor2d(xValues, [B, d]);
  const xT = tf.tensor2d(xTValues, [d, B]);
  const y = tf.tensor1d(Float32Array.from({ length: B }, (_, i) => i % 10));
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  const wValues = new Float32Array(d * m);
  rng.fillNormal(wValues, 1 / Math.sqrt(d));
  const W = tf.tensor2d(wValues, [d, m]);
  const matmul = () => tf.matMul(x, W).dispose();
  const matmulBefore = seconds(matmul);
  const matmulFreshSeconds = seconds(() => {
    const w = tf.tensor2d(wValues, [d, m]);
    tf.matMul(x, w).dispose();
    w.dispose();
  });
  const model = Mlp.initialise(spec, { height: 28, width: 28, channels: d / 784 }, 10, 0);
  const kernels = fusedKernels ? loadFusedKernelsSync() : null;
  model.pgdKernels = kernels;
  const trainer = kernels ? createFusedImageTrainer(model, config, kernels) : createImageTrainer(model, config);
  const trainReusedSeconds = seconds(() => trainer.step(x, xT, y, scale, 0.01));
  const trainSeconds = seconds(() => {
    const xb = tf.tensor2d(xValues, [B, d]);
    const xbT = tf.tensor2d(xTValues, [d, B]);
    trainer.step(xb, xbT, y, scale, 0.01);
    tf.dispose([xb, xbT]);
  });
  trainer.takeLoss();
  const steps = 20;
  const attack = { eps: 0.1, norm: 'linf' as const, steps, stepSize: null, randomStart: false, clip: [0, 1] as const, rng };
  const pgdSeconds = seconds(() => trainer.perturb(x, y, attack).dispose()) / steps;
  // The plain matMul again, after the steps: the faster of the two figures is the reference, so a
  // busy moment of a shared machine during the first one cannot flatter the ratios.
  const matmulSeconds = Math.min(matmulBefore, seconds(matmul));
  trainer.dispose();
  model.dispose();
  tf.dispose([x, xT, y, scale, W]);
  return stepFiguresOf(2 * B * d * m, { matmul: matmulSeconds, matmulFresh: matmulFreshSeconds, train: trainSeconds, trainReused: trainReusedSeconds, pgd: pgdSeconds });
}

/** Prints one line; returns whether the training and PGD steps reach 60 % of the plain matMul. */
function printSteps(label: string, shape: string, f: StepFigures, B: number, d: number, m: number, gate: boolean): boolean {
  const flops = 2 * B * d * m;
  const ratio = (g: number) => `${fmt((100 * g) / f.matmul, 0)} %`;
  const rate = (g: number) => fmt((g * 1e9) / (2 * flops), 0);
  const pass = f.train / f.matmul >= 0.6 && f.pgd / f.matmul >= 0.6;
  console.log(`  ${label} ${shape}`);
  console.log(`    plain matMul        ${fmt(f.matmul).padStart(6)} GFLOP/s   (fresh right operand each call: ${fmt(f.matmulFresh)} GFLOP/s)`);
  console.log(`    training step       ${fmt(f.train).padStart(6)} GFLOP/s  ${rate(f.train).padStart(6)} steps/s  ${ratio(f.train).padStart(5)} of matMul   (batch reused: ${fmt(f.trainReused)} GFLOP/s, ${ratio(f.trainReused)})`);
  console.log(`    PGD step            ${fmt(f.pgd).padStart(6)} GFLOP/s  ${rate(f.pgd).padStart(6)} steps/s  ${ratio(f.pgd).padStart(5)} of matMul` + (gate ? `   gate >= 60 %: ${pass ? 'PASS' : 'FAIL'}` : ''));
  return pass;
}

/**
 * The fused WGSL steps (./webgpuSteps.ts) in a child process: Dawn reads the Vulkan driver's
 * location at process start. Without a configured driver, Debian chromium's SwiftShader is used
 * where it is installed, and the figures say they come from a software adapter.
 */
function printWebgpuSteps(): void {
  console.log('\nWebGPU, fused WGSL kernels, against the fused wasm kernels (same process)');
  const env = webgpuEnv();
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'webgpuSteps.ts')], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(child.stdout ?? '');
  if (child.status !== 0) console.log(`  the webgpu step bench failed (exit ${child.status ?? child.signal})`);
  if (env !== process.env) console.log('  no GPU was measured here: the GPU figures wait for a machine with one (`node --import tsx bench/webgpuSteps.ts` there)');
}

/** The environment of a webgpu child: the configured Vulkan driver, else Debian chromium's SwiftShader where it is installed. */
function webgpuEnv(): NodeJS.ProcessEnv {
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  return process.env['VK_ICD_FILENAMES'] || !existsSync(swiftshader) ? process.env : { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: swiftshader };
}

/** The stacked WGSL kernels (./stackedWebgpu.ts) in a child process, as the steps above. */
function printStackedWebgpu(): void {
  console.log('\nWebGPU, a stack: K members in one stacked call against K single steps (stacked WGSL kernels)');
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'stackedWebgpu.ts')], { env: webgpuEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(child.stdout ?? '');
  if (child.status !== 0) console.log(`  the stacked webgpu bench failed (exit ${child.status ?? child.signal})`);
}

async function main(): Promise<void> {
  const fused = await (async () => {
    await defaultLoaders.wasm();
    return fusedTrainerFactory();
  })();
  console.log(`Purification Lab bench — ${new Date().toISOString()} — Node ${process.version}, ${(await import('node:os')).cpus()[0]?.model ?? 'cpu'} x${(await import('node:os')).cpus().length}`);
  console.log('\nSteps: 2 matMuls each (FLOPs 2·B·d·m per matMul); ratio = step GFLOP/s / plain matMul GFLOP/s, same shape, same run');
  let gatePassed = true;
  const loaded: BackendName[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      const info = await defaultLoaders[name]();
      loaded.push(name);
      const label = name === 'tensorflow' ? `tensorflow ${info.device}` : name;
      for (const [d, m, B] of [
        [128, 128, 100],
        [784, 256, 128],
      ] as const) {
        if (name === 'cpu' && d > 128) continue; // pure JS at MNIST size takes minutes and says nothing new
        const shape = `d=${d} m=${m} B=${B}`;
        if (name === 'wasm' && fused) {
          gatePassed = printSteps('wasm, fused kernels', shape, stepFigures(d, m, B, fused), B, d, m, true) && gatePassed;
        }
        const generic = printSteps(name === 'wasm' ? 'wasm, plain tfjs ops' : label, shape, stepFigures(d, m, B, createGenericTrainer), B, d, m, name === 'wasm' && !fused);
        if (name === 'wasm' && !fused) gatePassed = generic && gatePassed;
      }
    } catch (error) {
      console.log(`  ${name.padEnd(14)} skipped: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  console.log('\nImage MLP (mnist-mlp: 784 -> 256 -> 10, softmax cross-entropy, linf PGD clipped to [0, 1]), wasm');
  await defaultLoaders.wasm();
  const [d, m, B] = [784, 256, 128];
  gatePassed = printSteps('wasm, fused kernels', `d=${d} m=${m} B=${B}`, mlpStepFigures(d, m, B, true), B, d, m, true) && gatePassed;
  printSteps('wasm, plain tfjs ops', `d=${d} m=${m} B=${B}`, mlpStepFigures(d, m, B, false), B, d, m, false);

  printWebgpuSteps();

  await printFlagshipVsNumpy();
  const { info, hooks } = await prepareBackend({ backend: 'wasm' });
  const flagship = resolveSparseCoding({});
  console.log('\nRun store overhead (flagship, metrics and instruments written as produced, checkpoint every 5 epochs)');
  const storeDir = mkdtempSync(join(tmpdir(), 'lab-bench-store-'));
  const store = RunStore.open(storeDir);
  const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 5 });
  await queue.backendInfo();
  // Alternate the two, twice, so that neither side gets the warm-up or a quiet moment alone.
  let withStore = 0;
  let withoutStore = 0;
  for (let round = 0; round < 2; round++) {
    const t1 = performance.now();
    await runExperiment(flagship, info, hooks);
    withoutStore += (performance.now() - t1) / 1000 / 2;
    const t0 = performance.now();
    queue.submit({ input: {}, config: flagship, preset: 'flagship' });
    await queue.idle();
    withStore += (performance.now() - t0) / 1000 / 2;
  }
  store.close();
  rmSync(storeDir, { recursive: true, force: true });
  console.log(`  mean of 2 alternating rounds: without store ${fmt(withoutStore, 2)} s, with store ${fmt(withStore, 2)} s: overhead ${fmt((100 * (withStore - withoutStore)) / withoutStore, 1)} %`);

  await printJobsAtOnce();
  await printStackedSweep();
  printStackedWebgpu();
  await printThreadScaling();
  await printBarrierLatency();
  printLinearAlgebra();

  console.log(`\nGate (wasm steps >= 60 % of plain matMul): ${gatePassed ? 'PASS' : 'FAIL'}; backends measured: ${loaded.join(', ')}`);
}

await main();
