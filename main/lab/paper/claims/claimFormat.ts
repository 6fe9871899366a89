/**
 * What every claim builder formats its numbers with: mean ± std over seeds in captions and checks,
 * per-index aggregation over seeds, a median over neurons, the CSV behind each figure, and the
 * lookups into a run's snapshots and evaluations.
 */
import { meanStd, type MeanStd } from '../../../../shared/aggregate.ts';
import type { RunResult } from '../../../../shared/result.ts';

/** "0.912 ± 0.004" over seeds; one seed: the value; none: a dash. */
export const ms = (m: MeanStd, digits = 3) => (m.n === 0 ? '–' : m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits));
/** "42 %" */
export const pct = (x: number) => `${Math.round(100 * x)} %`;

/** Aggregate `pick` over seeds, at each index. */
export function across<T>(items: readonly T[], length: number, pick: (item: T, i: number) => number | null | undefined): MeanStd[] {
  return Array.from({ length }, (_, i) => meanStd(items.map((it) => pick(it, i)).filter((v): v is number => typeof v === 'number')));
}

/** The median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CSV text: numbers as they are (non-finite as empty), strings quoted. */
export function csvOf(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map((v) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : `"${v.replace(/"/g, '""')}"`)).join(','))].join('\n') + '\n';
}

/** The index of the snapshot at the epoch, or of the last one before it. */
export function snapshotAt(epochs: readonly number[], epoch: number): number {
  const exact = epochs.indexOf(epoch);
  if (exact >= 0) return exact;
  let best = 0;
  epochs.forEach((e, i) => {
    if (e <= epoch) best = i;
  });
  return best;
}

/** A run's evaluation after clean training or at the end (every run of the figures has both). */
export const evaluation = (r: RunResult, label: 'after-clean' | 'final') => {
  const found = r.evaluations.find((e) => e.label === label);
  if (!found) throw new Error(`a run of the paper's figures has no "${label}" evaluation`);
  return found;
};
