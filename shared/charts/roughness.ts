/**
 * Roughness of the hidden units as pictures over training (image tasks): per unit, the total
 * variation of its first-layer weights over their size,
 *
 *   R(w) = Σ |w_p − w_q| over neighbouring pixels p, q  /  (√pixels · ‖w‖₂),
 *
 * scale-free, so a unit that only grows keeps its R. Dense, blotchy mixtures are rough (high
 * R); clean strokes are smooth (low R). The chart is the mixture ratio's counterpart for
 * images: the median over units and the quartile band (q1–q3) in the foreground, the adversarial
 * phase shaded after the boundary (a phase has no hue: palette.ts); clean training roughens the neurons,
 * adversarial fine-tuning smooths them.
 */
import type { EChartsOption } from 'echarts';
import type { InstrumentsEvent } from '../events.ts';
import type { RunResult } from '../result.ts';
import {
  BOUNDARY_LABEL_ROOM,
  distributionLegend,
  epochAxis,
  frame,
  grid,
  phaseBoundary,
  phaseDistributionSeries,
  singlePhaseOf,
  yValueAxis,
  type ChartOptions,
} from './common.ts';
import { phaseMarks } from './phaseMarks.ts';

export type RoughnessData = Pick<RunResult, 'metrics' | 'instruments'>;

export const ROUGHNESS_AXIS_NAME = 'roughness (TV / √n‖w‖)';

/** Snapshots that carry the roughness distribution. */
export function roughnessSnapshots(instruments: readonly InstrumentsEvent[]): (InstrumentsEvent & { roughness: NonNullable<InstrumentsEvent['roughness']> })[] {
  return instruments.filter((s): s is InstrumentsEvent & { roughness: NonNullable<InstrumentsEvent['roughness']> } => s.roughness !== null && s.roughness !== undefined);
}

export function roughnessOverTraining(data: RoughnessData, options: ChartOptions = {}): EChartsOption {
  const snapshots = roughnessSnapshots(data.instruments);
  const boundary = phaseBoundary(data);
  const t0 = frame(options, []).theme;
  const { series, phases } = phaseDistributionSeries({
    id: 'roughness',
    points: snapshots.map((s) => ({ x: s.globalEpoch, summary: s.roughness.summary })),
    boundary,
    singlePhase: singlePhaseOf(snapshots),
    theme: t0,
    range: false,
  });
  const marks = phaseMarks(snapshots, boundary, phases, t0);
  series.push(...marks.series);
  const { option, top, theme: t } = frame(options, distributionLegend(marks.legendPhases, t0, false));
  return {
    ...option,
    grid: grid(top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, marks.last),
    yAxis: yValueAxis(t, ROUGHNESS_AXIS_NAME, { min: 0, scale: false }),
    series,
  };
}
