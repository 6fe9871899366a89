/**
 * Accuracy over training: clean, robust (where measured) and mixture-direction accuracy against
 * the global epoch, each with its 95 % Wilson interval as a light band, and the clean →
 * adversarial switch marked.
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import type { RunResult } from '../result.ts';
import {
  accuracyPoint,
  attackShortName,
  adversarialPhaseLegend,
  adversarialPhaseSeries,
  adversarialSpan,
  bandSeries,
  boundaryAlong,
  BOUNDARY_LABEL_ROOM,
  boundarySeries,
  epochAxis,
  fmt,
  frame,
  grid,
  phaseBoundary,
  singlePhaseOf,
  yValueAxis,
  type BandPoint,
  type ChartOptions,
  type LegendEntry,
} from './common.ts';
import { CLEAN, MIXTURE_DIRECTION, ROBUST } from './palette.ts';

export type AccuracyData = Pick<RunResult, 'metrics' | 'evaluations' | 'config'> & Partial<Pick<RunResult, 'instruments'>>;

/** Series ids, for tests and for the UI's incremental updates. */
export const accuracySeriesIds = { clean: 'clean-accuracy', robust: 'robust-accuracy', mixture: 'mixture-direction-accuracy' } as const;

/** Legend names of the three accuracies of a run. */
export function accuracyNames(data: AccuracyData): { clean: string; robust: string; mixture: string } {
  const eps = fmt(data.config.eval.eps);
  const attack = data.evaluations[0]?.curves[0]?.attack;
  const short = attack ? attackShortName(attack) : data.config.eval.attacks[0]?.kind.toUpperCase() ?? 'attack';
  return { clean: 'clean', robust: `robust (${short}, ε = ${eps})`, mixture: `mixture direction (ε = ${eps})` };
}

export function accuracyOverTraining(data: AccuracyData, options: ChartOptions = {}): EChartsOption {
  const metrics = [...data.metrics].sort((a, b) => a.globalEpoch - b.globalEpoch);
  const names = accuracyNames(data);
  const boundary = phaseBoundary(data);

  // Robust accuracy: measured every eval.every epochs; the evaluations after each phase fill the phase ends.
  const robustAt = new Map<number, ReturnType<typeof accuracyPoint>>();
  for (const m of metrics) {
    const p = accuracyPoint(m.robustAccuracy);
    if (p) robustAt.set(m.globalEpoch, p);
  }
  for (const e of data.evaluations) {
    if (!robustAt.has(e.globalEpoch)) robustAt.set(e.globalEpoch, accuracyPoint(e.robustAccuracy));
  }
  const robust = [...robustAt.entries()].filter(([, p]) => p !== null).sort((a, b) => a[0] - b[0]);

  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  const t = frame(options, []).theme;

  const addAccuracy = (
    id: string,
    name: string,
    color: string,
    points: { x: number; p: ReturnType<typeof accuracyPoint> }[],
    symbols: boolean,
  ) => {
    if (points.every((q) => q.p === null)) return;
    legend.push({ name });
    series.push({
      type: 'line',
      id,
      name,
      data: points.map((q) => [q.x, q.p ? q.p.est : null]),
      color,
      lineStyle: { color, width: 1.8 },
      itemStyle: { color },
      showSymbol: symbols,
      symbol: 'circle',
      symbolSize: symbols ? 4 : 2,
      connectNulls: true,
      z: 3,
    });
    const band: BandPoint[] = points.map((q) => ({ x: q.x, lo: q.p ? q.p.lo : null, hi: q.p ? q.p.hi : null }));
    series.push(...bandSeries({ name, points: band, color, opacity: t.bandOpacity * 0.8, stack: `${id}-band` }));
  };

  addAccuracy(
    accuracySeriesIds.clean,
    names.clean,
    CLEAN,
    metrics.map((m) => ({ x: m.globalEpoch, p: accuracyPoint(m.cleanAccuracy) })),
    false,
  );
  addAccuracy(
    accuracySeriesIds.robust,
    names.robust,
    ROBUST,
    robust.map(([x, p]) => ({ x, p })),
    true,
  );
  addAccuracy(
    accuracySeriesIds.mixture,
    names.mixture,
    MIXTURE_DIRECTION,
    metrics.map((m) => ({ x: m.globalEpoch, p: accuracyPoint(m.mixtureDirectionAccuracy) })),
    false,
  );
  const last = metrics[metrics.length - 1]?.globalEpoch ?? 1;
  // The phase is shaded, not coloured: blue and vermillion mean clean and robust accuracy only.
  const span = adversarialSpan(boundary, singlePhaseOf(metrics), metrics[0]?.globalEpoch ?? 0, last);
  if (span) {
    series.push(adversarialPhaseSeries(span[0], span[1], t));
    legend.push(adversarialPhaseLegend(t));
  }
  if (boundary !== null) series.push(boundarySeries(boundary, t, { along: boundaryAlong(boundary, 0, Math.max(1, last)) }));

  const { option, top } = frame(options, legend);
  return {
    ...option,
    grid: grid(top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, last),
    yAxis: yValueAxis(t, 'accuracy (fraction)', { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}
