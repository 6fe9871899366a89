/**
 * What the store already holds of a paper plan (./plan.ts): each needed run matched by config
 * hash and code version (finished runs are reused, so the Paper page, `lab figures` and any
 * earlier `lab run` of the same config share them), each baseline set looked up in the
 * BaselineCache. What is missing leaves its claims pending, never failing
 * (./claims/buildClaims.ts): a page can show C1 while C5's rank sweep runs.
 */
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { PaperBaselineItem, PaperItem, PaperItemStatus, PaperRunItem } from '../../../shared/paper.ts';
import { codeVersion } from '../provenance.ts';
import type { BaselineCache } from '../store/baselineCache.ts';
import type { RunRecord, RunStore } from '../store/runStore.ts';
import type { PaperBaselineSpec, PaperRunSpec, PaperSpecs } from './plan.ts';

/** A run spec's matches in the store, by config hash and code version. */
export interface RunMatch {
  readonly finished: RunRecord | null;
  /** Queued or running now. */
  readonly active: RunRecord | null;
  /** The newest stopped attempt (interrupted, cancelled, failed, or queued with nothing to run it). */
  readonly previous: RunRecord | null;
  /** A finished run of the same config by other code (not reused: the code that made it differs). */
  readonly otherCode: RunRecord | null;
}

/**
 * Whether a queued or running record is being worked on. The default trusts the store; the
 * service knows better for "queued" (a record left queued by a server that stopped has nothing
 * to run it).
 */
export type LiveCheck = (run: RunRecord) => boolean;
const trustStore: LiveCheck = (run) => run.status === 'queued' || run.status === 'running';

export function matchRun(store: RunStore, spec: PaperRunSpec, isLive: LiveCheck = trustStore): RunMatch {
  let finished: RunRecord | null = null;
  let active: RunRecord | null = null;
  let previous: RunRecord | null = null;
  let otherCode: RunRecord | null = null;
  const code = codeVersion();
  for (const run of store.withConfig(spec.configHash)) {
    if (run.codeVersion !== code) {
      if (run.status === 'finished') otherCode ??= run;
    } else if (run.status === 'finished') finished ??= run;
    else if ((run.status === 'queued' || run.status === 'running') && isLive(run)) active ??= run;
    else previous ??= run;
  }
  return { finished, active, previous, otherCode };
}

/** Where a baseline set stands while something trains it (the service's BaselineJobs). */
export interface BaselineProgress {
  readonly status: 'queued' | 'running' | 'failed';
  readonly progress: { readonly done: number; readonly total: number } | null;
  readonly error: string | null;
}

export interface PaperLookup {
  readonly store: RunStore;
  readonly baselines: BaselineCache;
  readonly isLive?: LiveCheck;
  /** Where a baseline set that is not in the cache stands (null: nobody is training it). */
  readonly baselineProgress?: (spec: PaperBaselineSpec) => BaselineProgress | null;
  /** Expected training seconds of a run (null: unknown). */
  readonly estimateSeconds?: (config: ResolvedExperiment) => number | null;
}

/** Every needed run and baseline set, with where it stands. */
export function paperItems(specs: PaperSpecs, lookup: PaperLookup): PaperItem[] {
  const runs = specs.runs.map((spec): PaperRunItem => {
    const match = matchRun(lookup.store, spec, lookup.isLive);
    const found = match.finished ?? match.active;
    const status: PaperItemStatus = match.finished ? 'finished' : match.active ? (match.active.status as 'queued' | 'running') : match.previous?.status === 'failed' ? 'failed' : 'missing';
    const previous = found ? null : match.previous;
    return {
      kind: 'run',
      key: spec.key,
      seed: spec.seed,
      label: spec.label,
      claims: spec.claims,
      status,
      runId: found?.id ?? null,
      configHash: spec.configHash,
      previous: previous ? { id: previous.id, status: previous.status, checkpointEpoch: previous.checkpointEpoch, error: previous.error } : null,
      otherCode: match.finished ? null : (match.otherCode?.codeVersion ?? null),
      estimateSeconds: match.finished ? null : (lookup.estimateSeconds?.(spec.config) ?? null),
    };
  });
  const baselines = specs.baselines.map((spec): PaperBaselineItem => {
    const cached = lookup.baselines.has(spec.configHash, codeVersion());
    const progress = cached ? null : (lookup.baselineProgress?.(spec) ?? null);
    return {
      kind: 'baselines',
      key: spec.key,
      seed: spec.seed,
      label: spec.label,
      claims: spec.claims,
      status: cached ? 'finished' : (progress?.status ?? 'missing'),
      progress: progress?.progress ?? null,
      error: progress?.error ?? null,
    };
  });
  return [...runs, ...baselines];
}
