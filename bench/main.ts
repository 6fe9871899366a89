/**
 * `npm run bench`: speed figures, printed, never asserted in tests.
 *
 * For each backend that loads here: the training step and the PGD step of the two-layer net at
 * d = m = 128 (batch 100) and at MNIST size 784 -> 256 (batch 128), beside the plain matMul of the
 * same shape on the same backend in the same run. FLOPs count 2·B·d·m per matMul a step needs:
 * 2 for a training step (forward U = X Wt, weight gradient X^T G), 2 for an input-gradient step
 * (forward, G W). The gate: on wasm, each step reaches >= 60 % of the matMul's GFLOP/s.
 * Then the flagship end to end, and the same protocol in NumPy float32 when python3 has NumPy.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment } from '../shared/config.ts';
import { defaultLoaders, type BackendName } from '../main/engine/backend.ts';
import { runExperiment } from '../main/engine/experiment.ts';
import { fusedTrainerFactory } from '../main/engine/fusedTrainer.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createGenericTrainer, type Trainer } from '../main/engine/train.ts';

type TrainerFactory = (net: TwoLayerNet, config: ReturnType<typeof resolveExperiment>) => Trainer;

function seconds(f: () => void, minSeconds = 0.6): number {
  for (let i = 0; i < 5; i++) f(); // warm up (kernel caches, JIT)
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minSeconds * 1000 || reps < 10) {
    f();
    reps++;
  }
  return (performance.now() - t0) / 1000 / reps;
}

const gflops = (flops: number, s: number) => flops / s / 1e9;
const fmt = (x: number, digits = 1) => x.toFixed(digits);

interface StepFigures {
  matmul: number;
  train: number;
  pgd: number;
}

function stepFigures(d: number, m: number, B: number, factory: TrainerFactory): StepFigures {
  const config = resolveExperiment({
    task: { kind: 'sparse-coding', d, trainSize: Math.max(B, 100) },
    model: { kind: 'two-layer', width: m },
    train: { batchSize: B },
  });
  const rng = RandomStream.derive(0, 'bench');
  const xValues = new Float32Array(B * d);
  rng.fillNormal(xValues, 1 / Math.sqrt(d));
  const x = tf.tensor2d(xValues, [B, d]);
  const xT = tf.transpose(x) as tf.Tensor2D;
  const y = tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign()));
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  const W = tf.randomNormal([d, m]);
  const matmulSeconds = seconds(() => {
    tf.matMul(x, W).dispose();
  });
  const net = TwoLayerNet.initialise(config.model, d, 0);
  const trainer = factory(net, config);
  const trainSeconds = seconds(() => trainer.step(x, xT, y, scale, 0.01));
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
  const flops = 2 * B * d * m;
  return { matmul: gflops(flops, matmulSeconds), train: gflops(2 * flops, trainSeconds), pgd: gflops(2 * flops, pgdSeconds) };
}

function printSteps(label: string, shape: string, f: StepFigures, B: number, d: number, m: number, gate: boolean): boolean {
  const flops = 2 * B * d * m;
  const trainRatio = f.train / f.matmul;
  const pgdRatio = f.pgd / f.matmul;
  const rate = (g: number) => (g * 1e9) / (2 * flops);
  console.log(
    `  ${label.padEnd(14)} ${shape.padEnd(22)} matMul ${fmt(f.matmul).padStart(5)} GFLOP/s | ` +
      `train step ${fmt(rate(f.train), 0).padStart(6)} steps/s ${fmt(f.train).padStart(5)} GFLOP/s (${fmt(100 * trainRatio, 0)} %) | ` +
      `PGD step ${fmt(rate(f.pgd), 0).padStart(6)} steps/s ${fmt(f.pgd).padStart(5)} GFLOP/s (${fmt(100 * pgdRatio, 0)} %)` +
      (gate ? `  gate >= 60 %: ${trainRatio >= 0.6 && pgdRatio >= 0.6 ? 'PASS' : 'FAIL'}` : ''),
  );
  return trainRatio >= 0.6 && pgdRatio >= 0.6;
}

function numpyFlagship(): { seconds: number; trainSeconds: number; blas: string; numpy: string } | string {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'skipped: python3 with NumPy is not available';
  const run = spawnSync('python3', [new URL('./numpy_flagship.py', import.meta.url).pathname, '--seed', '0'], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) return `failed: ${run.stderr.trim().split('\n').pop()}`;
  return JSON.parse(run.stdout);
}

async function main(): Promise<void> {
  const fused = await (async () => {
    await defaultLoaders.wasm();
    return fusedTrainerFactory();
  })();
  console.log(`Purification Lab bench — ${new Date().toISOString()} — Node ${process.version}, ${(await import('node:os')).cpus()[0]?.model ?? 'cpu'} x${(await import('node:os')).cpus().length}`);
  console.log('\nSteps (2 matMuls each; ratio = step GFLOP/s / plain matMul GFLOP/s, same shape, same run)');
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
          gatePassed = printSteps('wasm fused', shape, stepFigures(d, m, B, fused), B, d, m, true) && gatePassed;
        }
        printSteps(name === 'wasm' ? 'wasm tfjs ops' : label, shape, stepFigures(d, m, B, createGenericTrainer), B, d, m, name === 'wasm' && !fused);
      }
    } catch (error) {
      console.log(`  ${name.padEnd(14)} skipped: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  console.log('\nFlagship end to end (SCIENCE.md settings: 30 clean + 30 PGD-5 epochs, PGD-20 evaluations)');
  await defaultLoaders.wasm();
  const config = resolveExperiment({});
  const backend = { name: 'wasm' as const, device: 'cpu' as const, label: 'wasm', skipped: [], forced: true, details: {}, fusedKernels: Boolean(fused) };
  const ours = await runExperiment(config, backend, fused ? { makeTrainer: fused } : {});
  console.log(
    `  wasm${fused ? ' fused' : ''}: ${fmt(ours.timing.seconds, 2)} s (training ${fmt(ours.timing.trainSeconds, 2)} s, instruments + evaluations ${fmt(ours.timing.evalSeconds, 2)} s); ` +
      `robust ${fmt(ours.summary.afterClean!.robustAccuracy, 3)} -> ${fmt(ours.summary.final.robustAccuracy, 3)}`,
  );
  const numpy = numpyFlagship();
  if (typeof numpy === 'string') {
    console.log(`  NumPy float32: ${numpy}`);
  } else {
    console.log(`  NumPy float32 (${numpy.numpy}, ${numpy.blas}): ${fmt(numpy.seconds, 2)} s (training ${fmt(numpy.trainSeconds, 2)} s)`);
    console.log(`  ratio ours / NumPy: end to end ${fmt(ours.timing.seconds / numpy.seconds, 2)}x, training ${fmt(ours.timing.trainSeconds / numpy.trainSeconds, 2)}x`);
  }
  console.log(`\nGate (wasm steps >= 60 % of plain matMul): ${gatePassed ? 'PASS' : 'FAIL'}; backends measured: ${loaded.join(', ')}`);
}

await main();
