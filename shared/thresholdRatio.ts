/**
 * The auto threshold ratio of the two-layer net: rho = c · sqrt(k / d).
 *
 * A neuron fires when |<w_i/||w_i||, x>| > rho. For x = M z + noise with k active atoms of unit
 * size, that projection has a typical size of sqrt(k / d) for a direction not aligned with the
 * signal (a random w_i at init; the dense mixture part later), and of order 1 for a learned
 * feature. A fixed rho therefore silences every neuron once sqrt(k / d) falls well below it (the
 * dead-network check names that); scaling rho with sqrt(k / d) keeps the share of neurons a
 * typical sample wakes the same at every d. c = 2.5 gives the reference points: rho 0.49 at
 * d = 128, k = 5 (the flagship's 0.5) and 0.25 at d = 512, k = 5.
 */

/** c in rho = c · sqrt(k / d) when `model.threshold.autoScale` is not given. */
export const defaultAutoScale = 2.5;

/** rho = c · sqrt(k / d). */
export function autoThresholdRatio(c: number, k: number, d: number): number {
  return c * Math.sqrt(k / d);
}

/** "rho = 0.247 (auto: 2.5 · sqrt(5/512))", or "rho = 0.5" for a ratio given as a number. */
export function thresholdRatioText(threshold: { ratio: number; autoScale?: number | null | undefined }, task: { k: number; d: number }): string {
  const rho = `rho = ${Number(threshold.ratio.toPrecision(3))}`;
  return threshold.autoScale === undefined || threshold.autoScale === null ? rho : `${rho} (auto: ${threshold.autoScale} · sqrt(${task.k}/${task.d}))`;
}
