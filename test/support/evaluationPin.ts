/**
 * What a run measures, pinned: small runs whose every measured number (the epochs' metrics, the
 * instrument snapshots, the phase-end evaluations, the summary) is compared with the values the
 * engine produced before evaluation was made cheaper (issue 13, item 3). The fixture
 * test/fixtures/evaluationPin.json was written by `pinnedMeasurements` on the code before that
 * change (commit 0f83c11), by
 *   node --import tsx -e "import('./test/support/evaluationPin.ts').then((m) => m.writePin())"
 * in a checkout of that commit. Timing and the live tensor count are left out: they are not
 * measurements of the model.
 *
 * The runs cover every path the evaluation shares work on: the fused and the generic input
 * gradients, l2 and linf, PGD without a random start (whose first gradient FGM shares) and with
 * random starts and restarts (which share nothing), the eps grid with its radius 0, the random-noise
 * draws, the mixture direction, and an image model with data-range clipping.
 */
import { writeFileSync } from 'node:fs';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { useWasm } from './backend.ts';

const sparse: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 300 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 2, adversarialEpochs: 2, attack: { steps: 2 } },
  eval: { testSize: 150, every: 1, noiseDraws: 3, attacks: [{ kind: 'pgd', steps: 5 }, { kind: 'fgm' }, { kind: 'mixture-direction' }] },
  instruments: { coefficientsEvery: 2 },
};

export const pinnedRuns: readonly { name: string; input: ExperimentInput; fused: boolean }[] = [
  { name: 'sparse coding, l2, fused', input: sparse, fused: true },
  { name: 'sparse coding, l2, generic', input: sparse, fused: false },
  {
    name: 'sparse coding, linf, random starts',
    input: {
      ...sparse,
      seed: 3,
      eval: { ...sparse.eval, norm: 'linf', eps: 0.05, epsGrid: [0, 0.02, 0.05], attacks: [{ kind: 'pgd', steps: 4, randomStart: true, restarts: 2 }, { kind: 'fgm' }] },
    },
    fused: true,
  },
  {
    name: 'binary MNIST MLP, clipped',
    input: {
      seed: 5,
      task: { kind: 'mnist', classes: [3, 8], trainSize: 100 },
      model: { kind: 'mlp', width: 8 },
      train: { cleanEpochs: 1, adversarialEpochs: 1, batchSize: 50, attack: { kind: 'pgd', norm: 'linf', eps: 0.05, steps: 2 } },
      eval: { testSize: 80, every: 1, epsGrid: [0, 0.05, 0.1], noiseDraws: 2, attacks: [{ kind: 'pgd', steps: 3 }, { kind: 'fgm' }] },
      instruments: { shownUnits: 2 },
    },
    fused: true,
  },
];

/** The measurements of a run, without its timing and tensor counts, as JSON values (NaN as null). */
export function measurementsOf(result: RunResult): unknown {
  const metrics = result.metrics.map(({ elapsedSeconds, tensors, ...rest }) => (void elapsedSeconds, void tensors, rest));
  return JSON.parse(JSON.stringify({ metrics, instruments: result.instruments, evaluations: result.evaluations, summary: result.summary, warnings: result.warnings }));
}

/** Every pinned run's measurements, by name. */
export async function pinnedMeasurements(): Promise<Record<string, unknown>> {
  await useWasm();
  const out: Record<string, unknown> = {};
  for (const { name, input, fused } of pinnedRuns) {
    const { info, hooks } = await prepareBackend({ backend: 'wasm', fused });
    out[name] = measurementsOf(await runExperiment(resolveExperiment(input), info, hooks));
  }
  return out;
}

export const pinFile = new URL('../fixtures/evaluationPin.json', import.meta.url);

export async function writePin(): Promise<void> {
  writeFileSync(pinFile, JSON.stringify(await pinnedMeasurements()) + '\n');
}
