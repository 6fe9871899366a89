/**
 * C1: clean training leaves coherent dense mixtures. The median coherent share κ, coherence and
 * mixture ratio over training, and the check that κ rose by more than chance while robust accuracy
 * stayed below clean by more than noise.
 */
import { meanStd } from '../../../../shared/aggregate.ts';
import { coherentShareOf, hasDictionaryInstruments } from '../../../../shared/events.ts';
import type { RunResult } from '../../../../shared/result.ts';
import { accumulationHolds, accuracyNoise, kappaNoise } from './claimCriteria.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { across, csvOf, evaluation, ms, snapshotAt } from './claimFormat.ts';

export function claimC1(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const epochs = mains[0]!.instruments.map((e) => e.globalEpoch);
  const dictionary = (r: RunResult, i: number) => {
    const s = r.instruments[i];
    return s && hasDictionaryInstruments(s) ? s : undefined;
  };
  const mixture = across(mains, epochs.length, (r, i) => dictionary(r, i)?.mixtureRatio.summary.median);
  const coherence = across(mains, epochs.length, (r, i) => dictionary(r, i)?.coherence.summary.median);
  const share = across(mains, epochs.length, (r, i) => {
    const s = dictionary(r, i);
    return s ? coherentShareOf(s).summary.median : undefined;
  });
  const boundary = c.config.train.cleanEpochs;
  const atBoundary = snapshotAt(epochs, boundary);
  const atInit = snapshotAt(epochs, 0);
  const clean = meanStd(mains.map((r) => r.summary.afterClean!.cleanAccuracy));
  const robust = meanStd(mains.map((r) => r.summary.afterClean!.robustAccuracy));
  const attack = evaluation(mains[0]!, 'after-clean').attacks[0] ?? 'the evaluation attack';
  const shareBoundary = share[atBoundary]!;
  const shareInit = share[atInit]!;
  const kNoise = kappaNoise(c.config.model.width, c.config.task.atoms ?? c.config.task.d);
  const aNoise = accuracyNoise(c.config.eval.testSize);
  const rise = shareBoundary.mean - shareInit.mean;
  const gap = clean.mean - robust.mean;
  return {
    caption: `Median over neurons of the coherent mixture share κ (the part of each neuron's mixture along the label direction, as a share of the neuron: coherence × √(mixture ratio)), of the mixture coherence (dashed, same colour) and of the mixture ratio (energy outside each neuron's principal atom; grey dashed), over training; dashed vertical line: the end of clean training. The mixture ratio falls from about 1 because a random init is fully mixed and clean training grows the principal part faster than the mixture; the coherent part grows. After clean training: clean accuracy ${ms(clean)}, robust accuracy ${ms(robust)} (${attack}) at eps ${c.config.eval.eps}, median κ ${ms(shareBoundary)}. ${c.settings}.`,
    check: {
      text: `after clean training: median κ ${ms(shareBoundary, 3)} (init ${ms(shareInit, 3)}: a rise of ${rise.toFixed(3)}, chance ±${kNoise.toFixed(3)}); clean accuracy ${ms(clean)} vs robust ${ms(robust)} (a gap of ${gap.toFixed(3)}, noise ±${aNoise.toFixed(3)}); median mixture ratio ${ms(mixture[atBoundary]!, 2)}, coherence ${ms(coherence[atBoundary]!, 2)}`,
      holds: accumulationHolds({ init: shareInit.mean, afterClean: shareBoundary.mean }, { clean: clean.mean, robust: robust.mean }, { kappa: kNoise, accuracy: aNoise }),
    },
    chart: { kind: 'mixtures', data: { epochs, coherentShare: share, mixtureRatio: mixture, coherence, boundary } },
    csv: csvOf(
      ['epoch', 'coherent_share_mean', 'coherent_share_std', 'mixture_ratio_mean', 'mixture_ratio_std', 'coherence_mean', 'coherence_std'],
      epochs.map((e, i) => [e, share[i]!.mean, share[i]!.std, mixture[i]!.mean, mixture[i]!.std, coherence[i]!.mean, coherence[i]!.std]),
    ),
  };
}
