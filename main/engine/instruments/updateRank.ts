/**
 * Spectrum of a weight update: is the change from one checkpoint to the next (e.g. clean -> adversarial
 * fine-tuning) a low-rank edit or a dense rewrite of the layer?
 */
import { singularValues as spectrumOf } from './singularValues.ts';

export interface UpdateRank {
  /** ||Delta||_F / ||Wbefore||_F: 0 when Delta = 0, Infinity when only Wbefore is 0. */
  relativeChange: number;
  /** ||Delta||_F. */
  frobeniusNorm: number;
  /** Singular values of Delta, descending, length min(rows, cols). */
  singularValues: Float64Array;
  /** exp(entropy of sigma / sum sigma) (Roy & Vetterli 2007); 0 when Delta = 0. */
  effectiveRank: number;
  /** ||Delta||_F^2 / sigma_max^2; 0 when Delta = 0. */
  stableRank: number;
  /**
   * Why the spectrum is unavailable (a weight is NaN or infinite, or the SVD did not converge);
   * then singularValues is empty and the ranks are NaN, never a number that looks measured.
   */
  unavailable?: string;
}

/**
 * Rank statistics of Delta = Wafter - Wbefore.
 *
 * effectiveRank = exp(-sum_k p_k log p_k) with p_k = sigma_k / sum_j sigma_j: a continuous rank that is
 * 1 for a rank-one update and n for n equal singular values. Singular values below the usual numerical
 * rank floor max(rows, cols) * eps * sigma_max are treated as 0 in the entropy so that SVD round-off
 * does not inflate an exactly low-rank update. stableRank = ||Delta||_F^2 / sigma_max^2 is the robust
 * lower bound on rank that is insensitive to small singular values.
 *
 * @param Wbefore weights before the update, [rows, cols] row-major.
 * @param Wafter weights after the update, [rows, cols] row-major.
 * @param rows number of rows (neurons).
 * @param cols number of columns (input dimension).
 */
export function updateRank(
  Wbefore: ArrayLike<number>,
  Wafter: ArrayLike<number>,
  rows: number,
  cols: number,
): UpdateRank {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
  const size = rows * cols;
  if (Wbefore.length < size) throw new RangeError(`Wbefore has length ${Wbefore.length}, expected ${size}`);
  if (Wafter.length < size) throw new RangeError(`Wafter has length ${Wafter.length}, expected ${size}`);

  // Non-finite weights (a diverged run) are never handed to the SVD: its answer would be NaN
  // dressed as a spectrum. The instrument is reported as unavailable, with the reason.
  const delta = new Float64Array(size);
  let nonFinite = 0;
  let dd = 0;
  let bb = 0;
  for (let k = 0; k < size; k++) {
    const before = Wbefore[k] as number;
    const diff = (Wafter[k] as number) - before;
    if (!Number.isFinite(before) || !Number.isFinite(diff)) nonFinite++;
    delta[k] = diff;
    dd += diff * diff;
    bb += before * before;
  }
  const n = Math.min(rows, cols);
  if (nonFinite > 0 || !Number.isFinite(dd) || !Number.isFinite(bb)) {
    const reason =
      nonFinite > 0
        ? `${nonFinite} of the ${size} entries of W or W' are NaN or infinite (the training diverged)`
        : "the weights are too large for ||W' - W||_F to be finite in float64";
    return { relativeChange: NaN, frobeniusNorm: NaN, singularValues: new Float64Array(0), effectiveRank: NaN, stableRank: NaN, unavailable: `update spectrum unavailable: ${reason}` };
  }
  const frobeniusNorm = Math.sqrt(dd);
  const relativeChange = dd === 0 ? 0 : bb === 0 ? Infinity : frobeniusNorm / Math.sqrt(bb);

  if (dd === 0) {
    return { relativeChange, frobeniusNorm, singularValues: new Float64Array(n), effectiveRank: 0, stableRank: 0 };
  }

  const spectrum = spectrumOf(delta, rows, cols);
  if (spectrum.values === null) {
    return { relativeChange, frobeniusNorm, singularValues: new Float64Array(0), effectiveRank: NaN, stableRank: NaN, unavailable: `update spectrum unavailable: ${spectrum.reason}` };
  }
  const singularValues = spectrum.values;

  const sigmaMax = singularValues[0] as number;
  const floor = Math.max(rows, cols) * Number.EPSILON * sigmaMax;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const s = singularValues[k] as number;
    if (s > floor) total += s;
  }
  let entropy = 0;
  for (let k = 0; k < n; k++) {
    const s = singularValues[k] as number;
    if (s > floor) {
      const p = s / total;
      entropy -= p * Math.log(p);
    }
  }

  return {
    relativeChange,
    frobeniusNorm,
    singularValues,
    effectiveRank: Math.exp(entropy),
    stableRank: dd / (sigmaMax * sigmaMax),
  };
}
