/**
 * Participation ratio and mixture coherence over training, in two stacked panels sharing the
 * epoch axis: the median over neurons with its quartile band in the foreground, the adversarial
 * phase shaded and the phase boundary marked in both (a phase has no hue: palette.ts).
 *
 *   participation ratio PR_i = (Σ c²)² / Σ c⁴: the effective number of atoms a neuron uses
 *     (1 = pure); drawn on a log scale, since it falls from about D/3 at init to a few.
 *   coherence: the signed cosine between a neuron's mixture and the label direction.
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import { hasDictionaryInstruments, type DictionaryInstruments } from '../events.ts';
import type { RunResult } from '../result.ts';
import {
  BOUNDARY_LABEL_ROOM,
  distributionLegend,
  epochAxis,
  frame,
  num,
  phaseBoundary,
  phaseDistributionSeries,
  singlePhaseOf,
  yValueAxis,
  type ChartOptions,
  type DistributionPoint,
} from './common.ts';
import { phaseMarks } from './phaseMarks.ts';

export type ParticipationCoherenceData = Pick<RunResult, 'metrics' | 'instruments'>;

export interface ParticipationCoherenceOptions extends ChartOptions {
  /** Log scale for the participation ratio (default true). */
  readonly logParticipation?: boolean;
}

export const PARTICIPATION_AXIS_NAME = 'participation ratio (atoms)';
export const COHERENCE_AXIS_NAME = 'coherence (cosine)';

export function participationCoherence(
  all: ParticipationCoherenceData,
  options: ParticipationCoherenceOptions = {},
): EChartsOption {
  const data = { metrics: all.metrics, instruments: all.instruments.filter(hasDictionaryInstruments) };
  const boundary = phaseBoundary(data);
  const single = singlePhaseOf(data.instruments);
  const t0 = frame(options, []).theme;
  /** One quantity's distribution over training, in panel `index`. */
  const panel = (id: string, summaryOf: (s: DictionaryInstruments) => DistributionPoint['summary'], index: number) =>
    phaseDistributionSeries({
      id,
      points: data.instruments.map((s) => ({ x: s.globalEpoch, summary: summaryOf(s) })),
      boundary,
      singlePhase: single,
      theme: t0,
      xAxisIndex: index,
      yAxisIndex: index,
    });
  const pr = panel('participation-ratio', (s) => s.participationRatio.summary, 0);
  const coh = panel('coherence', (s) => s.coherence.summary, 1);
  const marks = phaseMarks(data.instruments, boundary, pr.phases, t0, 2);
  const series: LineSeriesOption[] = [...pr.series, ...coh.series, ...marks.series];
  const { option, top, theme: t } = frame(options, distributionLegend(marks.legendPhases, t0, false));
  const last = marks.last;

  // Participation: log scale from 1 to a power of two above the largest quartile.
  const logScale = options.logParticipation ?? true;
  const q3max = Math.max(2, ...data.instruments.map((s) => num(s.participationRatio.summary.q3) ?? 1));
  const prMax = logScale ? 2 ** Math.ceil(Math.log2(q3max)) : undefined;
  // Coherence: a symmetric-enough range that always shows 0.
  const cohValues = data.instruments.flatMap((s) => [num(s.coherence.summary.q1), num(s.coherence.summary.q3)]).filter((v): v is number => v !== null);
  const cohMin = Math.min(0, Math.floor(Math.min(0, ...cohValues) * 5) / 5);
  const cohMax = Math.max(0.2, Math.ceil(Math.max(0, ...cohValues) * 5) / 5);

  const gridTop = top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0);
  // Two panels of equal height at the hinted size, as percentages so they keep their shares when resized.
  const height = options.height ?? 346;
  const bottom = 38;
  const gap = 12;
  const mid = (gridTop + (height - bottom)) / 2;
  const pct = (px: number) => `${((100 * px) / height).toFixed(2)}%`;
  return {
    ...option,
    grid: [
      { left: 52, right: 14, top: gridTop, bottom: pct(height - (mid - gap / 2)), outerBoundsMode: 'none' },
      { left: 52, right: 14, top: pct(mid + gap / 2), bottom, outerBoundsMode: 'none' },
    ],
    xAxis: [
      { ...epochAxis(t, last, { gridIndex: 0 }), name: '', axisLabel: { show: false } },
      epochAxis(t, last, { gridIndex: 1 }),
    ],
    yAxis: [
      yValueAxis(t, PARTICIPATION_AXIS_NAME, {
        gridIndex: 0,
        ...(logScale ? { type: 'log', logBase: 2, min: 1, max: prMax } : { min: 1 }),
        nameGap: 28,
      }),
      yValueAxis(t, COHERENCE_AXIS_NAME, { gridIndex: 1, min: cohMin, max: cohMax, interval: 0.2, nameGap: 28 }),
    ],
    series,
  } as EChartsOption;
}
