/**
 * When a measured difference counts: the noise floors of an accuracy on the test set and of a
 * median coherent share over neurons, and C1's and C2's criteria built on them (below the floor
 * a difference is noise; a claim that was not measured is null, never false).
 */

/**
 * Two binomial standard errors of an accuracy at p = 1/2 (the widest) on the test set: below it a
 * difference of accuracies is noise (0.022 at n = 2000).
 */
export const accuracyNoise = (testSize: number) => 2 * Math.sqrt(0.25 / testSize);

/**
 * How far a median over m neurons of a coherent share that is pure chance can stray from 0: one
 * random neuron's kappa has standard deviation about 1/sqrt(D), the median of m of them about
 * 1.25/sqrt(m D); two of those (0.020 at m = D = 128).
 */
export const kappaNoise = (width: number, atoms: number) => 2 * (1.25 / Math.sqrt(width * atoms));

/** C1's criterion: kappa rose by more than chance, and robust accuracy is below clean by more than noise (null: not measured). */
export function accumulationHolds(kappa: { init: number; afterClean: number }, accuracy: { clean: number; robust: number }, noise: { kappa: number; accuracy: number }): boolean | null {
  const rise = kappa.afterClean - kappa.init;
  const gap = accuracy.clean - accuracy.robust;
  return Number.isFinite(rise) && Number.isFinite(gap) ? rise > noise.kappa && gap > noise.accuracy : null;
}

/** C2's criterion: the worst-case robust accuracy rose by more than the test set's noise (null: not measured). */
export function purificationHolds(before: number, after: number, testSize: number): boolean | null {
  return Number.isFinite(before) && Number.isFinite(after) ? after - before > accuracyNoise(testSize) : null;
}
