/**
 * The whole runs that test/engine/webgpu.test.ts and webgpuFused.test.ts compare between wasm and
 * webgpu (a tiny two-layer run and a tiny image-MLP run, both with an adversarial phase), and their
 * evaluations' accuracies as counts of test samples.
 */
import { resolveExperiment, resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import type { Evaluation } from '../../shared/events.ts';
import { presetByName } from '../../shared/presets.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';

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

/** Each run's evaluations on `backend`, generic ops or its fused hot path. */
export async function accuracyCounts(backend: 'wasm' | 'webgpu', fused: boolean): Promise<Record<string, { label: string; accuracies: Record<string, number> }[]>> {
  const { info, hooks } = await prepareBackend({ backend, fused });
  const out: Record<string, { label: string; accuracies: Record<string, number> }[]> = {};
  for (const [name, input] of Object.entries(runs)) {
    const config = name === 'two-layer' ? resolveSparseCoding(input) : resolveExperiment(input);
    const result = await runExperiment(config, info, hooks);
    out[name] = result.evaluations.map((e) => ({ label: e.label, accuracies: counts(e) }));
  }
  return out;
}
