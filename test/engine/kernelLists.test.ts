/**
 * The kernels checked before a run starts (main/engine/backend/runKernels.ts) are the kernels runs
 * dispatch: whole tiny runs of each model, recorded (../support/kernelRecorder.ts) on the generic
 * tfjs path and on the fused wasm path (one and two kernel threads, and two two-layer members
 * stacked in one program), dispatch no kernel outside their model's list. The configs between them take every protocol phase, both norms, SGD,
 * momentum and Adam, every threshold mode, the mixed batch, low-rank fine-tuning, PGD with
 * restarts, FGM, the mixture direction, the random noise, the instruments, the transfer table and
 * the adversarial pictures. The CNN also runs on cpu, which has the Conv2DBackpropFilter kernel
 * that wasm computes by a forward convolution. The WGSL hot path's runs: ./webgpu.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../shared/config.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runKernels } from '../../main/engine/backend/runKernels.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { loadFusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools, kernelThreadPool } from '../../main/engine/kernels/threadPool.ts';
import type { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { StackedProgram } from '../../main/engine/training/stackedProgram.ts';
import { useWasm } from '../support/backend.ts';
import { recordKernels } from '../support/kernelRecorder.ts';

beforeAll(useWasm);
afterAll(() => closeKernelThreadPools());

interface Path {
  readonly backend: 'wasm' | 'cpu';
  readonly fused: boolean;
  readonly threads: number;
}

/** The kernels the runs of `inputs` dispatch on `path`, sorted. */
async function dispatched(inputs: readonly ExperimentInput[], path: Path): Promise<string[]> {
  const { info, hooks } = await prepareBackend(path);
  const names = new Set<string>();
  for (const input of inputs) {
    const config = resolveExperiment(input);
    const { kernels } = await recordKernels(() => runExperiment(config, info, hooks));
    for (const name of kernels) names.add(name);
  }
  return [...names].sort();
}

const sparseCoding: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 12, k: 3, trainSize: 100 },
  model: { kind: 'two-layer', width: 8 },
  train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, attack: { randomStart: true, steps: 2 } },
  eval: {
    testSize: 40, every: 1, noiseDraws: 2, epsGrid: [0, 0.5],
    attacks: [{ kind: 'pgd', steps: 2, randomStart: true, restarts: 2 }, { kind: 'fgm' }, { kind: 'mixture-direction' }],
  },
  instruments: { coefficientsEvery: 1 },
};
const twoLayerRuns: ExperimentInput[] = [
  sparseCoding,
  {
    ...sparseCoding,
    model: { kind: 'two-layer', width: 8, outputWeight: 'inv-sqrt-width', threshold: { mode: 'learned', value: 0.1 } },
    train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 0.01 }, schedule: { kind: 'cosine' }, mix: { mode: 'mix' }, attack: { kind: 'fgm', norm: 'linf', eps: 0.1 } },
  },
  {
    ...sparseCoding,
    model: { kind: 'two-layer', width: 8, threshold: { mode: 'fixed', value: 0.1 } },
    train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, optimizer: { momentum: 0.9, lr: 0.1 }, lowRank: { rank: 2 }, attack: { norm: 'linf', eps: 0.1, steps: 2 } },
  },
];

const mnist: ExperimentInput = {
  task: { kind: 'mnist', trainSize: 100, classes: [3, 8] },
  model: { kind: 'mlp', width: 8 },
  train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, attack: { kind: 'pgd', norm: 'linf', eps: 0.1, steps: 2, randomStart: true } },
  eval: { testSize: 40, every: 1, noiseDraws: 2, epsGrid: [0, 0.1], attacks: [{ kind: 'pgd', steps: 2, randomStart: true, restarts: 2 }, { kind: 'fgm' }] },
  instruments: { shownUnits: 4 },
};
const mixedAdam: ExperimentInput['train'] = {
  cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, optimizer: { kind: 'adam', lr: 0.01 }, mix: { mode: 'mix' }, attack: { kind: 'fgm', norm: 'l2', eps: 1 },
};
const mlpRuns: ExperimentInput[] = [
  mnist,
  { ...mnist, model: { kind: 'mlp', width: 8, activation: 'symmetric-threshold' }, train: { ...mixedAdam, optimizer: { kind: 'adam', lr: 0.01, weightDecay: 0.01 } } },
  {
    ...mnist,
    train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, optimizer: { momentum: 0.9, lr: 0.1 }, lowRank: { rank: 2 }, attack: { norm: 'l2', eps: 1, steps: 2, clip: false } },
    eval: { ...mnist.eval, attacks: [{ kind: 'pgd', steps: 2, clip: false }, { kind: 'fgm', clip: false }] },
  },
];
const cnnRuns: ExperimentInput[] = [
  { ...mnist, model: { kind: 'cnn', channels: [2], kernelSize: 3 } },
  { ...mnist, model: { kind: 'cnn', channels: [2, 2], kernelSize: 3 }, train: mixedAdam },
];

