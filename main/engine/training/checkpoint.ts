/**
 * What a run needs to continue exactly where it stopped: taken at an epoch boundary, it holds
 * the weights, the optimiser's state, every random stream's state and the bookkeeping of the
 * protocol. Restoring it and training on gives the same numbers as never stopping, on the same
 * backend (tested), because nothing else carries over from one epoch to the next.
 */
import type { Evaluation, InstrumentsEvent, MetricsEvent, ModelSummary, WarningEvent } from '../../../shared/events.ts';
import type { RandomState } from '../random.ts';

/** An optimiser's state: its step count and its moment tensors, as host arrays. */
export interface OptimizerState {
  readonly t: number;
  readonly tensors: Readonly<Record<string, Float32Array>>;
}

export interface EngineCheckpoint {
  readonly version: 1;
  /** The phase being trained (index into the protocol's phases) and its completed epochs. */
  readonly phaseIndex: number;
  readonly epochInPhase: number;
  readonly globalEpoch: number;
  readonly steps: number;
  readonly trainSeconds: number;
  /** eval: the stream of the robust accuracies measured during training (random.ts); the phase-end evaluations need no state. */
  readonly rng: { readonly shuffle: RandomState; readonly attack: RandomState; readonly eval: RandomState };
  /** W [m, d] row-major and b [m] (fixed and learned modes). */
  readonly W: Float32Array;
  readonly b: Float32Array | null;
  /** The weights at initialisation, and after the clean phase once it is over. */
  readonly W0: Float32Array;
  readonly Wclean: Float32Array | null;
  /** The thresholds after the clean phase (learned mode changes them); absent in older checkpoints. */
  readonly bClean?: Float32Array | null;
  readonly optimizer: OptimizerState;
  readonly afterClean: ModelSummary | null;
  /**
   * Kernel threads the run computed on: sums across threads are reduced in a fixed order per
   * thread count, so an exact resume computes on as many again (absent in older checkpoints: 1).
   */
  readonly threads?: number;
}

/** A checkpoint plus everything the run had reported up to it (restored from the store). */
export interface ResumeState {
  readonly checkpoint: EngineCheckpoint;
  readonly metrics: readonly MetricsEvent[];
  readonly instruments: readonly InstrumentsEvent[];
  readonly evaluations: readonly Evaluation[];
  readonly warnings: readonly WarningEvent[];
}
