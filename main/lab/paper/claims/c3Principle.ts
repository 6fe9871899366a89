/**
 * C3: w = β w′ + v with ||β w′|| > ||v||, far from the init. The per-neuron norm ratio of the
 * small-init runs and the neurons' cosines with their initialisation.
 */
import { meanStd } from '../../../../shared/aggregate.ts';
import { paperDefaults } from '../../../../shared/paper.ts';
import { mainsOf, type BuiltClaim, type ClaimContext } from './claimContext.ts';
import { csvOf, median, ms } from './claimFormat.ts';

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
  return {
    caption: `Left: log10 of ||beta_i w_i'|| / ||v_i|| per neuron (w after clean training, w' after fine-tuning, beta_i = <w_i, w_i'> / ||w_i'||^2), pooled over seeds; share of neurons above 1: ${ms(share)} (${ms(shareMain)} at init scale ${c.config.model.initScale}). Right: cosines of the clean and fine-tuned neurons with their initialisation. Init scale ${paperDefaults.smallInitScale}; otherwise ${c.settings}.`,
    check: {
      text: `share of neurons with ||βw′|| > ||v|| = ${ms(share, 2)} (init scale ${paperDefaults.smallInitScale}; ${ms(shareMain, 2)} at ${c.config.model.initScale}); median |cos| with the init: ${absCosClean.toFixed(2)} clean, ${absCosRobust.toFixed(2)} fine-tuned`,
      holds: Number.isFinite(share.mean) ? share.mean > 0.5 : null,
    },
    chart: { kind: 'principle', data: { logRatio, cosClean, cosRobust } },
    csv: csvOf(['quantity', 'value'], [...logRatio.map((v) => ['log10_norm_ratio', v] as const), ...cosClean.map((v) => ['cos_clean_init', v] as const), ...cosRobust.map((v) => ['cos_robust_init', v] as const)]),
  };
}
