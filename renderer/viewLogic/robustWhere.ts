/**
 * Where a run's robust accuracy over training was measured, in words for the accuracy chart's
 * caption: the line between measurements is drawn straight, so a reader must know where the
 * measurements are (every eval.every epochs and at the phase ends, or at the phase ends only).
 */
import type { Evaluation, MetricsEvent } from '../../shared/events.ts';

export function robustMeasuredText(metrics: readonly Pick<MetricsEvent, 'globalEpoch' | 'robustAccuracy'>[], evaluations: readonly Pick<Evaluation, 'globalEpoch'>[], every: number): string {
  const epochs = new Set<number>();
  for (const m of metrics) if (m.robustAccuracy) epochs.add(m.globalEpoch);
  for (const e of evaluations) epochs.add(e.globalEpoch);
  const sorted = [...epochs].sort((a, b) => a - b);
  if (sorted.length === 0) return 'Robust accuracy appears once it has been measured.';
  const list = sorted.length > 8 ? `${sorted.slice(0, 4).join(', ')}, …, ${sorted[sorted.length - 1]}` : sorted.join(', ').replace(/, (\d+)$/, ' and $1');
  const how = every > 0 ? `every ${every === 1 ? 'epoch' : `${every} epochs`} and at each phase end` : 'at the phase ends only (eval.every = 0)';
  return `Robust accuracy is measured ${how}: at epoch${sorted.length > 1 ? 's' : ''} ${list}; the line joins those points straight.`;
}
