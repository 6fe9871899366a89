/**
 * Seeds aggregated as mean ± std (sample standard deviation, n - 1), the way a paper reports
 * them, and the grid of a sweep: the cartesian product of field values.
 */

export interface MeanStd {
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

/** Mean and sample standard deviation of the finite values (std is 0 for one value, NaN for none). */
export function meanStd(values: readonly number[]): MeanStd {
  const finite = values.filter((v) => Number.isFinite(v));
  const n = finite.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/** "0.461 ± 0.012" */
export function formatMeanStd(m: MeanStd, digits = 3): string {
  if (m.n === 0) return '-';
  return m.n === 1 ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/** Every combination of the grid's values, in the order the fields were given. */
export function gridPoints(grid: readonly (readonly [string, readonly unknown[]])[]): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [path, values] of grid) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [path]: v })));
  }
  return points;
}
