/**
 * A dead network is named, not trained. In the relative threshold mode a neuron fires when
 * |<w_i/||w_i||, x>| > rho, and that projection has a typical size of sqrt(k/d) at init:
 * a rho many times that leaves every neuron silent on every sample,
 * f = 0, and no gradient at all. The check measures the share of samples on which every neuron
 * is silent and, when it is most of them, says which knobs fix it.
 */
import { isSparseCoding, type ResolvedExperiment } from '../../../shared/config.ts';
import { autoThresholdRatio, defaultAutoScale } from '../../../shared/thresholdRatio.ts';

/** Share of silent samples above which the network counts as dead. */
export const deadNetworkThreshold = 0.5;

/** The message naming the knobs, for a network silent on `silentFraction` of the samples. */
export function deadNetworkMessage(config: ResolvedExperiment, silentFraction: number, when: string): string {
  const percent = (100 * silentFraction).toFixed(0);
  if (!isSparseCoding(config)) {
    return `The network is dead ${when}: on ${percent} % of samples every hidden unit is silent, so the output is constant and there is no gradient. Fix: raise model.initScale (${config.model.initScale}), lower train.optimizer.lr (${config.train.optimizer.lr})${config.model.kind === 'mlp' && config.model.activation === 'symmetric-threshold' ? `, or lower model.thresholdRatio (${config.model.thresholdRatio})` : ''}.`;
  }
  const { task, model } = config;
  const typical = Math.sqrt(task.k / task.d);
  const knobs: string[] = [];
  if (model.threshold.mode === 'relative' && model.threshold.autoScale !== undefined && model.threshold.autoScale !== null) {
    knobs.push(
      `lower model.threshold.autoScale (c = ${model.threshold.autoScale}, so rho = c · sqrt(k/d) = ${model.threshold.ratio.toFixed(3)}); a neuron fires when |<w_i/||w_i||, x>| > rho, and that projection is typically sqrt(k/d) = ${typical.toFixed(3)} here, so try c <= ${defaultAutoScale}`,
    );
  } else if (model.threshold.mode === 'relative') {
    knobs.push(
      `lower model.threshold.ratio (rho = ${model.threshold.ratio}), or set it to "auto" (rho = c · sqrt(k/d), ${autoThresholdRatio(defaultAutoScale, task.k, task.d).toFixed(3)} here, which shrinks as d grows); a neuron fires when |<w_i/||w_i||, x>| > rho, and that projection is typically sqrt(k/d) = ${typical.toFixed(3)} here, so try rho <= ${(2.5 * typical).toFixed(2)}`,
    );
  } else {
    knobs.push(`lower the threshold model.threshold.value (b = ${model.threshold.value}) or raise model.initScale (${model.initScale}) so that |<w_i, x>| exceeds b`);
  }
  knobs.push(`the noise task.noise (sigma = ${task.noise}) also sets the size of <w_i, x>`);
  return `The network is dead ${when}: on ${percent} % of samples every neuron is below its threshold, so f = 0 and there is no gradient. Fix: ${knobs.join('; ')}.`;
}