const generic: Path = { backend: 'wasm', fused: false, threads: 1 };
const fused: Path = { backend: 'wasm', fused: true, threads: 1 };
const fusedThreads: Path = { backend: 'wasm', fused: true, threads: 2 };
const cpu: Path = { backend: 'cpu', fused: false, threads: 1 };
const describePath = (p: Path) => `${p.backend}, ${p.fused ? `fused path, ${p.threads} thread${p.threads > 1 ? 's' : ''}` : 'generic path'}`;

const models = [
  ...[generic, fused, fusedThreads].map((path) => ({ kind: 'two-layer', runs: twoLayerRuns, path }) as const),
  ...[generic, fused, fusedThreads].map((path) => ({ kind: 'mlp', runs: mlpRuns, path }) as const),
  ...[generic, fused].map((path) => ({ kind: 'cnn', runs: cnnRuns, path }) as const),
  // cpu's convolutions are slow: the one-layer CNN only.
  { kind: 'cnn', runs: cnnRuns.slice(0, 1), path: cpu },
] as const;

describe('every kernel a run dispatches is in the list checked before it starts', () => {
  const recorded = new Map<string, string[]>();
  for (const { kind, runs, path } of models) {
    it(`${kind}: ${describePath(path)}`, async () => {
      const names = await dispatched(runs, path);
      recorded.set(`${kind} ${describePath(path)}`, names);
      const checked = runKernels(kind);
      expect(names.filter((n) => !checked.includes(n))).toEqual([]);
    }, 120_000);
  }

  it('two-layer: wasm, two members stacked in one program', async () => {
    const { info, hooks } = await prepareBackend(fusedThreads);
    const program = new StackedProgram(kernelThreadPool(2), (await loadFusedKernels())!);
    const stacked = { ...hooks, makeTrainer: (net: TwoLayerNet, config: ResolvedExperiment) => program.makeTrainer(net, config) ?? hooks.makeTrainer!(net, config) };
    const configs = [0, 1].map((seed) => resolveExperiment({ ...twoLayerRuns[0]!, seed }));
    const { kernels } = await recordKernels(() => Promise.all(configs.map((config) => runExperiment(config, info, stacked))));
    // Every training step of both members went through the program: 2 epochs of 2 batches each.
    expect(program.calls.memberSteps).toBe(2 * 2 * 2);
    const checked = runKernels('two-layer');
    expect(kernels.filter((n) => !checked.includes(n))).toEqual([]);
  });

  it('the recording sees what each path computes with', () => {
    const on = (kind: string, path: Path) => recorded.get(`${kind} ${describePath(path)}`)!;
    // The generic two-layer step: the logistic loss (Softplus) and its derivative (Sigmoid).
    expect(on('two-layer', generic)).toEqual(expect.arrayContaining(['BatchMatMul', 'Softplus', 'Sigmoid', 'Concat', 'Slice', 'LessEqual']));
    expect(on('mlp', generic)).toEqual(expect.arrayContaining(['OneHot', 'Exp', 'Log', 'ClipByValue', 'GatherV2']));
    // cpu has Conv2DBackpropFilter; on wasm a forward convolution computes the filter gradient.
    expect(on('cnn', cpu)).toContain('Conv2DBackpropFilter');
    expect(on('cnn', generic)).not.toContain('Conv2DBackpropFilter');
    expect(on('cnn', generic)).toEqual(expect.arrayContaining(['Conv2D', 'MaxPoolGrad', 'PadV2']));
  });
});
