/**
 * Child-process driver for test/engine/webgpu.test.ts: computes the same things on the wasm
 * backend and on the webgpu backend and prints them as one JSON line: through tfjs's generic ops
 * on both (the fused kernels off, so both run the same maths through different kernels), through
 * each backend's fused hot path (./webgpuFusedSide.ts: the wasm kernels against the WGSL ones),
 * and whole runs as runs go (on the hot paths).
 *
 * A child process because Dawn finds the software adapter only when the process starts with
 * LD_LIBRARY_PATH and VK_ICD_FILENAMES set (see main/engine/webgpu/webgpuLoader.ts).
 *
 * Shapes are tiny: the software adapter runs every shader on the CPU. tfjs-backend-webgpu's CPU
 * forwarding of small ops is off, so the webgpu numbers come from its shaders.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, resolveSparseCoding, type ExperimentInput, type MlpModel } from '../../shared/config.ts';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { describeBackend } from '../../main/engine/backend/chooseBackend.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { planKernels } from '../../main/engine/backend/kernelPlan.ts';
import { cnnKernels } from '../../main/engine/models/cnn.ts';
import { Mlp, mlpKernels } from '../../main/engine/models/mlp.ts';
import { TwoLayerNet, twoLayerKernels } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createGenericTrainer } from '../../main/engine/training/genericTrainer.ts';
import type { TrainingAttack } from '../../main/engine/training/trainer.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { accuracyCounts } from './webgpuRuns.ts';
import { fusedSide } from './webgpuFusedSide.ts';

type Numbers = number[];

const optimizers: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.5 }],
  ['SGD with momentum', { lr: 0.2, momentum: 0.9 }],
  ['Adam', { kind: 'adam', lr: 0.01 }],
];

// ---- the two-layer net (sparse coding): d = 20, m = 12, a batch of 30

const d = 20;
const m = 12;
const B = 30;

function twoLayerData() {
  const rng = RandomStream.derive(5, 'webgpu-agreement');
  return {
    x: Float32Array.from({ length: B * d }, () => rng.normal() * 0.4),
    y: Float32Array.from({ length: B }, () => rng.sign()),
  };
}

function twoLayerConfig(optimizer: Record<string, unknown>) {
  return resolveSparseCoding({
    task: { kind: 'sparse-coding', d, trainSize: 100 },
    model: { kind: 'two-layer', width: m },
    train: { batchSize: B, optimizer },
  } as ExperimentInput);
}

function twoLayer() {
  const data = twoLayerData();
  const x = tf.tensor2d(data.x, [B, d]);
  const xT = tf.transpose(x) as tf.Tensor2D;
  const y = tf.tensor1d(data.y);
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  const training: Record<string, { weights: Numbers; loss: number }> = {};
  for (const [name, optimizer] of optimizers) {
    const config = twoLayerConfig(optimizer);
    const net = TwoLayerNet.initialise(config.model, d, 1);
    const trainer = createGenericTrainer(net, config);
    for (let s = 0; s < 8; s++) trainer.step(x, xT, y, scale, config.train.optimizer.lr);
    trainer.sync();
    training[name] = { weights: [...net.weights()], loss: trainer.takeLoss() };
    trainer.dispose();
    net.dispose();
  }
  const config = twoLayerConfig({ lr: 0.5 });
  const net = TwoLayerNet.initialise(config.model, d, 2);
  const perturbations: Record<string, Numbers> = {};
  for (const norm of ['l2', 'linf'] as const) {
    const attack: TrainingAttack = { eps: 0.3, norm, steps: 5, stepSize: null, randomStart: false, clip: null, rng: RandomStream.derive(0, 'a') };
    const trainer = createGenericTrainer(net, config);
    perturbations[norm] = [...trainer.perturb(x, y, attack).dataSync()];
    trainer.dispose();
  }
  const evaluation = pgdAttack(net, x, y, { eps: [0, 0.1, 0.5], norm: 'l2', steps: 10 });
  net.dispose();
  tf.dispose([x, xT, y, scale]);
  return { training, perturbations, pgd: { margins: evaluation.margins.map((row) => [...row]), zeroGradient: [...evaluation.zeroGradient] } };
}

// ---- the image MLP: 8 x 8 grey pictures (d = 64), width 20, 10 classes

const picture = { height: 8, width: 8, channels: 1 };
const pixels = 64;
const classes = 10;
const mlpSpec: MlpModel = { kind: 'mlp', width: 20, activation: 'relu', thresholdRatio: 0.05, initScale: 1 };

function mlpBatches() {
  const rng = RandomStream.derive(1, 'webgpu-agreement-mlp');
  return [30, 17, 30, 30, 17, 30, 30, 17].map((n) => ({
    n,
    x: Float32Array.from({ length: n * pixels }, () => rng.uniform()),
    y: Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes)),
  }));
}

function imageMlp() {
  const batches = mlpBatches().map(({ n, x, y }) => {
    const xs = tf.tensor2d(x, [n, pixels]);
    return { xs, xT: tf.transpose(xs) as tf.Tensor2D, y: tf.tensor1d(y), scale: tf.fill([n], 1 / n) as tf.Tensor1D };
  });
  const training: Record<string, { parameters: Numbers[]; loss: number }> = {};
  for (const [name, optimizer] of optimizers) {
    const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec, train: { batchSize: 30, optimizer: name === 'Adam' ? { kind: 'adam', lr: 0.003 } : optimizer } });
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
    const trainer = createImageTrainer(model, config);
    for (const b of batches) trainer.step(b.xs, b.xT, b.y, b.scale, config.train.optimizer.lr);
    trainer.sync();
    training[name] = { parameters: model.exportParameters().map((p) => [...p.data]), loss: trainer.takeLoss() };
    trainer.dispose();
    model.dispose();
  }
  const model = Mlp.initialise(mlpSpec, picture, classes, 14);
  const first = batches[0]!;
  const perturbations: Record<string, Numbers> = {};
  for (const [norm, eps] of [['linf', 0.1], ['l2', 1]] as const) {
    perturbations[norm] = [...pgdPerturb(model, first.xs, first.y, { eps, norm, steps: 5, clip: [0, 1] }).dataSync()];
  }
  model.dispose();
  for (const b of batches) tf.dispose([b.xs, b.xT, b.y, b.scale]);
  return { training, perturbations };
}

async function wholeRuns(backend: 'wasm' | 'webgpu') {
  // Each backend's hot path, as runs use it: the fused wasm kernels against the fused WGSL ones.
  return { runs: await accuracyCounts(backend, true) };
}

const results: Record<string, unknown> = {};
for (const backend of ['wasm', 'webgpu'] as const) {
  const { choice } = await prepareBackend({ backend, fused: false });
  // tfjs-backend-webgpu runs an op on the CPU when its inputs are small and still on the host;
  // off, so that every op here runs as a WebGPU shader.
  if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
  results[backend] = {
    line: describeBackend(choice),
    ...(backend === 'webgpu' ? { cpuForward: tf.env().getBool('WEBGPU_CPU_FORWARD') } : {}),
    details: choice.details,
    twoLayer: twoLayer(),
    imageMlp: imageMlp(),
    ...(await wholeRuns(backend)),
    fused: await fusedSide(backend),
    plans: Object.fromEntries(
      Object.entries({ twoLayer: twoLayerKernels, mlp: mlpKernels, cnn: cnnKernels }).map(([model, kernels]) => {
        try {
          return [model, { substituted: planKernels(kernels, backend).substituted.map((s) => s.kernel) }];
        } catch (error) {
          return [model, { error: (error as Error).message }];
        }
      }),
    ),
  };
}
process.stdout.write(`${JSON.stringify(results)}\n`);
