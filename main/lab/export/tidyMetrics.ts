/**
 * Tidy ("long") metric tables: one row per run, epoch and metric, with the run's identity on
 * every row, so a table from any number of runs loads straight into pandas or R and groups by
 * any column. The CLI's `export --format csv|json` and browser mode's `metrics.csv` download
 * both come through here, so the two files are the same.
 */
import type { MetricRow, RunRecord, RunStore } from '../store/runStore.ts';

/** The CSV's columns, in order. */
export const tidyColumns = ['run_id', 'run_name', 'preset', 'seed', 'sweep_id', 'global_epoch', 'phase', 'epoch', 'metric', 'value', 'lower', 'upper'] as const;

export type TidyRow = Record<(typeof tidyColumns)[number], unknown>;

/** The summary metrics that become rows too (at phase `summary:<model>`, no epoch). */
const summaryMetrics = ['cleanAccuracy', 'robustAccuracy', 'worstCaseRobustAccuracy', 'mixtureDirectionAccuracy', 'mixtureRatioMedian', 'participationRatioMedian', 'coherenceMedian', 'coherentShareMedian'] as const;

/** Tidy rows of these runs: every stored metric, then each model summary's metrics. */
export function tidyRows(store: RunStore, runs: readonly RunRecord[]): TidyRow[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const rows: TidyRow[] = store.metricRows(runs.map((r) => r.id)).map((m: MetricRow) => {
    const run = byId.get(m.run_id)!;
    return { run_id: m.run_id, run_name: run.name, preset: run.preset, seed: run.seed, sweep_id: run.sweepId, global_epoch: m.global_epoch, phase: m.phase, epoch: m.epoch, metric: m.metric, value: m.value, lower: m.lower, upper: m.upper };
  });
  // The summaries too, as rows at the epoch they were measured, so one file holds everything.
  for (const run of runs) {
    for (const [model, s] of [['after-clean', run.summary?.afterClean], ['final', run.summary?.final]] as const) {
      if (!s) continue;
      for (const key of summaryMetrics) {
        const interval = (s.intervals as Record<string, readonly [number, number] | undefined>)[key];
        rows.push({ run_id: run.id, run_name: run.name, preset: run.preset, seed: run.seed, sweep_id: run.sweepId, global_epoch: null, phase: `summary:${model}`, epoch: null, metric: key, value: s[key], lower: interval?.[0] ?? null, upper: interval?.[1] ?? null });
      }
    }
  }
  return rows;
}

/** One CSV cell: empty for null and non-finite numbers, quoted when it holds a comma, quote or newline. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV text: a header line, one line per row, a final newline. */
export function tidyCsv(rows: readonly TidyRow[]): string {
  return [tidyColumns.join(','), ...rows.map((r) => tidyColumns.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}
