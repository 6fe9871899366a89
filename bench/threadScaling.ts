/**
 * One run on several cores (issue 13, items 2 and 4), measured in one process:
 *  - the kernels' own blocked SIMD matMuls (main/engine/kernels/assembly/matMul.ts) on one thread
 *    against tfjs-wasm's matMul (XNNPACK, one thread), at the training step's shapes;
 *  - the two-layer training step's steps/s on 1, 2, ... threads up to the physical cores, at
 *    784 -> 256, B = 128 and d = m = 128, B = 100, beside the one-thread fused trainer (tfjs-wasm
 *    matMuls), which is what `--threads 1` runs; the ratios are to that, and to the threaded
 *    trainer on one thread;
 *  - the attack's input gradient (2 matMuls) the same way;
 *  - the image MLP's training step at 784 -> 256 -> 10, B = 128, and its attack's input gradient,
 *    on 1, 2, ... threads beside the one-thread fused MLP trainer and session (tfjs matMuls);
 *  - the flagship end to end on 1 thread and on all the physical cores (wall seconds, 1 run each).
 * On a loaded machine every figure is taken as the best of 5 blocks, in the same run, with the
 * load average printed beside it and the cores the process had meanwhile (CPU / wall seconds):
 * the scheduler shares a busy machine per thread, so there T threads get more than T times one
 * thread's share and a ratio measured under load overstates what T threads give on idle cores. `npm run bench` prints it; `node --import tsx bench/threadScaling.ts` alone.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding, type ExperimentInput, type MlpModel } from '../shared/config.ts';
import { defaultLoaders } from '../main/engine/backend/chooseBackend.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../main/engine/experiment.ts';
import { loadFusedKernelsSync, type FusedKernels } from '../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools, kernelThreadPool } from '../main/engine/kernels/threadPool.ts';
import { Mlp } from '../main/engine/models/mlp.ts';
import { threadedMlpInputGradient } from '../main/engine/models/mlpThreadedGradient.ts';
import { fusedInputGradient } from '../main/engine/models/twoLayerFusedGradient.ts';
import { threadedInputGradient } from '../main/engine/models/twoLayerThreadedGradient.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createFusedMlpTrainer } from '../main/engine/training/fusedImageTrainer.ts';
import { createFusedTrainer } from '../main/engine/training/fusedTrainer.ts';
import { createThreadedMlpTrainer } from '../main/engine/training/threadedMlpTrainer.ts';
import { createThreadedTrainer } from '../main/engine/training/threadedTrainer.ts';
import type { Trainer } from '../main/engine/training/trainer.ts';
import { physicalCores } from '../main/lab/jobCount.ts';

/** CPU seconds per call in the last `seconds` measurement (all the process's threads), beside its wall seconds. */
let lastCpuPerCall = 0;

/**
 * Seconds per call: the best of `blocks` blocks of at least `minSeconds` (after a warm-up). The
 * CPU seconds the process got over that best block are kept in lastCpuPerCall: CPU / wall is the
 * cores it had, which on a loaded machine says how much of a speed-up the machine allowed.
 */
function seconds(f: () => void, blocks = 5, minSeconds = 0.2): number {
  for (let i = 0; i < 5; i++) f();
  let best = Infinity;
  for (let b = 0; b < blocks; b++) {
    let reps = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < minSeconds * 1000 || reps < 5) {
      f();
      reps++;
    }
    const wall = (performance.now() - t0) / 1000 / reps;
    if (wall < best) {
      best = wall;
      const cpu = process.cpuUsage(cpu0);
      lastCpuPerCall = (cpu.user + cpu.system) / 1e6 / reps;
    }
  }
  return best;
}

