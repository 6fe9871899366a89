/**
 * The phase marks of a per-neuron distribution drawn over epochs (mixture accumulation,
 * participation and coherence, roughness). A phase has no hue (palette.ts): the adversarial phase
 * is shaded, from the boundary (or from the first snapshot of a run that trains adversarially
 * throughout) to the last snapshot, and the boundary is a dashed line, in each panel of the chart.
 * The legend names the adversarial phase only where it is shaded.
 */
import type { LineSeriesOption } from 'echarts';
import { adversarialPhaseSeries, adversarialSpan, boundaryAlong, boundarySeries, singlePhaseOf } from './common.ts';
import type { Theme } from './palette.ts';

type Phase = 'clean' | 'adversarial';

export interface PhaseMarks {
  /** The last snapshot's epoch (at least 1): where the epoch axis ends. */
  readonly last: number;
  /** The shade of each panel, then the boundary of each (labelled in the first panel only). */
  readonly series: LineSeriesOption[];
  /** The distribution's phases that the legend names. */
  readonly legendPhases: Phase[];
}

/**
 * Marks for the snapshots a distribution is drawn from, split at `boundary` (null: one phase), in
 * `panels` stacked panels (panel i on x and y axis i and grid i; one panel takes the defaults).
 */
export function phaseMarks(
  snapshots: readonly { readonly globalEpoch: number; readonly phase: string }[],
  boundary: number | null,
  phases: readonly Phase[],
  t: Theme,
  panels = 1,
): PhaseMarks {
  const epochs = snapshots.map((s) => s.globalEpoch);
  const last = Math.max(1, ...epochs);
  const span = adversarialSpan(boundary, singlePhaseOf(snapshots), Math.min(...epochs), last);
  const panel = (i: number) => (panels > 1 ? { xAxisIndex: i, yAxisIndex: i, grid: i } : {});
  const series: LineSeriesOption[] = [];
  if (span) for (let i = 0; i < panels; i++) series.push(adversarialPhaseSeries(span[0], span[1], t, panel(i)));
  if (boundary !== null) for (let i = 0; i < panels; i++) series.push(boundarySeries(boundary, t, i === 0 ? { ...panel(i), along: boundaryAlong(boundary, 0, last) } : { ...panel(i), label: false }));
  return { last, series, legendPhases: span ? [...phases] : phases.filter((p) => p !== 'adversarial') };
}
