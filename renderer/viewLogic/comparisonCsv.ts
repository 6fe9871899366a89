/**
 * The comparison's data as one tidy CSV, in the run CSV's long form (main/lab/export/tidyMetrics.ts)
 * with the radius beside every robust figure: one row per run, epoch (or radius) and metric, with
 * the run's id and name on every row and the 95 % interval where there is one. Accuracies over
 * training carry the radius they were measured at (the robust one the run's own ε, the clean one
 * none); the final models' robust-vs-ε curves have a row per attack and radius, so runs set up at
 * different ε can be compared at one in pandas or R. A median's lower and upper are its quartiles,
 * as in the run CSV.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { Accuracy, Evaluation, InstrumentsEvent, MetricsEvent } from '../../shared/events.ts';

export const comparisonColumns = ['run_id', 'run_name', 'global_epoch', 'phase', 'metric', 'attack', 'norm', 'eps', 'value', 'lower', 'upper'] as const;

type Row = Record<(typeof comparisonColumns)[number], unknown>;

export interface ComparedRun {
  readonly id: string;
  readonly name: string;
  readonly config: ResolvedExperiment;
  readonly metrics: readonly MetricsEvent[];
  readonly instruments: readonly InstrumentsEvent[];
  readonly evaluations: readonly Evaluation[];
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function comparisonRows(runs: readonly ComparedRun[]): Row[] {
  const rows: Row[] = [];
  for (const run of runs) {
    const base = { run_id: run.id, run_name: run.name };
    const { eps, norm } = run.config.eval;
    const evalAttack = run.config.eval.attacks.find((a) => a.kind === 'pgd');
    const robustAttack = evalAttack?.kind === 'pgd' ? `PGD-${evalAttack.steps}` : 'PGD-20';
    const accuracy = (global_epoch: number | null, phase: string, metric: string, a: Accuracy, attack: string, at: number | null) =>
      rows.push({ ...base, global_epoch, phase, metric, attack, norm: at === null ? '' : norm, eps: at, value: a.estimate, lower: a.lower, upper: a.upper });
    for (const m of run.metrics) {
      accuracy(m.globalEpoch, m.phase, 'clean_accuracy', m.cleanAccuracy, '', null);
      if (Number.isFinite(m.mixtureDirectionAccuracy.estimate)) accuracy(m.globalEpoch, m.phase, 'mixture_direction_accuracy', m.mixtureDirectionAccuracy, 'mixture direction', eps);
      if (m.robustAccuracy) accuracy(m.globalEpoch, m.phase, 'robust_accuracy', m.robustAccuracy, robustAttack, eps);
    }
    for (const s of run.instruments) {
      if (!s.mixtureRatio) continue;
      const q = s.mixtureRatio.summary;
      rows.push({ ...base, global_epoch: s.globalEpoch, phase: s.phase, metric: 'mixture_ratio_median', attack: '', norm: '', eps: null, value: q.median, lower: q.q1, upper: q.q3 });
    }
    for (const e of run.evaluations) {
      const phase = `evaluation:${e.label}`;
      for (const curve of [...e.curves, e.worstCase]) {
        const attack = curve === e.worstCase ? 'worst case' : (curve.attack.split(' (')[0] ?? curve.attack);
        curve.eps.forEach((x, i) => {
          const a = curve.accuracy[i];
          if (a) rows.push({ ...base, global_epoch: e.globalEpoch, phase, metric: 'robust_accuracy', attack, norm: e.norm, eps: x, value: a.estimate, lower: a.lower, upper: a.upper });
        });
      }
    }
  }
  return rows;
}

export function comparisonCsv(runs: readonly ComparedRun[]): string {
  return [comparisonColumns.join(','), ...comparisonRows(runs).map((r) => comparisonColumns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