/** The cores the last measurement had on average (CPU seconds / wall seconds). */
const coresHad = (wallPerCall: number) => lastCpuPerCall / wallPerCall;

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** GFLOP/s of tfjs-wasm's matMul and the kernels' NN and NT products for [R, K] x [K, C] on one thread. */
function matMulThroughput(R: number, K: number, C: number): { tfjs: number; nn: number; nt: number } {
  const rng = RandomStream.derive(1, 'bench-matmul');
  const a = tf.tensor2d(Float32Array.from({ length: R * K }, () => rng.normal()), [R, K]);
  const b = tf.tensor2d(Float32Array.from({ length: K * C }, () => rng.normal()), [K, C]);
  const tfjs = seconds(() => tf.matMul(a, b).dispose());
  const pool = kernelThreadPool(1);
  const A = pool.alloc(R * K * 4), Bn = pool.alloc(K * C * 4), Bt = pool.alloc(K * C * 4), Out = pool.alloc(R * C * 4);
  pool.f32(A).set(a.dataSync());
  pool.f32(Bn).set(b.dataSync());
  pool.f32(Bt).set(tf.transpose(b).dataSync());
  const nn = seconds(() => pool.call('matMulNN', [A.offset, Bn.offset, R, K, C, Out.offset]));
  const nt = seconds(() => pool.call('matMulNT', [A.offset, Bt.offset, R, C, K, Out.offset, C]));
  for (const r of [A, Bn, Bt, Out]) pool.free(r);
  tf.dispose([a, b]);
  const flops = 2 * R * K * C;
  return { tfjs: flops / tfjs / 1e9, nn: flops / nn / 1e9, nt: flops / nt / 1e9 };
}

function batchOf(d: number, B: number) {
  const rng = RandomStream.derive(2, 'bench-threads');
  const x = tf.tensor2d(Float32Array.from({ length: B * d }, () => rng.normal() * 0.3), [B, d]);
  return { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign())), scale: tf.fill([B], 1 / B) as tf.Tensor1D };
}

/** Training steps per second of the trainer `make` builds, at d -> m, batch B, and the cores it had meanwhile. */
function trainStepsPerSecond(d: number, m: number, B: number, make: (net: TwoLayerNet, config: ReturnType<typeof resolveSparseCoding>) => Trainer): { rate: number; cores: number } {
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: 1000 }, model: { kind: 'two-layer', width: m }, train: { batchSize: B } } as ExperimentInput);
  const net = TwoLayerNet.initialise(config.model, d, 1);
  const trainer = make(net, config);
  const { x, xT, y, scale } = batchOf(d, B);
  const s = seconds(() => trainer.step(x, xT, y, scale, 1e-4));
  const cores = coresHad(s);
  trainer.dispose();
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  return { rate: 1 / s, cores };
}

/**
 * Where a threaded step's time goes on T threads at d -> m, batch B: per step, the calling
 * thread's time inside each phase's own part, its wait at each phase's barrier (the other
 * threads' longer parts plus the wake-up), and the rest (copying the batch into shared memory,
 * the loss read-back, JS between the phases). Set against the one-thread step, this is what
 * keeps T threads from T times the speed at small sizes, measured rather than guessed.
 */
function threadedStepBreakdown(d: number, m: number, B: number, T: number, kernels: FusedKernels): string {
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: 1000 }, model: { kind: 'two-layer', width: m }, train: { batchSize: B } } as ExperimentInput);
  const pool = kernelThreadPool(T);
  const net = TwoLayerNet.initialise(config.model, d, 1);
  const trainer = createThreadedTrainer(pool, kernels, net, config)!;
  const { x, xT, y, scale } = batchOf(d, B);
  for (let i = 0; i < 20; i++) trainer.step(x, xT, y, scale, 1e-4);
  const steps = 2000;
  pool.profile = new Map();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) trainer.step(x, xT, y, scale, 1e-4);
  const perStep = ((performance.now() - t0) * 1000) / steps;
  const profile = pool.profile;
  pool.profile = null;
  trainer.dispose();
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  const us = (ms: number) => ((ms * 1000) / steps).toFixed(1);
  let inPhases = 0;
  const parts = [...profile].map(([phase, { own, wait }]) => {
    inPhases += ((own + wait) * 1000) / steps;
    return `${phase}: own part ${us(own)} µs + barrier wait ${us(wait)} µs`;
  });
  return `    where a ${T}-thread step's ${perStep.toFixed(1)} µs go (mean of ${steps}): ${parts.join('; ')}; outside the phases (batch copy-in, loss read-back, JS) ${(perStep - inPhases).toFixed(1)} µs`;
}

