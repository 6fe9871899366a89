/**
 * The whole runs that test/engine/webgpu.test.ts and webgpuFused.test.ts compare between wasm and
 * webgpu (a tiny two-layer run and a tiny image-MLP run, both with an adversarial phase), and their
 * evaluations' accuracies as counts of test samples; and each run resumed from a checkpoint.
 */
import { resolveExperiment, resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import type { Evaluation } from '../../shared/events.ts';
import { presetByName } from '../../shared/presets.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import type { RunResult } from '../../shared/result.ts';
import { recordKernels } from './kernelRecorder.ts';

const quick = presetByName('quick').config;
export const runs: Record<string, ExperimentInput> = {
  'two-layer': {
    ...quick,
    task: { kind: 'sparse-coding', d: 16, k: 3, trainSize: 300 },
    model: { kind: 'two-layer', width: 16 },
    train: { cleanEpochs: 3, adversarialEpochs: 2, batchSize: 50 },
    eval: { testSize: 200, every: 0 },
  },
  'image MLP': {
    task: { kind: 'mnist', trainSize: 300, classes: [3, 8] },
    model: { kind: 'mlp', width: 16 },
    train: { cleanEpochs: 2, adversarialEpochs: 1, batchSize: 50, optimizer: { lr: 0.1 }, attack: { kind: 'pgd', norm: 'linf', eps: 0.1, steps: 3, randomStart: true } },
    eval: { testSize: 200, every: 0, epsGrid: [0, 0.1], noiseDraws: 1, attacks: [{ kind: 'pgd', steps: 5 }, { kind: 'fgm' }] },
    instruments: { coefficientsEvery: 0, shownUnits: 4 },
  },
};

/** Every accuracy of an evaluation as a count of test samples, by name. */
function counts(evaluation: Evaluation): Record<string, number> {
  const out: Record<string, number> = { clean: Math.round(evaluation.cleanAccuracy.estimate * evaluation.cleanAccuracy.n) };
  for (const curve of [...evaluation.curves, evaluation.worstCase]) {
    curve.accuracy.forEach((a, k) => (out[`${curve === evaluation.worstCase ? 'worst case' : curve.attack} at eps ${curve.eps[k]}`] = Math.round(a.estimate * a.n)));
  }
  return out;
}

/** What a resumed run must reproduce to the last bit: the summary, and each epoch's loss and accuracies. */
export interface RunOutcome {
  readonly summary: RunResult['summary'];
  readonly metrics: readonly (readonly unknown[])[];
}
/** A run checkpointed every epoch, and the same run resumed from its checkpoint `at` (an epoch inside the last phase). */
export interface ResumeCheck {
  readonly at: number;
  readonly full: RunOutcome;
  readonly resumed: RunOutcome;
}
const outcome = (result: RunResult): RunOutcome => ({ summary: result.summary, metrics: result.metrics.map((m) => [m.loss, m.cleanAccuracy, m.robustAccuracy]) });

/**
 * Each run's evaluations on `backend`, generic ops or its fused hot path; with `resume`, each run
 * also resumed from the checkpoint that starts its last epoch (the optimiser's state mid-phase
 * when the last phase has two epochs), as the run store resumes it: the records up to it kept.
 * With them, the kernels each run dispatched through tfjs (./kernelRecorder.ts).
 */
export async function accuracyCounts(
  backend: 'wasm' | 'webgpu',
  fused: boolean,
  options: { resume?: boolean } = {},
): Promise<{
  runs: Record<string, { label: string; accuracies: Record<string, number> }[]>;
  resumes: Record<string, ResumeCheck>;
  kernels: Record<string, string[]>;
}> {
  const { info, hooks } = await prepareBackend({ backend, fused });
  const out: Record<string, { label: string; accuracies: Record<string, number> }[]> = {};
  const resumes: Record<string, ResumeCheck> = {};
  const kernels: Record<string, string[]> = {};
  for (const [name, input] of Object.entries(runs)) {
    const config = name === 'two-layer' ? resolveSparseCoding(input) : resolveExperiment(input);
    const checkpoints: EngineCheckpoint[] = [];
    const recorded = await recordKernels(() =>
      runExperiment(config, info, options.resume ? { ...hooks, checkpointEvery: 1, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) } : hooks),
    );
    const result = recorded.result;
    kernels[name] = recorded.kernels;
    out[name] = result.evaluations.map((e) => ({ label: e.label, accuracies: counts(e) }));
    if (!options.resume) continue;
    const last = config.train.cleanEpochs + config.train.adversarialEpochs;
    const checkpoint = checkpoints.find((c) => c.globalEpoch === last - 1);
    if (!checkpoint) throw new Error(`${name}: no checkpoint at epoch ${last - 1} (got ${checkpoints.map((c) => c.globalEpoch).join(', ')})`);
    const upTo = (e: { globalEpoch: number }) => e.globalEpoch <= checkpoint.globalEpoch;
    const resumed = await runExperiment(config, info, {
      ...hooks,
      resume: { checkpoint, metrics: result.metrics.filter(upTo), instruments: result.instruments.filter(upTo), evaluations: result.evaluations.filter(upTo), warnings: [] },
    });
    resumes[name] = { at: checkpoint.globalEpoch, full: outcome(result), resumed: outcome(resumed) };
  }
  return { runs: out, resumes, kernels };
}
