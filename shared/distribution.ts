/**
 * Small, dependency-free descriptive statistics for per-neuron instrument outputs. Runs anywhere
 * (no node:* and no main/ imports) so the same numbers can be computed in the engine and in a view.
 */

export interface Summary {
  /** Number of non-NaN values summarised. */
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
}

export interface ProportionInterval {
  /** successes / n (the maximum-likelihood estimate, not the Wilson centre). */
  estimate: number;
  lower: number;
  upper: number;
}

/** Linear interpolation between order statistics; infinities bypass the a + (b - a) t form, which would give NaN. */
function lerp(a: number, b: number, t: number): number {
  if (t === 0 || a === b) return a;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return (1 - t) * a + t * b;
  const diff = b - a;
  // numpy's two-sided form: exact at both ends and monotone in t.
  return t < 0.5 ? a + diff * t : b - diff * (1 - t);
}

function quantileSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return lerp(sorted[lo] as number, sorted[hi] as number, h - lo);
}

/**
 * Five-number summary and mean of the non-NaN values.
 *
 * Quantile p is the order statistic at position h = (n - 1) p, linearly interpolated between
 * x_floor(h) and x_ceil(h) (numpy's default "linear" method, R type 7). NaN marks an undefined
 * measurement (e.g. a dead neuron) and is skipped; infinities are kept.
 *
 * @param values the sample.
 * @returns all fields NaN and n = 0 when no value is a number.
 */
export function summarize(values: ArrayLike<number>): Summary {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) n++;
  if (n === 0) return { n: 0, min: NaN, q1: NaN, median: NaN, q3: NaN, max: NaN, mean: NaN };
  const sorted = new Float64Array(n);
  let k = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    sorted[k++] = v;
    sum += v;
  }
  sorted.sort();
  return {
    n,
    min: sorted[0] as number,
    q1: quantileSorted(sorted, 0.25),
    median: quantileSorted(sorted, 0.5),
    q3: quantileSorted(sorted, 0.75),
    max: sorted[n - 1] as number,
    mean: sum / n,
  };
}

/**
 * Counts of values in `bins` equal-width bins over [lo, hi]: value v goes to bin
 * floor((v - lo) / (hi - lo) * bins), with values (and infinities) outside the range clamped into the
 * first or last bin so that every non-NaN value is counted; v = hi lands in the last bin. NaN is skipped.
 *
 * @param values the sample.
 * @param lo left edge (finite).
 * @param hi right edge (finite, > lo).
 * @param bins number of bins (positive integer).
 */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new RangeError(`need finite lo < hi, got [${lo}, ${hi}]`);
  }
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    let b = Math.floor((v - lo) * scale);
    if (!(b >= 0)) b = 0;
    else if (b > bins - 1) b = bins - 1;
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/**
 * Wilson score interval for a binomial proportion p = k / n:
 * (p + z^2/(2n) +- z sqrt(p(1 - p)/n + z^2/(4n^2))) / (1 + z^2/n). Unlike the Wald interval it stays
 * inside [0, 1] and keeps non-zero width at p = 0 or 1, which matters for shares over few neurons.
 *
 * @param successes k, an integer in [0, n].
 * @param n number of trials (non-negative integer).
 * @param z normal quantile for the confidence level (1.96 for 95%).
 * @returns all fields NaN when n = 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): ProportionInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (!(z >= 0) || !Number.isFinite(z)) throw new RangeError(`z must be finite and non-negative, got ${z}`);
  if (n === 0) return { estimate: NaN, lower: NaN, upper: NaN };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return {
    estimate: p,
    lower: Math.max(0, centre - half),
    upper: Math.min(1, centre + half),
  };
}