/** Input gradients per second (the attack's step without its projection) at d -> m, N rows. */
function gradientsPerSecond(d: number, m: number, N: number, kernels: FusedKernels, threads: number | null): number {
  const config = resolveSparseCoding({ task: { kind: 'sparse-coding', d, trainSize: 1000 }, model: { kind: 'two-layer', width: m } } as ExperimentInput);
  const net = TwoLayerNet.initialise(config.model, d, 1);
  const session = threads === null ? fusedInputGradient(kernels, net) : threadedInputGradient(kernelThreadPool(threads), kernels, net);
  const { x, xT, y, scale } = batchOf(d, N);
  const s = seconds(() => session.inputGradient!(x, y).dispose());
  session.dispose();
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  return 1 / s;
}

/** An MNIST-shaped MLP d -> m -> 10 (He init) and a batch of B pictures with labels. */
function mlpSetup(m: number, B: number) {
  const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: { kind: 'mlp', width: m, initScale: 1 }, train: { batchSize: B } });
  const model = Mlp.initialise(config.model as MlpModel, { height: 28, width: 28, channels: 1 }, 10, 1);
  const rng = RandomStream.derive(3, 'bench-mlp');
  const x = tf.tensor2d(Float32Array.from({ length: B * model.inputDim }, () => rng.uniform()), [B, model.inputDim]);
  const batch = { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.tensor1d(Float32Array.from({ length: B }, () => Math.floor(rng.uniform() * 10))), scale: tf.fill([B], 1 / B) as tf.Tensor1D };
  return { config, model, ...batch, dispose: () => (model.dispose(), tf.dispose(Object.values(batch))) };
}

/** The MLP's training steps per second (trainer `make`, or the one-thread fused one for threads null) and the cores it had. */
function mlpStepsPerSecond(m: number, B: number, kernels: FusedKernels, threads: number | null): { rate: number; cores: number } {
  const { config, model, x, xT, y, scale, dispose } = mlpSetup(m, B);
  const trainer = threads === null ? createFusedMlpTrainer(model, config, kernels) : createThreadedMlpTrainer(kernelThreadPool(threads), kernels, model, config);
  const s = seconds(() => trainer.step(x, xT, y, scale, 1e-4));
  const cores = coresHad(s);
  trainer.dispose();
  dispose();
  return { rate: 1 / s, cores };
}

/** The MLP attack's margins and input gradients per second (a PGD step without its projection), N rows. */
function mlpGradientsPerSecond(m: number, N: number, kernels: FusedKernels, threads: number | null): { rate: number; cores: number } {
  const { model, x, y, dispose } = mlpSetup(m, N);
  const session = threads === null ? model.openInputGradient(kernels) : threadedMlpInputGradient(kernelThreadPool(threads), kernels, model);
  // margins and gradients: the fused session computes both in its one pass
  const s = seconds(() => {
    const { margin, gradient } = session.marginGradient(x, y);
    tf.dispose([margin, gradient]);
  });
  const cores = coresHad(s);
  session.dispose();
  dispose();
  return { rate: 1 / s, cores };
}

/** The image MLP's lines of the bench: its training step and its attack's input gradient on 1, 2, ... threads. */
export function printMlpThreadScaling(kernels: FusedKernels, counts: readonly number[]): void {
  const [m, B, N] = [256, 128, 512];
  const fused = mlpStepsPerSecond(m, B, kernels, null);
  console.log(`  image MLP training step, 784 -> ${m} -> 10, B=${B}: one-thread fused (tfjs matMuls) ${fused.rate.toFixed(0)} steps/s, had ${fused.cores.toFixed(2)} cores   [load ${load()}]`);
  let one = 0;
  for (const T of counts) {
    const threaded = mlpStepsPerSecond(m, B, kernels, T);
    if (T === 1) one = threaded.rate;
    const note = T === 2 ? '   (target >= 1.6x the one-thread fused trainer)' : '';
    console.log(
      `    ${T} thread${T > 1 ? 's' : ' '}: ${threaded.rate.toFixed(0).padStart(6)} steps/s, had ${threaded.cores.toFixed(2)} cores   ` +
        `${(threaded.rate / fused.rate).toFixed(2)}x fused 1 thread, ${(threaded.rate / one).toFixed(2)}x threaded 1 thread${note}`,
    );
  }
  const fusedGrad = mlpGradientsPerSecond(m, N, kernels, null);
  const line = counts
    .map((T) => {
      const g = mlpGradientsPerSecond(m, N, kernels, T);
      return `${T}: ${(g.rate / fusedGrad.rate).toFixed(2)}x (had ${g.cores.toFixed(2)} cores)`;
    })
    .join('  ');
  console.log(`  image MLP attack input gradient, 784 -> ${m} -> 10, N=${N}: fused 1 thread ${fusedGrad.rate.toFixed(0)}/s (had ${fusedGrad.cores.toFixed(2)} cores); threads ${line}   [load ${load()}]`);
}

