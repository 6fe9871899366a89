/**
 * Overlaid histograms of a per-neuron quantity of some models (final snapshots of several runs, or
 * one run after clean training vs after fine-tuning): the share of neurons in each of 20 bins, as
 * step lines so overlaps stay readable. By default the mixture ratio on [0, 1], where purified
 * neurons pile up near 0; `axis` and `range` draw another quantity (the coherent share κ).
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import { histogram } from '../distribution.ts';
import { frame, grid, lineLegendIcon, MIXTURE_AXIS_NAME, num, xValueAxis, yValueAxis, type ChartOptions, type LegendEntry } from './index.ts';
import { DASHED, SOLID, type Dash } from './runStyles.ts';

/** A histogram drawn in the theme's foreground (resolved where the theme is known). */
export const MODEL_FOREGROUND = 'foreground';
/**
 * The two models of one run (after clean training vs fine-tuned) share the foreground and differ
 * by line style, dashed then solid (palette.ts's MODEL_LINE): no hue names a model.
 */
export const modelDash = { afterClean: DASHED, fineTuned: SOLID } as const;

export interface HistogramEntry {
  readonly name: string;
  readonly values: readonly number[];
  readonly color: string;
  /** Line style (default solid). */
  readonly dash?: Dash;
  /** Line width (default 1.9). */
  readonly width?: number;
}

export function mixtureHistogramOverlay(
  entries: readonly HistogramEntry[],
  options: ChartOptions & { bins?: number; axis?: string; range?: readonly [number, number] } = {},
): EChartsOption {
  const bins = options.bins ?? 20;
  const [lo, hi] = options.range ?? [0, 1];
  const edge = (b: number) => num(lo + ((hi - lo) * b) / bins);
  const t = frame(options, []).theme;
  const legend: LegendEntry[] = [];
  const series: LineSeriesOption[] = [];
  let peak = 0;
  entries.forEach((entry, i) => {
    const e = entry.color === MODEL_FOREGROUND ? { ...entry, color: t.text } : entry;
    const counts = histogram(e.values, lo, hi, bins);
    const n = counts.reduce((a, b) => a + b, 0);
    if (n === 0) return;
    const shares = counts.map((c) => c / n);
    peak = Math.max(peak, ...shares);
    // Points at the bin edges, each bin's share held across it (a step outline of the histogram).
    const data: (number | null)[][] = [];
    shares.forEach((s, b) => {
      data.push([edge(b), num(s)], [edge(b + 1), num(s)]);
    });
    const name = `${e.name} (n = ${n})`;
    legend.push({ name });
    series.push({
      type: 'line',
      id: `histogram-${i}`,
      name,
      data,
      color: e.color,
      lineStyle: { color: e.color, width: e.width ?? 1.9, type: e.dash ?? SOLID },
      itemStyle: { color: e.color },
      areaStyle: { color: e.color, opacity: t.faintBandOpacity },
      showSymbol: false,
      z: 3 + i,
    });
  });
  const { option, top } = frame(options, legend);
  // Legend icons drawn as the lines are (solid or dashed), so the legend shows the channel that
  // tells the models apart (ECharts' default line icon is always solid).
  const icons = series.map((s) => ({ name: String(s.name), icon: lineLegendIcon(s.lineStyle?.type), itemStyle: { color: s.color as string } }));
  const yMax = Math.min(1, Math.ceil((peak * 1.1) / 0.05) * 0.05 || 0.5);
  return {
    ...option,
    legend: { ...(option.legend as object), data: icons },
    grid: grid(top),
    xAxis: xValueAxis(t, options.axis ?? MIXTURE_AXIS_NAME, { min: lo, max: hi, interval: hi - lo > 1 ? 0.2 : 0.1 }),
    yAxis: yValueAxis(t, 'share of neurons', { min: 0, max: num(yMax) ?? 1 }),
    series,
  };
}
