/**
 * The clean → robust decomposition after fine-tuning (the paper's C3, C5), as two small charts:
 *
 *   normRatioHistogram     per neuron, ‖βᵢ wᵢ'‖ / ‖vᵢ‖ with wᵢ = βᵢ wᵢ' + vᵢ: how much of the clean
 *                          neuron is the robust one. Bins on a log₂ scale; neurons above 1 (the
 *                          robust part dominates) in the foreground, below 1 in grey: one quantity,
 *                          split at 1, so no hue (blue and vermillion are accuracies: palette.ts).
 *   singularValueSpectrum  the singular values of the update W' − W, largest first, with its
 *                          effective rank marked: a low-rank update is a short, steep spectrum.
 */
import type { BarSeriesOption, EChartsOption, LineSeriesOption } from 'echarts';
import { categoryAxis, fmt, fontSizes, frame, grid, num, xValueAxis, yValueAxis, type ChartOptions } from './index.ts';
import type { DecompositionSummary, UpdateRankSummary } from '../events.ts';

/** log₂ bins of width 1/2 from 1/8 to 32; values outside fall into the end bins. */
const LOG2_MIN = -3;
const LOG2_MAX = 5;
const PER_OCTAVE = 2;

export function normRatioHistogram(decomposition: DecompositionSummary, options: ChartOptions = {}): EChartsOption {
  const bins = (LOG2_MAX - LOG2_MIN) * PER_OCTAVE;
  const counts = new Array<number>(bins).fill(0);
  for (const v of decomposition.normRatio.values) {
    if (!(v > 0)) continue;
    const b = Math.floor((Math.log2(v) - LOG2_MIN) * PER_OCTAVE);
    counts[Math.max(0, Math.min(bins - 1, b))]! += 1;
  }
  const edge = (i: number) => 2 ** (LOG2_MIN + i / PER_OCTAVE);
  const labels = counts.map((_, i) => `${fmt(edge(i), 2)}–${fmt(edge(i + 1), 2)}`);
  const { option, top, theme: t } = frame(options, [{ name: 'robust part dominates (> 1)' }, { name: 'mixture dominates (< 1)' }], { trigger: 'axis' });
  const above = counts.map((c, i) => (edge(i) >= 1 ? c : null));
  const below = counts.map((c, i) => (edge(i) < 1 ? c : null));
  const bar = (id: string, name: string, data: (number | null)[], color: string): BarSeriesOption => ({
    type: 'bar',
    id,
    name,
    data,
    stack: 'neurons',
    color,
    itemStyle: { color },
    barCategoryGap: '8%',
  });
  const firstAboveOne = -LOG2_MIN * PER_OCTAVE;
  return {
    ...option,
    grid: grid(top),
    xAxis: {
      ...categoryAxis(t, '‖βᵢ wᵢ′‖ / ‖vᵢ‖ (log scale)', labels),
      axisLabel: { color: t.subtleText, fontSize: fontSizes.tick, interval: PER_OCTAVE * 2 - 1, formatter: (v: string) => v.split('–')[0] ?? v },
    } as EChartsOption['xAxis'],
    yAxis: yValueAxis(t, 'neurons (count)', { minInterval: 1 }),
    series: [
      bar('above-one', 'robust part dominates (> 1)', above, t.text),
      bar('below-one', 'mixture dominates (< 1)', below, t.axis),
      {
        type: 'line',
        id: 'ratio-one',
        name: 'ratio 1',
        data: [],
        silent: true,
        markLine: {
          silent: true,
          symbol: ['none', 'none'],
          lineStyle: { color: t.boundary, type: 'dashed', width: 1 },
          label: { formatter: '1', color: t.subtleText, fontSize: fontSizes.label },
          data: [{ xAxis: firstAboveOne - 0.5 }],
        },
      } as LineSeriesOption,
    ],
  };
}

export function singularValueSpectrum(update: UpdateRankSummary, options: ChartOptions = {}): EChartsOption {
  const values = [...update.singularValues].sort((a, b) => b - a).filter((v) => v > 0);
  const { option, top, theme: t } = frame(options, [], { trigger: 'axis' });
  const data = values.map((v, i) => [i + 1, num(v)]);
  // The axis starts at the power of ten below the smallest value, so its ticks are 10^k.
  const floor = values.length ? 10 ** Math.floor(Math.log10(values[values.length - 1] as number)) : 1;
  return {
    ...option,
    legend: { show: false },
    grid: grid(top + 14),
    xAxis: xValueAxis(t, 'index k (largest first)', { min: 1, max: Math.max(2, values.length), minInterval: 1 }),
    yAxis: yValueAxis(t, 'singular value σₖ of W′ − W', { type: 'log', logBase: 10, min: floor }),
    series: [
      {
        type: 'line',
        id: 'singular-values',
        name: 'σₖ',
        data,
        color: t.text,
        lineStyle: { color: t.text, width: 1.6 },
        itemStyle: { color: t.text },
        symbol: 'circle',
        symbolSize: 3,
        showSymbol: values.length <= 64,
        markLine: {
          silent: true,
          symbol: ['none', 'none'],
          lineStyle: { color: t.boundary, type: 'dashed', width: 1 },
          label: { formatter: `effective rank ${fmt(update.effectiveRank, 3)}`, position: 'end', color: t.subtleText, fontSize: fontSizes.label },
          data: [{ xAxis: update.effectiveRank }],
        },
      },
    ],
  };
}