export async function printThreadScaling(): Promise<void> {
  await defaultLoaders.wasm!();
  await tf.setBackend('wasm');
  const kernels = loadFusedKernelsSync()!;
  const cores = physicalCores();
  const counts = Array.from({ length: Math.max(2, cores) }, (_, k) => k + 1);
  console.log(`\nOne run on several cores (${cores} physical cores here; load average ${load()} at the start)`);
  console.log('  matMul on one thread, GFLOP/s: tfjs-wasm (XNNPACK) against the kernels\' own (NN: A B, NT: A B^T)');
  for (const [R, K, C] of [[128, 100, 128], [128, 128, 100], [256, 128, 784], [128, 784, 256]] as const) {
    const f = matMulThroughput(R, K, C);
    console.log(`    [${R}x${K}]x[${K}x${C}]  tfjs ${f.tfjs.toFixed(1)}   NN ${f.nn.toFixed(1)} (${((100 * f.nn) / f.tfjs).toFixed(0)} %)   NT ${f.nt.toFixed(1)} (${((100 * f.nt) / f.tfjs).toFixed(0)} %)`);
  }
  for (const [d, m, B, target] of [[784, 256, 128, 1.6], [128, 128, 100, 1.3]] as const) {
    const fused = trainStepsPerSecond(d, m, B, (net, config) => createFusedTrainer(kernels, net, config)!);
    console.log(`  training step, d=${d} m=${m} B=${B}: one-thread fused (tfjs matMuls) ${fused.rate.toFixed(0)} steps/s, had ${fused.cores.toFixed(2)} cores (${(fused.rate / fused.cores).toFixed(0)} steps per CPU second)   [load ${load()}]`);
    let one = 0;
    for (const T of counts) {
      const threaded = trainStepsPerSecond(d, m, B, (net, config) => createThreadedTrainer(kernelThreadPool(T), kernels, net, config)!);
      if (T === 1) one = threaded.rate;
      const note = T === 2 ? `   (target >= ${target}x the one-thread fused trainer)` : '';
      console.log(
        `    ${T} thread${T > 1 ? 's' : ' '}: ${threaded.rate.toFixed(0).padStart(6)} steps/s, had ${threaded.cores.toFixed(2)} cores (${(threaded.rate / threaded.cores).toFixed(0)} per CPU second)   ` +
          `${(threaded.rate / fused.rate).toFixed(2)}x fused 1 thread, ${(threaded.rate / one).toFixed(2)}x threaded 1 thread${note}`,
      );
    }
    console.log(`    one thread, threaded: ${(1e6 / one).toFixed(1)} µs a step`);
    for (const T of counts.filter((c) => c > 1)) console.log(threadedStepBreakdown(d, m, B, T, kernels));
  }
  for (const [d, m, N] of [[784, 256, 512], [128, 128, 1000]] as const) {
    const fused = gradientsPerSecond(d, m, N, kernels, null);
    const line = counts.map((T) => `${T}: ${(gradientsPerSecond(d, m, N, kernels, T) / fused).toFixed(2)}x`).join('  ');
    console.log(`  attack input gradient, d=${d} m=${m} N=${N}: fused 1 thread ${fused.toFixed(0)}/s; threads ${line}`);
  }
  printMlpThreadScaling(kernels, counts);
  const flagship = resolveSparseCoding({});
  const wall: number[] = [];
  for (const threads of [1, cores]) {
    const { info, hooks } = await prepareBackend({ backend: 'wasm', threads });
    const t0 = performance.now();
    await runExperiment(flagship, info, hooks);
    wall.push((performance.now() - t0) / 1000);
  }
  console.log(`  flagship end to end: 1 thread ${wall[0]!.toFixed(2)} s, ${cores} threads ${wall[1]!.toFixed(2)} s (${(wall[0]! / wall[1]!).toFixed(2)}x)   [load ${load()}]`);
  console.log(`  load average ${load()} at the end (figures measured under that load)`);
  closeKernelThreadPools();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printThreadScaling();
