/**
 * The paper's five claims (C1-C5; docs/glossary.md defines their quantities) as the Paper page and `lab figures` both
 * see them: who each claim is, what it says, which runs it rests on, and the shapes in which the
 * engine side reports a plan (the runs needed, and which exist) and the figures built from them.
 *
 * One figure per claim, each aggregated over seeds 0..N-1 as mean ± std:
 *   main        the preset's clean -> adversarial fine-tune, per seed          C1 C2 C3 C4 C5
 *   small-init  the same at init scale 0.05 (the paper's regime for C3)        C3
 *   rank-r      low-rank fine-tunes W' = W + U V^T at each rank r              C5
 *   dim-d       small-init at d (m = d, rho auto, samples x d / d0), if asked  C3 (cosines vs d)
 *   baselines   linear / quadratic / random features / tangent model,          C4 (kept beside the runs)
 *               each clean and adversarial
 */
import type { ResolvedExperiment } from './config.ts';
import type { ClaimChart } from './charts/claims.ts';

export const claimIds = ['C1', 'C2', 'C3', 'C4', 'C5'] as const;

/**
 * C4 counts a baseline only if it learned: its clean accuracy at most this far below the
 * fine-tuned network's (a baseline that never learned is not robust, but says nothing).
 */
export const baselineLearnedTolerance = 0.05;
export type ClaimId = (typeof claimIds)[number];

export interface ClaimMeta {
  readonly id: ClaimId;
  /** The stem of its files (`C1-mixtures.svg`, `.png`, `.pdf`, `.csv`, `.txt`), as `lab figures` writes them. */
  readonly fileStem: string;
  readonly title: string;
  /** The claim in a few sentences, after the paper. */
  readonly statement: string;
  /** What a figure's check line tests (its `holds`). */
  readonly criterion: string;
  /** The paper size its figure is laid out for: one column, or both (two panels, many bars). */
  readonly size: 'column' | 'wide';
}

export const claimMeta: Readonly<Record<ClaimId, ClaimMeta>> = {
  C1: {
    id: 'C1',
    fileStem: 'C1-mixtures',
    size: 'column',
    title: 'C1. Clean training leaves coherent dense mixtures',
    statement:
      'Clean training learns well-generalising features, but each neuron also accumulates a small dense mixture of other features. The mixtures of different neurons line up with the label direction, so a small perturbation along them moves every neuron at once: high clean accuracy, low robust accuracy.',
    criterion:
      'holds when the median coherent mixture share κ after clean training exceeds its value at init by more than chance allows (twice the spread of a median of m random neurons, 2 × 1.25/√(m·D), about 0.02 at m = D = 128), and robust accuracy is below clean accuracy by more than the test set\'s noise (two binomial standard errors, 2√(0.25/n), about 0.022 at n = 2000); means over seeds',
  },
  C2: {
    id: 'C2',
    fileStem: 'C2-purification',
    size: 'column',
    title: 'C2. Adversarial fine-tuning purifies the neurons and makes them robust',
    statement:
      'Adversarial training (even one-step FGM) started from the clean weights removes the dense mixtures and keeps the principal features. Robust accuracy at the same radius rises a lot while the weights move only a little.',
    criterion:
      "holds when the worst-case robust accuracy at the evaluation eps rises, from after clean training to after fine-tuning, by more than the test set's noise: two binomial standard errors at p = 1/2, 2√(0.25/n), about 0.022 at n = 2000 (mean over seeds); a gain below that could be the draw of the test set",
  },
  C3: {
    id: 'C3',
    fileStem: 'C3-principle',
    size: 'wide',
    title: 'C3. w = β w′ + v with ||β w′|| > ||v||, far from the init',
    statement:
      "For most neurons, the clean weights decompose as w = β w′ + v with ||β w′|| > ||v||, where w′ is the neuron after adversarial fine-tuning; both w and w′ are nearly uncorrelated with the initialisation w⁰.",
    criterion: "holds when more than half of the neurons have ||β w′|| > ||v|| (at init scale 0.05, mean over seeds): then the robust feature, not the leftover, is most of a typical clean neuron",
  },
  C4: {
    id: 'C4',
    fileStem: 'C4-lower-bound',
    size: 'wide',
    title: 'C4. Linear models, quadratics, random features and the NTK cannot be robust there',
    statement:
      "Linear classifiers, low-degree polynomials and the network's neural tangent kernel cannot be robust at that radius, whatever the training algorithm.",
    criterion:
      `holds when every baseline, trained clean or adversarially, learned (clean accuracy at most ${baselineLearnedTolerance} below the fine-tuned network's) and stays below the network in worst-case robust accuracy; undecided when a baseline did not learn and none that did is as robust`,
  },
  C5: {
    id: 'C5',
    fileStem: 'C5-low-rank',
    size: 'column',
    title: 'C5. A low-rank adversarial update is enough',
    statement: 'The adversarial fine-tuning update can be low-rank: W′ = W + U Vᵀ with U, V of a small rank r and W frozen recovers most of what the full update gains (v4 of the paper).',
    criterion:
      "holds when some rank r of the sweep recovers at least half of the full update's gain in worst-case robust accuracy (\"most\" of it); undecided when the full gain is within the test set's noise (2√(0.25/n)), since a share of noise says nothing",
  },
};

