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
import { resolveExperiment, type MlpModel } from '../../shared/config.ts';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { describeBackend } from '../../main/engine/backend/chooseBackend.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { planKernels } from '../../main/engine/backend/kernelPlan.ts';
import { runKernels } from '../../main/engine/backend/runKernels.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createGenericTrainer } from '../../main/engine/training/genericTrainer.ts';
import type { TrainingAttack } from '../../main/engine/training/trainer.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { accuracyCounts } from './webgpuRuns.ts';
import { fusedSide } from './webgpuFusedSide.ts';
import { classes, d, mlpBatches, mlpSpec, optimizers, picture, twoLayerBatch, twoLayerConfig, type Numbers } from './webgpuProblems.ts';

function twoLayer() {
  const { x, xT, y, scale } = twoLayerBatch('webgpu-agreement');
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

function imageMlp() {
  const batches = mlpBatches('webgpu-agreement-mlp');
  const training: Record<string, { parameters: Numbers[]; loss: number }> = {};
  for (const [name, optimizer] of optimizers) {
    const config = resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec(), train: { batchSize: 30, optimizer: name === 'Adam' ? { kind: 'adam', lr: 0.003 } : optimizer } });
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
    const trainer = createImageTrainer(model, config);
    for (const b of batches) trainer.step(b.xs, b.xT, b.y, b.scale, config.train.optimizer.lr);
    trainer.sync();
    training[name] = { parameters: model.exportParameters().map((p) => [...p.data]), loss: trainer.takeLoss() };
    trainer.dispose();
    model.dispose();
  }
  const model = Mlp.initialise(mlpSpec(), picture, classes, 14);
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
  // On webgpu each run is also resumed from a checkpoint (wasm's resume: test/engine/resume.test.ts).
  return accuracyCounts(backend, true, { resume: backend === 'webgpu' });
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
      Object.entries({ twoLayer: runKernels('two-layer'), mlp: runKernels('mlp'), cnn: runKernels('cnn') }).map(([model, kernels]) => {
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
