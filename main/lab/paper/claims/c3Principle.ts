/**
 * C3: w = β w′ + v with ||β w′|| > ||v||, far from the init. The per-neuron norm ratio of the
 * small-init runs and the neurons' cosines with their initialisation; when the plan has dimension
 * points, the median cosines against d beside sqrt(2 ln d / d) (issue 7's hypothesis, tested).
 */
import { meanStd, type MeanStd } from '../../../../shared/aggregate.ts';
import { dimensionReference } from '../../../../shared/dimensionReference.ts';
import { paperDefaults } from '../../../../shared/paper.ts';
import type { RunResult } from '../../../../shared/result.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { csvOf, median, ms } from './claimFormat.ts';

/** One point of C3 against dimension: median cosines with the init over neurons, mean ± std over seeds. */
export interface DimensionPoint {
  readonly d: number;
  readonly cosClean: MeanStd;
  readonly cosRobust: MeanStd;
  readonly reference: number;
}

/** The points of C3 against dimension, from the `dim-D` runs of each seed (a seed without one, above paperDefaults.singleSeedAbove, adds nothing). */
export function dimensionPoints(c: ClaimContext): DimensionPoint[] {
  const dimensions = [...(c.specs.request.dimensions ?? [])].sort((a, b) => a - b);
  return dimensions.map((d) => {
    const runs = c.results.map((r) => r[`dim-${d}`]).filter((r): r is RunResult => r !== undefined);
    const medianOf = (pick: (r: RunResult) => readonly number[]) => meanStd(runs.map((r) => median(pick(r))));
    return {
      d,
      cosClean: medianOf((r) => r.summary.decomposition!.cosCleanInit.values),
      cosRobust: medianOf((r) => r.summary.decomposition!.cosRobustInit.values),
      reference: dimensionReference(d),
    };
  });
}

/**
 * What C3 against dimension measured, in words: the medians at the smallest and largest d, the
 * reference there, and whether the cosines fall with d as fast as sqrt(2 ln d / d) (the log-log
 * slope of the medians between the end points against the reference's).
 */
export function dimensionSentence(points: readonly DimensionPoint[]): string {
  if (points.length === 0) return '';
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const at = (p: DimensionPoint) => `d = ${p.d}: ${ms(p.cosClean, 2)} clean, ${ms(p.cosRobust, 2)} fine-tuned, reference ${p.reference.toFixed(2)}`;
  if (points.length === 1) return `Median cos with the init at ${at(first)}.`;
  const slope = (a: number, b: number) => Math.log(b / a) / Math.log(last.d / first.d);
  const ref = slope(first.reference, last.reference);
  const clean = slope(first.cosClean.mean, last.cosClean.mean);
  const robust = slope(first.cosRobust.mean, last.cosRobust.mean);
  const verdict = (s: number) => (!Number.isFinite(s) ? 'cannot be compared' : s <= ref ? 'fall at least as fast as the reference' : s < 0 ? 'fall, more slowly than the reference' : 'do not fall');
  return (
    `Median cos with the init against d (m = d, rho auto, small init, one seed above d = ${paperDefaults.singleSeedAbove}): ${at(first)}; ${at(last)}. ` +
    `Log-log slope from d = ${first.d} to ${last.d}: ${clean.toFixed(2)} clean, ${robust.toFixed(2)} fine-tuned, against ${ref.toFixed(2)} for sqrt(2 ln d / d): the clean cosines ${verdict(clean)}, the fine-tuned ones ${verdict(robust)}.`
  );
}

export function claimC3(c: ClaimContext): BuiltClaim {
  const small = c.results.map((r) => r['small-init']!);
  const mains = mainsOf(c);
  const logRatio = small.flatMap((r) => r.summary.decomposition!.normRatio.values.map((v) => Math.log10(v)));
  const cosClean = small.flatMap((r) => [...r.summary.decomposition!.cosCleanInit.values]);
  const cosRobust = small.flatMap((r) => [...r.summary.decomposition!.cosRobustInit.values]);
  const share = meanStd(small.map((r) => r.summary.decomposition!.shareAboveOne));
  const shareMain = meanStd(mains.map((r) => r.summary.decomposition!.shareAboveOne));
  const absCosClean = median(cosClean.map(Math.abs));
  const absCosRobust = median(cosRobust.map(Math.abs));
  const points = dimensionPoints(c);
  const byDimension = points.length > 0 ? ` Right: ${dimensionSentence(points)}` : '';
  return {
    caption: `Left: log10 of ||beta_i w_i'|| / ||v_i|| per neuron (w after clean training, w' after fine-tuning, beta_i = <w_i, w_i'> / ||w_i'||^2), pooled over seeds; share of neurons above 1: ${ms(share)} (${ms(shareMain)} at init scale ${c.config.model.initScale}). ${points.length > 0 ? 'Middle' : 'Right'}: cosines of the clean and fine-tuned neurons with their initialisation. Init scale ${paperDefaults.smallInitScale}; otherwise ${c.settings}.${byDimension}`,
    check: {
      text: `share of neurons with ||βw′|| > ||v|| = ${ms(share, 2)} (init scale ${paperDefaults.smallInitScale}; ${ms(shareMain, 2)} at ${c.config.model.initScale}); median |cos| with the init: ${absCosClean.toFixed(2)} clean, ${absCosRobust.toFixed(2)} fine-tuned`,
      holds: Number.isFinite(share.mean) ? share.mean > 0.5 : null,
    },
    chart: { kind: 'principle', data: { logRatio, cosClean, cosRobust, ...(points.length > 0 ? { dimension: { d: points.map((p) => p.d), cosClean: points.map((p) => p.cosClean), cosRobust: points.map((p) => p.cosRobust) } } : {}) } },
    csv: csvOf(['quantity', 'value', 'd', 'std', 'seeds'], [
      ...logRatio.map((v) => ['log10_norm_ratio', v, NaN, NaN, NaN] as const),
      ...cosClean.map((v) => ['cos_clean_init', v, NaN, NaN, NaN] as const),
      ...cosRobust.map((v) => ['cos_robust_init', v, NaN, NaN, NaN] as const),
      ...points.flatMap((p) => [
        ['median_cos_clean_init_by_d', p.cosClean.mean, p.d, p.cosClean.std, p.cosClean.n] as const,
        ['median_cos_robust_init_by_d', p.cosRobust.mean, p.d, p.cosRobust.std, p.cosRobust.n] as const,
        ['reference_sqrt_2lnd_over_d', p.reference, p.d, NaN, NaN] as const,
      ]),
    ]),
  };
}