/** What the page and the CLI start from unless told otherwise. */
export const paperDefaults = {
  /** The page's default; `lab figures` keeps `quick` as its own default (a fast first look). */
  preset: 'flagship',
  seeds: 3,
  maxSeeds: 10,
  ranks: [1, 2, 4, 8] as readonly number[],
  maxRanks: 8,
  /** The init scale of the small-init runs: the paper's regime for C3. */
  smallInitScale: 0.05,
  /**
   * C3 against dimension (none unless asked: `--dimensions`, the page's field): the small-init
   * run at each d, with m = d, rho auto and the training set scaled with d.
   */
  dimensions: [] as readonly number[],
  maxDimensions: 8,
  /** Above this d a dimension point runs seed 0 only (a d = 1024 run is tens of minutes on one thread). */
  singleSeedAbove: 512,
} as const;


/** Where one needed thing stands. */
export type PaperItemStatus = 'finished' | 'running' | 'queued' | 'missing' | 'failed';

interface PaperItemBase {
  /** `main`, `small-init`, `rank-4`, or `baselines`. */
  readonly key: string;
  readonly seed: number;
  /** "rank-4 · seed 1" */
  readonly label: string;
  readonly claims: readonly ClaimId[];
  readonly status: PaperItemStatus;
}

/** A run of the store that the claims need. */
export interface PaperRunItem extends PaperItemBase {
  readonly kind: 'run';
  /** The matching run: finished (reused), or queued/running now; null while missing. */
  readonly runId: string | null;
  readonly configHash: string;
  /** A stopped attempt at exactly this config (interrupted, cancelled, failed): "Run what's missing" resumes it. */
  readonly previous: { readonly id: string; readonly status: string; readonly checkpointEpoch: number | null; readonly error: string | null } | null;
  /**
   * The code version of a finished run of the same config by other code, when this one is not
   * finished: it is not reused (the code that made it differs), but the user may want to know.
   */
  readonly otherCode: string | null;
  /** Training seconds expected for a missing run, from the measured throughput (null: unknown). */
  readonly estimateSeconds: number | null;
}

/** C4's baselines of one seed: trained beside the runs and kept in the store (not runs themselves). */
export interface PaperBaselineItem extends PaperItemBase {
  readonly kind: 'baselines';
  /** Epochs trained so far of all (while running). */
  readonly progress: { readonly done: number; readonly total: number } | null;
  readonly error: string | null;
}

export type PaperItem = PaperRunItem | PaperBaselineItem;

/** The runs (and baselines) the five claims need, and which of them exist. */
export interface PaperPlan {
  readonly preset: string;
  readonly seeds: readonly number[];
  readonly ranks: readonly number[];
  /** The main run's resolved config (seed 0): what the figures' settings say. */
  readonly config: ResolvedExperiment;
  /** The settings line every caption ends with. */
  readonly settings: string;
  readonly items: readonly PaperItem[];
  readonly counts: {
    readonly needed: number;
    readonly finished: number;
    readonly active: number;
    readonly missing: number;
    /** Of the runs not finished, those finished by other code versions (not reused). */
    readonly otherCode: number;
  };
  /** Training seconds of the missing runs (null: throughput unknown); the baselines come on top. */
  readonly estimateSeconds: number | null;
  /** The same figures without a window: `npm run lab -- figures --out DIR ...`. */
  readonly command: string;
}

/** The numeric check of a claim: one line of numbers, and whether they go the claim's way. */
export interface ClaimCheck {
  readonly text: string;
  /** null: the numbers cannot say (a full update that gains nothing, say). */
  readonly holds: boolean | null;
}

export interface ReadyClaim extends ClaimMeta {
  readonly status: 'ready';
  /** What the figure shows, with the settings and seeds. */
  readonly caption: string;
  readonly check: ClaimCheck;
  readonly chart: ClaimChart;
  /** The numbers behind the figure. */
  readonly csv: string;
  /** The runs it was built from. */
  readonly runIds: readonly string[];
}

export interface PendingClaim extends ClaimMeta {
  readonly status: 'pending';
  /** Things it rests on (runs and baseline sets), and how many of them are finished. */
  readonly needed: number;
  readonly done: number;
  /** Labels of what it still waits for ("small-init · seed 1", "baselines · seed 0"). */
  readonly waitingFor: readonly string[];
  /** Of those, the ones whose last attempt failed or stopped (they will not finish by themselves). */
  readonly stopped: readonly string[];
}

export type PaperClaim = ReadyClaim | PendingClaim;

export interface PaperFigures {
  readonly settings: string;
  readonly seeds: readonly number[];
  readonly claims: readonly PaperClaim[];
}

/** A file of the Paper page's downloads, carried in the API's JSON as base64. */
export interface PaperFile {
  readonly fileName: string;
  readonly contentType: string;
  readonly base64: string;
}
