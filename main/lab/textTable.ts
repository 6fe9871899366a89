/**
 * A plain-text table for a terminal or a log: columns as wide as their widest cell, the first
 * `leftAligned` columns (the labels) padded on the right, the rest (the numbers) on the left so
 * their digits line up.
 */
export function textTable(rows: readonly (readonly string[])[], options: { leftAligned?: number; gap?: string } = {}): string {
  const { leftAligned = 1, gap = '   ' } = options;
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c < leftAligned ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}

/** A measured value to 3 decimals; a dash where nothing was measured (NaN, or null after JSON). */
export const threeDecimals = (v: number | null | undefined): string => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(3));
