/**
 * The engine's event stream: the one contract between a running experiment and everything that
 * watches it (the CLI's progress bar and summary, the run store, the UI). Events
 * are plain JSON-serialisable objects, emitted in this order:
 *
 *   run-started                          once, with the resolved config and the backend
 *   phase-changed                        at the start of each phase (clean, adversarial)
 *   progress*                            while training, at most a few times per second
 *   metrics                              after each epoch (loss, accuracies with intervals)
 *   instruments                          every `instruments.every` epochs (distributions over neurons)
 *   evaluation                           after each phase: every attack over the eps grid
 *   warning                              when something is suspicious (a dead network)
 *   finished | failed                    once, last
 *
 * Epochs are counted within their phase (1-based) and globally (`globalEpoch`, 1-based across
 * phases; 0 is the initialisation), so charts can draw the phase boundary.
 */
import type { ResolvedExperiment } from './config.ts';
import { summarize, type Summary } from './distribution.ts';

export type Phase = 'clean' | 'adversarial';

/** An accuracy with its 95 % Wilson interval over `n` samples. */
export interface Accuracy {
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  readonly n: number;
}

export interface BackendInfo {
  readonly name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  readonly device: 'gpu' | 'cpu';
  readonly label: string;
  readonly skipped: readonly { readonly candidate: string; readonly reason: string }[];
  readonly forced: boolean;
  readonly note?: string;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** Whether the backend's fused kernels (wasm SIMD, webgpu WGSL) run the hot path (else plain tfjs ops). */
  readonly fusedKernels: boolean;
  /** Kernel threads the hot path splits each batch across (1: one thread; absent in older runs). */
  readonly threads?: number;
}

export interface RunStartedEvent {
  readonly type: 'run-started';
  readonly config: ResolvedExperiment;
  readonly backend: BackendInfo;
  readonly phases: readonly { readonly phase: Phase; readonly epochs: number }[];
  readonly stepsPerEpoch: number;
  readonly time: string;
  /** Set when the run continues from a checkpoint taken after this global epoch. */
  readonly resumedFromEpoch?: number;
}

export interface PhaseChangedEvent {
  readonly type: 'phase-changed';
  readonly phase: Phase;
  readonly epochs: number;
  /** Global epoch at which this phase starts (the boundary to mark on charts). */
  readonly startsAfterGlobalEpoch: number;
}

export interface ProgressEvent {
  readonly type: 'progress';
  readonly phase: Phase;
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Steps done and total over the whole run. */
  readonly done: number;
  readonly total: number;
  readonly elapsedSeconds: number;
  /** Training steps per second so far. */
  readonly rate: number;
}

export interface MetricsEvent {
  readonly type: 'metrics';
  readonly phase: Phase | 'init';
  readonly epoch: number;
  readonly globalEpoch: number;
  readonly learningRate: number;
  /** Mean training loss over the epoch (on the batches actually trained on; NaN at init). */
  readonly loss: number;
  readonly cleanAccuracy: Accuracy;
  readonly mixtureDirectionAccuracy: Accuracy;
  /** The evaluation attack at the experiment's eps, every `eval.every` epochs (else null). */
  readonly robustAccuracy: Accuracy | null;
  /** Fraction of test samples on which every neuron is below its threshold (f = 0). */
  readonly silentFraction: number;
  /** Live tfjs tensors after this epoch (a leak shows as growth). */
  readonly tensors: number;
  readonly elapsedSeconds: number;
}

/** Per-neuron distributions: the values, and their summary. */
export interface NeuronDistribution {
  readonly values: readonly number[];
  readonly summary: Summary;
}

/**
 * First-layer weights of a fixed set of hidden units as images (image tasks): MLP neurons as
 * 28 x 28 pictures, CNN first-layer filters as RGB tiles. The same units at every snapshot.
 */
export interface NeuronImages {
  /** Indices of the shown hidden units (neurons or filters), in display order. */
  readonly units: readonly number[];
  readonly height: number;
  readonly width: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: number;
  /** [units.length, height, width, channels] row-major (channel last): the weights as they are. */
  readonly values: readonly number[];
}

/** How far one weight layer has moved from its initialisation: ||W - W0||_F / ||W0||_F. */
export interface LayerChange {
  readonly layer: string;
  readonly relativeChange: number;
}

