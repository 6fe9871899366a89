/**
 * C4: linear models, quadratics, random features and the NTK cannot be robust there. The network
 * beside each lower-bound baseline, each trained clean and adversarially with the same data and eps.
 */
import { meanStd } from '../../../../shared/aggregate.ts';
import { CLEAN, ROBUST } from '../../../../shared/charts/palette.ts';
import { baselineDescriptions, learnedTolerance, lowerBoundCheck } from '../../lowerBound.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { csvOf, ms } from './claimFormat.ts';

/** C4: the network beside each lower-bound baseline; the check is lowerBound.ts's. */
export function claimC4(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const first = c.baselines[0]!;
  const kinds = first.map((b) => `${b.kind}, ${b.training}`);
  const networkRobust = meanStd(mains.map((r) => r.summary.final.worstCaseRobustAccuracy));
  const networkClean = meanStd(mains.map((r) => r.summary.final.cleanAccuracy));
  const baseRobust = kinds.map((_, k) => meanStd(c.baselines.map((b) => b[k]!.summary.worstCaseRobustAccuracy)));
  const baseClean = kinds.map((_, k) => meanStd(c.baselines.map((b) => b[k]!.summary.cleanAccuracy)));
  const check = lowerBoundCheck(
    c.config.eval.eps,
    { clean: networkClean, robust: networkRobust },
    kinds.map((name, k) => ({ name, clean: baseClean[k]!, robust: baseRobust[k]! })),
  );
  const described = [...new Set(first.map((b) => b.kind))].map((kind) => baselineDescriptions[kind]);
  const unlearned = check.notLearned.length > 0 ? ` Did not learn (clean accuracy more than ${learnedTolerance} below the network's, so they do not count): ${check.notLearned.join('; ')}.` : '';
  return {
    caption: `Clean and worst-case robust accuracy at eps ${c.config.eval.eps} of the network after clean -> adversarial fine-tuning and of the lower-bound baselines (${described.join('; ')}), each trained clean and adversarially with the same data and eps. Network: ${ms(networkRobust)}.${unlearned} ${c.settings}.`,
    check: { text: check.text, holds: check.holds },
    chart: {
      kind: 'bars',
      data: {
        categories: ['network, fine-tuned', ...kinds],
        series: [
          { name: 'clean accuracy', color: CLEAN, values: [networkClean, ...baseClean] },
          { name: `robust accuracy (worst case, eps ${c.config.eval.eps})`, color: ROBUST, values: [networkRobust, ...baseRobust] },
        ],
        y: 'accuracy',
      },
    },
    csv: csvOf(
      ['model', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'],
      [['network, fine-tuned', networkClean.mean, networkClean.std, networkRobust.mean, networkRobust.std], ...kinds.map((k, i) => [k, baseClean[i]!.mean, baseClean[i]!.std, baseRobust[i]!.mean, baseRobust[i]!.std] as const)],
    ),
  };
}
