/**
 * The result of a run, as written by `lab run --json FILE`: the resolved config, the backend,
 * everything the event stream carried (metrics and instrument distributions over training, the
 * evaluations after each phase), the summary, and the timing.
 */
import type { AdversarialExamples } from './adversarial.ts';
import type { ResolvedExperiment } from './config.ts';
import type { BackendInfo, Evaluation, InstrumentsEvent, MetricsEvent, RunSummary, WarningEvent } from './events.ts';

export const resultSchemaVersion = 1;

export interface RunResult {
  readonly schemaVersion: typeof resultSchemaVersion;
  readonly config: ResolvedExperiment;
  readonly backend: BackendInfo;
  readonly metrics: readonly MetricsEvent[];
  readonly instruments: readonly InstrumentsEvent[];
  readonly evaluations: readonly Evaluation[];
  readonly warnings: readonly WarningEvent[];
  readonly summary: RunSummary;
  /** The attack on a few chosen test inputs, per model (eval.pictures; absent when none were asked for or no gradient attack ran). */
  readonly adversarial?: AdversarialExamples;
  readonly timing: {
    /** Wall time of the whole run: data, training, instruments and evaluations. */
    readonly seconds: number;
    /**
     * Training steps only (attacks on training batches included). A stack's member counts its own
     * code and its share of the stack's kernel calls (by rows), not the other members' compute.
     */
    readonly trainSeconds: number;
    /** Evaluations and instruments (a stack's member: not the time it waited on the other members). */
    readonly evalSeconds: number;
    readonly steps: number;
  };
}