export interface InstrumentsEvent {
  readonly type: 'instruments';
  readonly phase: Phase | 'init';
  readonly epoch: number;
  readonly globalEpoch: number;
  /** Dictionary instruments: synthetic sparse-coding runs only (null on image tasks). */
  readonly mixtureRatio: NeuronDistribution | null;
  readonly participationRatio: NeuronDistribution | null;
  readonly coherence: NeuronDistribution | null;
  /**
   * Coherent mixture share kappa_i = <c_off, u> / ||c_i|| (coherence * sqrt(mixture ratio)): the part
   * of each neuron along the label direction off its principal atoms, what accumulates under clean
   * training. Absent in runs recorded before it was measured: read it with `coherentShareOf`.
   */
  readonly coherentShare?: NeuronDistribution | null;
  /** ||w_i|| per neuron (first layer). */
  readonly weightNorm: NeuronDistribution;
  /** The neuron x atom coefficient matrix C = W M [m, D] (row-major), when due. */
  readonly coefficients: { readonly rows: number; readonly cols: number; readonly values: readonly number[] } | null;
  /**
   * Image tasks: the roughness of each first-layer unit as a picture, its total variation
   * sum |neighbour differences| / (sqrt(pixels) * ||w||_2) (scale-free; higher = noisier).
   */
  readonly roughness?: NeuronDistribution | null;
  /** Image tasks: the shown units' weights as images, when due (every `instruments.coefficientsEvery` epochs and at phase ends). */
  readonly neuronImages?: NeuronImages | null;
  /** Image tasks: every weight layer's relative change from its initialisation. */
  readonly layers?: readonly LayerChange[];
}

/** An instruments snapshot of a sparse-coding run, whose dictionary instruments are all there. */
export type DictionaryInstruments = InstrumentsEvent & {
  readonly mixtureRatio: NeuronDistribution;
  readonly participationRatio: NeuronDistribution;
  readonly coherence: NeuronDistribution;
};

export function hasDictionaryInstruments(event: InstrumentsEvent): event is DictionaryInstruments {
  return event.mixtureRatio !== null && event.participationRatio !== null && event.coherence !== null;
}

/**
 * The coherent mixture share of a dictionary snapshot: as recorded, or, for runs recorded before
 * it was, derived per neuron from the recorded coherence and mixture ratio (kappa = coherence *
 * sqrt(mixture ratio), the same number up to float rounding).
 */
export function coherentShareOf(event: DictionaryInstruments): NeuronDistribution {
  if (event.coherentShare) return event.coherentShare;
  const ratio = event.mixtureRatio.values;
  // Number.isFinite also refuses the nulls that JSON makes of NaN (a dead neuron).
  const values = event.coherence.values.map((c, i) => (Number.isFinite(c) && Number.isFinite(ratio[i]) ? c * Math.sqrt(ratio[i]!) : NaN));
  return { values, summary: summarize(values) };
}

/** One attack's robust accuracy over the eps grid. */
export interface RobustCurve {
  readonly attack: string;
  readonly eps: readonly number[];
  readonly accuracy: readonly Accuracy[];
  /** Samples left in place because their input gradient was zero, per radius. */
  readonly zeroGradient: readonly number[];
}

/** Why an evaluation's robust accuracy may not be trusted (AutoAttack's checks). */
export interface TrustFlag {
  readonly code: 'zero-gradient' | 'noise-beats-gradient' | 'not-monotone';
  readonly message: string;
  /** Samples concerned. */
  readonly samples: number;
  /** The radius it concerns, where one. */
  readonly eps?: number;
}

export interface Evaluation {
  readonly label: 'after-clean' | 'final';
  readonly globalEpoch: number;
  readonly norm: 'l2' | 'linf';
  readonly cleanAccuracy: Accuracy;
  /** The evaluation attack (the first of eval.attacks) at the experiment's eps. */
  readonly robustAccuracy: Accuracy;
  readonly mixtureDirectionAccuracy: Accuracy;
  readonly curves: readonly RobustCurve[];
  /** Per-sample worst case over every attack that ran: the tightest upper bound on robust accuracy. */
  readonly worstCase: RobustCurve;
  /** The attacks that ran, in words. */
  readonly attacks: readonly string[];
  /** Reasons not to trust the robust accuracies (empty when none). */
  readonly flags: readonly TrustFlag[];
}

