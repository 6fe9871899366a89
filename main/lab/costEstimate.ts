/**
 * How long an experiment will take on this machine: its work (shared/experimentWork.ts, training
 * and evaluation counted apart) over two measured rates, both at the flagship's size:
 *
 *   training     step equivalents per second;
 *   evaluation   test-sample gradients per second, with a fixed cost per epoch (the metrics, the
 *                event stream and the store's writes) counted as `epochOverhead` units.
 *
 * The rates come from the latest finished runs in the store on this backend (their training and
 * evaluation seconds over their work), else from a measurement of both kinds of step now
 * (./throughput.ts, in a job host's worker). The
 * estimate is the sum of the two parts: evaluation is about half of a flagship run and most of a
 * quick one, so an estimate from training alone said 0.5 s for a quick run that took 6 s.
 */
import type { ConfigCheck } from '../../shared/api.ts';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { experimentWork } from '../../shared/experimentWork.ts';
import type { RunStore } from './store/runStore.ts';

/** Flagship-size throughput: training step equivalents, and evaluation units, per second. */
export interface Throughput {
  readonly trainPerSecond: number;
  readonly evalPerSecond: number;
  /** The kernel threads it was measured on, when measured (finished runs' figures carry none). */
  readonly threads?: number;
}

/**
 * The fixed cost of an epoch beyond its arithmetic, in evaluation units: fitted to the quick and
 * flagship presets on the 2-core machine this was built on (about 5 ms an epoch there, 1,000
 * units at 180,000 units/s), where it is a fifth of a quick run's evaluation time.
 */
export const epochOverhead = 1000;

/** Evaluation units of an experiment, its per-epoch overhead included. */
export function evaluationUnits(config: ResolvedExperiment): number {
  const work = experimentWork(config);
  const epochs = work.phases.reduce((s, p) => s + p.epochs, 0) + 1;
  return work.eval + epochs * epochOverhead;
}

/** What the setup form says instead of a time on a WebGPU software adapter. */
export const softwareAdapterNoEstimate = 'software adapter: no estimate';

/**
 * Whether the backend is WebGPU on a software adapter (SwiftShader and the like, see
 * main/engine/backend/webgpu/adapter.ts): it runs for checking correctness, at a speed that says nothing
 * about a GPU, so no time is estimated from it and none is measured on it.
 */
export function onSoftwareAdapter(backend: BackendInfo | null | undefined): boolean {
  return backend?.name === 'webgpu' && backend.details['software'] === true;
}

/**
 * The estimate config.validate reports: steps, step equivalents, and the expected seconds of the
 * whole run (training and evaluation) from the throughput (null: unknown, or, on a software
 * adapter, not estimated, saying so).
 */
export function costEstimate(config: ResolvedExperiment, throughput: Throughput | null, backend?: BackendInfo | null): NonNullable<ConfigCheck['estimate']> {
  const work = experimentWork(config);
  if (onSoftwareAdapter(backend)) return { steps: work.steps, stepEquivalents: work.stepEquivalents, seconds: null, noEstimate: softwareAdapterNoEstimate };
  const usable = throughput && throughput.trainPerSecond > 0 && throughput.evalPerSecond > 0;
  const seconds = usable ? work.train / throughput.trainPerSecond + evaluationUnits(config) / throughput.evalPerSecond : null;
  return { steps: work.steps, stepEquivalents: work.stepEquivalents, seconds };
}

/** A finished run must have trained this long for its timing to say more than its overheads. */
const minimumTrainSeconds = 0.5;

interface RunTiming {
  readonly trainSeconds: number;
  readonly evalSeconds: number;
}

/**
 * Throughput from the latest finished runs in the store on this backend: their training work over
 * their training seconds, their evaluation work over their evaluation seconds. Null when none
 * qualifies. `timingCache` (by run id) spares re-reading result files on later calls.
 */
export function storedThroughput(store: RunStore, backend: BackendInfo, runs = 5, timingCache = new Map<string, RunTiming>()): Throughput | null {
  let train = 0;
  let trainSeconds = 0;
  let evaluation = 0;
  let evalSeconds = 0;
  let used = 0;
  for (const run of store.list({ status: 'finished' })) {
    if (used >= runs) break;
    if (!run.backend || run.backend.name !== backend.name || run.backend.device !== backend.device || run.backend.fusedKernels !== backend.fusedKernels) continue;
    // A finished run's timing never changes: read its (large) result file once.
    let timing = timingCache.get(run.id);
    if (timing === undefined) {
      try {
        const t = store.result(run.id).timing;
        timing = { trainSeconds: t.trainSeconds, evalSeconds: t.evalSeconds };
      } catch {
        continue; // a corrupt result file says nothing about speed
      }
      timingCache.set(run.id, timing);
    }
    if (!(timing.trainSeconds >= minimumTrainSeconds) || !(timing.evalSeconds > 0)) continue;
    train += experimentWork(run.config).train;
    trainSeconds += timing.trainSeconds;
    evaluation += evaluationUnits(run.config);
    evalSeconds += timing.evalSeconds;
    used += 1;
  }
  return used > 0 ? { trainPerSecond: train / trainSeconds, evalPerSecond: evaluation / evalSeconds } : null;
}
