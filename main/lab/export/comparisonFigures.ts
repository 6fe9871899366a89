/**
 * The comparison figures of several runs, drawn with the Compare view's own builders
 * (shared/charts/runOverlay.ts): clean and robust accuracy over training, each run overlaid, and
 * the median coherent mixture share (kappa, what accumulates) and mixture ratio over training. `lab export A B --format svg|png|pdf` writes them
 * beside the runs' own figures, so a comparison in a paper is the one the UI shows.
 */
import type { EChartsOption } from 'echarts';
import { accuracyOverlay, mixtureMedianOverlay, type OverlayRun } from '../../../shared/charts/runOverlay.ts';
import type { RunResult } from '../../../shared/result.ts';

export interface ComparedRun {
  readonly id: string;
  readonly name: string;
  readonly result: Pick<RunResult, 'metrics' | 'instruments' | 'evaluations'>;
}

/** The figures that have something to draw: none for fewer than two runs. */
export function comparisonFigures(runs: readonly ComparedRun[]): { readonly name: string; readonly option: EChartsOption }[] {
  if (runs.length < 2) return [];
  // Named as the Compare view names them: the run's name, else its id.
  const overlay: OverlayRun[] = runs.map((r) => ({ name: r.name.trim() || r.id, metrics: r.result.metrics, instruments: r.result.instruments, evaluations: r.result.evaluations }));
  const figures: { name: string; option: EChartsOption }[] = [];
  if (overlay.some((r) => r.metrics.length > 0)) figures.push({ name: 'accuracy-over-training-comparison', option: accuracyOverlay(overlay, ['clean', 'robust']) });
  if (overlay.some((r) => r.instruments.some((i) => i.mixtureRatio))) {
    figures.push({ name: 'coherent-share-comparison', option: mixtureMedianOverlay(overlay, { quantity: 'coherent-share' }) });
    figures.push({ name: 'mixture-ratio-comparison', option: mixtureMedianOverlay(overlay) });
  }
  return figures;
}
