/**
 * Claim C4's check (docs/science.md, C4): no lower-bound baseline is as robust as the
 * fine-tuned network. The Paper page (paper/claims/c4LowerBound.ts) and `lab baselines` (cli/verbs/baselines.ts)
 * both judge it here.
 *
 * A baseline that never learned the task says nothing about the claim: random features that
 * end at a loss of 0.63 (against log 2 = 0.69 for a constant guess) are not robust, but they
 * are not accurate either, and "below the network" would hold for a constant classifier. So a
 * baseline counts only if it learned: its clean accuracy is within `learnedTolerance` of the
 * network's (or above it). Then
 *   - a counted baseline at or above the network's worst-case robust accuracy: C4 does not hold;
 *   - otherwise, any baseline that did not learn: undecided, naming them (had they learned,
 *     they might have been robust);
 *   - otherwise: C4 holds.
 */
import type { MeanStd } from '../../shared/aggregate.ts';
import { baselineLearnedTolerance, type ClaimCheck } from '../../shared/paper.ts';
import type { BaselineKind } from '../engine/baselines.ts';

/** How far below the network's clean accuracy a baseline may be and still count as having learned. */
export const learnedTolerance = baselineLearnedTolerance;

/** Each baseline in words, for captions: every kind that runs must be named. */
export const baselineDescriptions: Readonly<Record<BaselineKind, string>> = {
  linear: 'a linear classifier',
  quadratic: 'a degree-2 polynomial (quadratic) classifier',
  'random-features': 'random features (the first layer frozen at init, output weights trained)',
  tangent: 'the network linearised at its init (its neural tangent model, trained in its tangent space)',
};

/** One model's accuracies at the evaluation eps, mean ± std over seeds. */
export interface LowerBoundModel {
  /** "linear, clean" */
  readonly name: string;
  readonly clean: MeanStd;
  /** Worst case over every attack that ran. */
  readonly robust: MeanStd;
}

export interface LowerBoundCheck extends ClaimCheck {
  /** The baselines whose clean accuracy is more than `learnedTolerance` below the network's. */
  readonly notLearned: readonly string[];
}

const fmt = (m: MeanStd) => (m.n > 1 ? `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}` : m.mean.toFixed(3));

export function lowerBoundCheck(eps: number, network: Omit<LowerBoundModel, 'name'>, baselines: readonly LowerBoundModel[]): LowerBoundCheck {
  const values = [network, ...baselines].flatMap((m) => [m.clean.mean, m.robust.mean]);
  if (baselines.length === 0 || !values.every(Number.isFinite)) {
    return { text: `worst-case robust accuracy at eps ${eps}: network ${fmt(network.robust)}; a baseline or the network has no value`, holds: null, notLearned: [] };
  }
  // Accuracies are counts over the test set: 1e-9 keeps a baseline exactly at the tolerance in.
  const learnedIt = (b: LowerBoundModel) => network.clean.mean - b.clean.mean <= learnedTolerance + 1e-9;
  const learned = baselines.filter(learnedIt);
  const notLearned = baselines.filter((b) => !learnedIt(b));
  const lead = `worst-case robust accuracy at eps ${eps}: network ${fmt(network.robust)} (clean ${fmt(network.clean)})`;
  const best = learned.reduce<LowerBoundModel | null>((top, b) => (top === null || b.robust.mean > top.robust.mean ? b : top), null);
  const bestText = best ? `best baseline that learned (${best.name}) ${fmt(best.robust)} (clean ${fmt(best.clean)})` : 'no baseline learned';
  if (best && best.robust.mean >= network.robust.mean) return { text: `${lead}; ${bestText}: as robust as the network`, holds: false, notLearned: notLearned.map((b) => b.name) };
  if (notLearned.length > 0) {
    const list = notLearned.map((b) => `${b.name} (clean ${fmt(b.clean)})`).join(', ');
    return {
      text: `${lead}; ${bestText}; undecided: ${notLearned.length === 1 ? 'this baseline' : 'these baselines'} did not learn (clean accuracy more than ${learnedTolerance} below the network's): ${list}`,
      holds: null,
      notLearned: notLearned.map((b) => b.name),
    };
  }
  return { text: `${lead}; ${bestText}`, holds: true, notLearned: [] };
}
