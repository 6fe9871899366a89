/**
 * C5: a low-rank adversarial update is enough. Clean and robust accuracy against the rank of the
 * fine-tune's update, and the check that some rank recovers most of the full update's robust gain.
 */
import { meanStd } from '../../../../shared/aggregate.ts';
import { FOREGROUND } from '../../../../shared/charts/claims.ts';
import { CLEAN, ROBUST } from '../../../../shared/charts/palette.ts';
import type { ClaimCheck } from '../../../../shared/paper.ts';
import type { RunResult } from '../../../../shared/result.ts';
import { accuracyNoise } from './claimCriteria.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { across, csvOf, ms, pct } from './claimFormat.ts';

/** The share of the full update's robust gain that a rank must recover for C5's check: "most" of it. */
const recoveredShare = 0.5;

export function claimC5(c: ClaimContext): BuiltClaim {
  const ranks = c.specs.request.ranks;
  const fullRank = Math.min(c.config.task.d, c.config.model.width);
  const rankAxis = [...ranks, fullRank];
  const pick = (r: Readonly<Record<string, RunResult>>, i: number) => (i < ranks.length ? r[`rank-${ranks[i]}`]! : r.main!);
  const rankRobust = across(c.results, rankAxis.length, (r, i) => pick(r, i).summary.final.worstCaseRobustAccuracy);
  const rankClean = across(c.results, rankAxis.length, (r, i) => pick(r, i).summary.final.cleanAccuracy);
  const mains = mainsOf(c);
  const before = meanStd(mains.map((r) => r.summary.afterClean!.worstCaseRobustAccuracy));
  const effRank = meanStd(mains.map((r) => r.summary.update!.effectiveRank));
  const stableRank = meanStd(mains.map((r) => r.summary.update!.stableRank));
  const full = rankRobust[rankAxis.length - 1]!;
  const gain = full.mean - before.mean;
  // Below about two binomial standard errors of an accuracy on the test set, a gain is noise,
  // and a share of it says nothing.
  const noise = accuracyNoise(c.config.eval.testSize);
  let check: ClaimCheck;
  if (!(gain > noise)) {
    check = { text: `the full update's robust gain (${ms(before)} → ${ms(full)}) is within the test set's noise (±${noise.toFixed(3)} at n = ${c.config.eval.testSize}): nothing for a low rank to recover`, holds: null };
  } else {
    const shares = ranks.map((_, i) => (rankRobust[i]!.mean - before.mean) / gain);
    const enough = shares.findIndex((s) => s >= recoveredShare);
    const bestIndex = shares.reduce((b, s, i) => (s > shares[b]! ? i : b), 0);
    check =
      enough >= 0
        ? { text: `a rank-${ranks[enough]} update recovers ${pct(shares[enough]!)} of the full update's robust gain (${ms(before)} → ${ms(rankRobust[enough]!)}, full ${ms(full)})`, holds: true }
        : { text: `no rank up to ${ranks[ranks.length - 1]} recovers ${pct(recoveredShare)} of the full update's robust gain (best: rank ${ranks[bestIndex]}, ${pct(shares[bestIndex]!)}; ${ms(before)} → full ${ms(full)})`, holds: false };
  }
  return {
    caption: `Clean and worst-case robust accuracy at eps ${c.config.eval.eps} after adversarial fine-tuning of W' = W + U V^T with W frozen and U, V of rank r (the last point: the full update, r = ${fullRank}); robust accuracy before fine-tuning ${ms(before)}. The full update W' - W has effective rank ${ms(effRank, 1)} and stable rank ${ms(stableRank, 2)}. ${c.settings}.`,
    check,
    chart: {
      kind: 'lines',
      curves: [
        { name: 'clean accuracy', color: CLEAN, x: rankAxis, values: rankClean },
        { name: 'robust accuracy (worst case)', color: ROBUST, x: rankAxis, values: rankRobust },
        { name: 'robust before fine-tuning', color: FOREGROUND, x: rankAxis, values: rankAxis.map(() => before), dashed: true },
      ],
      axes: { x: 'rank r of the update', y: 'accuracy', yMin: 0, yMax: 1, xLog: true },
    },
    csv: csvOf(['rank', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'], rankAxis.map((r, i) => [r, rankClean[i]!.mean, rankClean[i]!.std, rankRobust[i]!.mean, rankRobust[i]!.std])),
  };
}