export interface EvaluationEvent {
  readonly type: 'evaluation';
  readonly evaluation: Evaluation;
}

export interface WarningEvent {
  readonly type: 'warning';
  /** dead-network: most samples silence every unit; backend: how the backend runs this experiment (e.g. a kernel computed another way);
   *  instrument-unavailable: an instrument could not be measured (the message says which and why). */
  readonly code: 'dead-network' | 'backend' | 'instrument-unavailable';
  readonly message: string;
  readonly globalEpoch: number;
}

export interface FinishedEvent {
  readonly type: 'finished';
  readonly summary: RunSummary;
  readonly seconds: number;
}

export interface FailedEvent {
  readonly type: 'failed';
  readonly error: string;
}

export type RunEvent =
  | RunStartedEvent
  | PhaseChangedEvent
  | ProgressEvent
  | MetricsEvent
  | InstrumentsEvent
  | EvaluationEvent
  | WarningEvent
  | FinishedEvent
  | FailedEvent;

/** The headline numbers of one model. */
export interface ModelSummary {
  readonly cleanAccuracy: number;
  readonly robustAccuracy: number;
  readonly worstCaseRobustAccuracy: number;
  readonly mixtureDirectionAccuracy: number;
  readonly mixtureRatioMedian: number;
  readonly participationRatioMedian: number;
  readonly coherenceMedian: number;
  /** Median coherent mixture share; absent in runs recorded before it was measured. */
  readonly coherentShareMedian?: number;
  /** 95 % Wilson intervals of the accuracies above. */
  readonly intervals: {
    readonly cleanAccuracy: readonly [number, number];
    readonly robustAccuracy: readonly [number, number];
    readonly worstCaseRobustAccuracy: readonly [number, number];
    readonly mixtureDirectionAccuracy: readonly [number, number];
  };
  readonly testSize: number;
}

export interface DecompositionSummary {
  /** Share of neurons with ||beta_i w_i'|| > ||v_i||. */
  readonly shareAboveOne: number;
  readonly beta: NeuronDistribution;
  readonly normRatio: NeuronDistribution;
  readonly cosCleanInit: NeuronDistribution;
  readonly cosRobustInit: NeuronDistribution;
}

export interface UpdateRankSummary {
  readonly relativeChange: number;
  readonly effectiveRank: number;
  readonly stableRank: number;
  readonly singularValues: readonly number[];
  /** Why the spectrum could not be measured (non-finite weights, an SVD that did not converge); the ranks are then NaN. */
  readonly unavailable?: string;
}

/** How one weight layer moved from the clean model to the final one (image models: every layer). */
export interface LayerUpdateSummary extends UpdateRankSummary {
  readonly layer: string;
  /** The clean -> robust decomposition of this layer's units (rows): share with ||beta_i w_i'|| > ||v_i||. */
  readonly shareAboveOne: number;
}

export interface RunSummary {
  /** The model after the clean phase (protocols that have one). */
  readonly afterClean?: ModelSummary;
  readonly final: ModelSummary;
  /** Clean -> robust decomposition and the update W' - W (fine-tune protocol). */
  readonly decomposition?: DecompositionSummary;
  readonly update?: UpdateRankSummary;
  /** Image models: the update W' - W of every weight layer (the first is also `update`). */
  readonly layers?: readonly LayerUpdateSummary[];
  /** Transfer attacks between the model after clean training and the final one (protocols with both). */
  readonly transfer?: TransferSummary;
}

/**
 * A square table of transfer attacks: inputs crafted white-box on each source model (rows), fed to
 * each target model (columns), at the evaluation radius. The diagonal is white-box, an upper bound
 * on the target's robust accuracy; off the diagonal the target never saw the attack.
 */
export interface TransferSummary {
  /** The attack that crafted every input, e.g. "PGD-20 (l2, step 2.5·eps/20)". */
  readonly attack: string;
  readonly eps: number;
  /** The models, in order: rows are sources, columns targets. */
  readonly models: readonly string[];
  /** accuracy[source][target]: the target's robust accuracy on the inputs crafted on the source. */
  readonly accuracy: readonly (readonly Accuracy[])[];
}
