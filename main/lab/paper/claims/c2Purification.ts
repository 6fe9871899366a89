/**
 * C2: adversarial fine-tuning purifies the neurons and makes them robust. Worst-case robust
 * accuracy against eps after clean training and after fine-tuning, and the check that it rose by
 * more than the test set's noise.
 */
import { meanStd } from '../../../../shared/aggregate.ts';
import type { RunResult } from '../../../../shared/result.ts';
import { accuracyNoise, purificationHolds } from './claimCriteria.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { across, csvOf, evaluation, ms } from './claimFormat.ts';

export function claimC2(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const eps = evaluation(mains[0]!, 'final').worstCase.eps;
  const mixCurve = (r: RunResult, label: 'after-clean' | 'final') => evaluation(r, label).curves.find((curve) => curve.attack.startsWith('mixture direction'));
  const worstClean = across(mains, eps.length, (r, i) => evaluation(r, 'after-clean').worstCase.accuracy[i]?.estimate);
  const worstFinal = across(mains, eps.length, (r, i) => evaluation(r, 'final').worstCase.accuracy[i]?.estimate);
  const mixClean = across(mains, eps.length, (r, i) => mixCurve(r, 'after-clean')?.accuracy[i]?.estimate);
  const mixFinal = across(mains, eps.length, (r, i) => mixCurve(r, 'final')?.accuracy[i]?.estimate);
  const change = meanStd(mains.map((r) => r.summary.update!.relativeChange));
  const at = eps.indexOf(c.config.eval.eps);
  const before = worstClean[at] ?? meanStd([]);
  const after = worstFinal[at] ?? meanStd([]);
  const attacks = evaluation(mains[0]!, 'final').attacks.join(', ');
  const noise = accuracyNoise(c.config.eval.testSize);
  return {
    caption: `Robust accuracy against eps (${c.config.eval.norm}), per-sample worst case over ${attacks}, after clean training and after adversarial fine-tuning from it; dashed: the mixture-direction attack alone. At eps ${c.config.eval.eps}: ${ms(before)} -> ${ms(after)}, while the weights move by ||W' - W|| / ||W|| = ${ms(change)}. ${c.settings}.`,
    check: {
      text: `worst-case robust accuracy at eps ${c.config.eval.eps}: ${ms(before)} → ${ms(after)} (a gain of ${after.mean - before.mean >= 0 ? '+' : ''}${(after.mean - before.mean).toFixed(3)}, noise ±${noise.toFixed(3)} at n = ${c.config.eval.testSize}), with ||W′ − W|| / ||W|| = ${ms(change, 2)}`,
      holds: purificationHolds(before.mean, after.mean, c.config.eval.testSize),
    },
    chart: { kind: 'purification', data: { eps, afterClean: worstClean, final: worstFinal, mixtureAfterClean: mixClean, mixtureFinal: mixFinal } },
    csv: csvOf(
      ['eps', 'after_clean_mean', 'after_clean_std', 'final_mean', 'final_std', 'mixture_after_clean_mean', 'mixture_final_mean'],
      eps.map((e, i) => [e, worstClean[i]!.mean, worstClean[i]!.std, worstFinal[i]!.mean, worstFinal[i]!.std, mixClean[i]!.mean, mixFinal[i]!.mean]),
    ),
  };
}
