/**
 * A run as the views draw it: the RunResult's shape (so the shared chart builders take it as is),
 * filled from a stored result and then, while the run trains, from its event stream.
 *
 * Arrays are mutated in place and kept sorted by global epoch: a live run with 10^5 epochs
 * must not copy 10^5 rows on every batch. An event for an epoch already present replaces it
 * (a resumed run recomputes the epochs after its checkpoint), so replaying overlapping events
 * after a fresh read is harmless.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type {
  BackendInfo,
  Evaluation,
  InstrumentsEvent,
  MetricsEvent,
  Phase,
  ProgressEvent,
  RunEvent,
  RunSummary,
  WarningEvent,
} from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';

export interface RunData {
  /** Unique per object: a re-read run is new data even where its counters repeat. */
  readonly id: number;
  config: ResolvedExperiment | null;
  backend: BackendInfo | null;
  phases: { phase: Phase; epochs: number }[];
  readonly metrics: MetricsEvent[];
  readonly instruments: InstrumentsEvent[];
  readonly evaluations: Evaluation[];
  readonly warnings: WarningEvent[];
  summary: RunSummary | null;
  progress: ProgressEvent | null;
  /** The failure reported by the stream, if any. */
  error: string | null;
  seconds: number | null;
  /**
   * Counters bumped when a part changes: a chart redraws only when its own data moved (the
   * coefficient heatmap, 16k cells, must not be rebuilt for every accuracy point).
   */
  readonly revisions: { metrics: number; instruments: number; coefficients: number; neuronImages: number; evaluations: number; summary: number };
}

let nextId = 1;

export function emptyRunData(): RunData {
  return {
    id: nextId++,
    config: null,
    backend: null,
    phases: [],
    metrics: [],
    instruments: [],
    evaluations: [],
    warnings: [],
    summary: null,
    progress: null,
    error: null,
    seconds: null,
    revisions: { metrics: 0, instruments: 0, coefficients: 0, neuronImages: 0, evaluations: 0, summary: 0 },
  };
}

/** A run's data from what the store holds (complete once finished, partial while running). */
export function runDataFromResult(result: Partial<RunResult> | null | undefined, config: ResolvedExperiment | null): RunData {
  const data = emptyRunData();
  data.config = result?.config ?? config;
  data.backend = result?.backend ?? null;
  for (const m of result?.metrics ?? []) upsertByEpoch(data.metrics, m);
  for (const s of result?.instruments ?? []) upsertByEpoch(data.instruments, s);
  for (const e of result?.evaluations ?? []) upsertEvaluation(data.evaluations, e);
  data.warnings.push(...(result?.warnings ?? []));
  data.summary = result?.summary && 'final' in result.summary && result.summary.final ? result.summary : null;
  data.seconds = result?.timing?.seconds ?? null;
  data.revisions.metrics = data.metrics.length;
  data.revisions.instruments = data.instruments.length;
  data.revisions.coefficients = data.instruments.filter((s) => s.coefficients).length;
  data.revisions.neuronImages = data.instruments.filter((s) => s.neuronImages).length;
  data.revisions.evaluations = data.evaluations.length;
  data.revisions.summary = data.summary ? 1 : 0;
  return data;
}

/** Insert or replace by global epoch, keeping the list sorted (appending is the common case). */
export function upsertByEpoch<T extends { readonly globalEpoch: number }>(list: T[], item: T): void {
  const last = list[list.length - 1];
  if (!last || last.globalEpoch < item.globalEpoch) {
    list.push(item);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as T).globalEpoch < item.globalEpoch) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo]?.globalEpoch === item.globalEpoch) list[lo] = item;
  else list.splice(lo, 0, item);
}

function upsertEvaluation(list: Evaluation[], e: Evaluation): void {
  const at = list.findIndex((x) => x.label === e.label);
  if (at >= 0) list[at] = e;
  else list.push(e);
  list.sort((a, b) => a.globalEpoch - b.globalEpoch);
}

/**
 * Apply one event. Returns true when something a chart draws changed (progress alone does not
 * redraw the charts, only the progress bar).
 */
export function applyRunEvent(data: RunData, event: RunEvent): boolean {
  switch (event.type) {
    case 'run-started':
      data.config = event.config;
      data.backend = event.backend;
      data.phases = event.phases.map((p) => ({ ...p }));
      data.error = null;
      data.revisions.metrics++;
      return true;
    case 'phase-changed':
      return false;
    case 'progress':
      data.progress = event;
      return false;
    case 'metrics':
      upsertByEpoch(data.metrics, event);
      data.revisions.metrics++;
      return true;
    case 'instruments':
      upsertByEpoch(data.instruments, event);
      data.revisions.instruments++;
      if (event.coefficients) data.revisions.coefficients++;
      if (event.neuronImages) data.revisions.neuronImages++;
      return true;
    case 'evaluation':
      upsertEvaluation(data.evaluations, event.evaluation);
      data.revisions.evaluations++;
      data.revisions.metrics++; // the accuracy chart draws the phase-end evaluations too
      return true;
    case 'warning':
      data.warnings.push(event);
      return true;
    case 'finished':
      data.summary = event.summary;
      data.seconds = event.seconds;
      data.progress = null;
      data.revisions.summary++;
      return true;
    case 'failed':
      data.error = event.error;
      data.progress = null;
      return true;
    default:
      return false;
  }
}

/** Snapshots that carry the neuron × atom matrix, in epoch order. */
export function coefficientSnapshots(data: Pick<RunData, 'instruments'>) {
  const out: { globalEpoch: number; phase: InstrumentsEvent['phase']; coefficients: NonNullable<InstrumentsEvent['coefficients']> }[] = [];
  for (const s of data.instruments) if (s.coefficients) out.push({ globalEpoch: s.globalEpoch, phase: s.phase, coefficients: s.coefficients });
  return out;
}

/** The evaluation after clean training, or of the final model. */
export function evaluationByLabel(data: Pick<RunData, 'evaluations'>, label: Evaluation['label']): Evaluation | undefined {
  return data.evaluations.find((e) => e.label === label);
}
