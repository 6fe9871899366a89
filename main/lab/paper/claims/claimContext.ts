/**
 * What a claim builder (./c1Mixtures.ts ... ./c5LowRank.ts) gets and gives back: the finished
 * results of the runs its claim rests on, per seed, and a caption, a check, a chart and its CSV.
 */
import type { ClaimChart } from '../../../../shared/charts/claims.ts';
import type { SparseCodingExperiment } from '../../../../shared/config.ts';
import type { ClaimCheck } from '../../../../shared/paper.ts';
import type { RunResult } from '../../../../shared/result.ts';
import type { BaselineResult } from '../../../engine/baselines.ts';
import type { PaperSpecs } from '../plan.ts';

export interface BuiltClaim {
  readonly caption: string;
  readonly check: ClaimCheck;
  readonly chart: ClaimChart;
  readonly csv: string;
}

export interface ClaimContext {
  readonly specs: PaperSpecs;
  readonly config: SparseCodingExperiment;
  readonly settings: string;
  /** The finished results per seed, by variant key. */
  readonly results: readonly Readonly<Record<string, RunResult>>[];
  readonly baselines: readonly (readonly BaselineResult[])[];
}

/** The main fine-tune of each seed. */
export const mainsOf = (c: ClaimContext) => c.results.map((r) => r.main!);
