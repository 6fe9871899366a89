/**
 * The evaluation of a weights file from the store on a dataset file (`files.evaluate`, `lab eval`
 * of an MLP): what the UI's "Weights and datasets" panel shows of it, and `lab eval --json` writes.
 */
import type { AdversarialExamples } from './adversarial.ts';
import type { ResolvedExperiment } from './config.ts';
import type { Evaluation, InstrumentsEvent, ModelSummary } from './events.ts';

export interface FileEvaluation {
  /** The weights and dataset files, as named. */
  readonly weights: string;
  readonly data: string;
  /** The config whose model and eval parts were used (its task is a stand-in the schema needs). */
  readonly config: ResolvedExperiment;
  readonly classes: number;
  /** Every attack over the eps grid and the per-sample worst case: the robust curves. */
  readonly evaluation: Evaluation;
  readonly summary: { readonly final: ModelSummary };
  /** The first layer's picture instruments: roughness of every unit, the shown units as images. */
  readonly instruments: readonly InstrumentsEvent[];
  /** eval.pictures' samples under the evaluation's first gradient attack; null when none were asked for or no gradient attack is configured. */
  readonly adversarial: AdversarialExamples | null;
  /** What this evaluation cannot measure, and why. */
  readonly unavailable: readonly string[];
  /** The logits of every sample [n, C], when asked for. */
  readonly logits?: readonly number[];
}
