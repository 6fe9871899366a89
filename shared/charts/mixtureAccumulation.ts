/**
 * Mixture accumulation, the signature chart of the workbench: the per-neuron mixture ratio
 * (energy outside a neuron's principal atoms / its total energy) over training. Clean training
 * lets it grow; adversarial fine-tuning purifies the neurons and it falls.
 *
 *   mode 'bands'   (default) the median over neurons, the quartile band (q1–q3) and a faint
 *                  min–max band; clean colour in the clean phase, robust colour in the adversarial
 *                  phase; the phase boundary marked.
 *   mode 'heatmap' x = snapshot epoch, y = mixture-ratio bin (20 bins on [0, 1]), colour = number
 *                  of neurons in the bin; the median drawn on top in the phase colours.
 */
import { hasDictionaryInstruments, type DictionaryInstruments } from '../events.ts';
import type { EChartsOption, HeatmapSeriesOption, LineSeriesOption, TitleComponentOption, XAXisComponentOption, YAXisComponentOption } from 'echarts';
import { histogram } from '../distribution.ts';
import type { RunResult } from '../result.ts';
import {
  BOUNDARY_LABEL_ROOM,
  boundarySeries,
  categoryAxis,
  distributionLegend,
  epochAxis,
  fontSizes,
  FONT_STACK,
  frame,
  grid,
  niceStep,
  num,
  PHASE_NAMES,
  phaseBoundary,
  phaseDistributionSeries,
  singlePhaseOf,
  yValueAxis,
  type ChartOptions,
  type LegendEntry,
} from './common.ts';
import { CLEAN, ROBUST, SEQUENTIAL } from './palette.ts';

export type MixtureData = Pick<RunResult, 'metrics' | 'instruments'>;
/** The same, narrowed to the snapshots that carry dictionary instruments (sparse-coding runs). */
type DictionaryData = Pick<RunResult, 'metrics'> & { readonly instruments: readonly DictionaryInstruments[] };

export interface MixtureOptions extends ChartOptions {
  readonly mode?: 'bands' | 'heatmap';
  /** Number of mixture-ratio bins on [0, 1] in heatmap mode (default 20). */
  readonly bins?: number;
}

export const MIXTURE_AXIS_NAME = 'mixture ratio (share of ‖c‖²)';

export function mixtureAccumulation(data: MixtureData, options: MixtureOptions = {}): EChartsOption {
  const narrowed: DictionaryData = { metrics: data.metrics, instruments: data.instruments.filter(hasDictionaryInstruments) };
  return options.mode === 'heatmap' ? mixtureHeatmap(narrowed, options) : mixtureBands(narrowed, options);
}

function mixtureBands(data: DictionaryData, options: MixtureOptions): EChartsOption {
  const boundary = phaseBoundary(data);
  const t0 = frame(options, []).theme;
  const { series, phases } = phaseDistributionSeries({
    id: 'mixture-ratio',
    points: data.instruments.map((s) => ({ x: s.globalEpoch, summary: s.mixtureRatio.summary })),
    boundary,
    singlePhase: singlePhaseOf(data.instruments),
    colors: { clean: CLEAN, adversarial: ROBUST },
    theme: t0,
    range: true,
  });
  if (boundary !== null) series.push(boundarySeries(boundary, t0));
  const { option, top, theme: t } = frame(options, distributionLegend(phases, t0, true));
  const last = Math.max(1, ...data.instruments.map((s) => s.globalEpoch));
  return {
    ...option,
    grid: grid(top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, last),
    yAxis: yValueAxis(t, MIXTURE_AXIS_NAME, { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}

function mixtureHeatmap(data: DictionaryData, options: MixtureOptions): EChartsOption {
  const bins = options.bins ?? 20;
  const snapshots = [...data.instruments].sort((a, b) => a.globalEpoch - b.globalEpoch);
  const boundary = phaseBoundary(data);
  const epochs = snapshots.map((s) => String(s.globalEpoch));
  const cells: [number, number, number][] = [];
  let maxCount = 1;
  snapshots.forEach((s, xi) => {
    const counts = histogram(s.mixtureRatio.values, 0, 1, bins);
    counts.forEach((c, bin) => {
      if (c > 0) cells.push([xi, bin, c]);
      maxCount = Math.max(maxCount, c);
    });
  });
  const binLabels = Array.from({ length: bins }, (_, i) => `${num(i / bins)}–${num((i + 1) / bins)}`);

  // The median on top, in the phase colours, over a light casing so it reads on any cell.
  const medianLine = (phase: 'clean' | 'adversarial', keep: (epoch: number) => boolean): LineSeriesOption[] => {
    const pts = snapshots.filter((s) => keep(s.globalEpoch)).map((s) => [String(s.globalEpoch), num(s.mixtureRatio.summary.median)]);
    if (pts.length === 0) return [];
    const color = phase === 'clean' ? CLEAN : ROBUST;
    const common = { type: 'line' as const, data: pts, showSymbol: false, symbol: 'circle', xAxisIndex: 0, yAxisIndex: 1, connectNulls: true };
    return [
      { ...common, id: `mixture-median-casing-${phase}`, name: `${PHASE_NAMES[phase]} casing`, silent: true, tooltip: { show: false }, lineStyle: { color: '#FFFFFF', width: 4, opacity: 0.9 }, z: 3 },
      { ...common, id: `mixture-median-${phase}`, name: `median, ${PHASE_NAMES[phase]}`, color, lineStyle: { color, width: 1.8 }, itemStyle: { color }, z: 4 },
    ];
  };
  const lines: LineSeriesOption[] =
    boundary === null
      ? medianLine(singlePhaseOf(snapshots), () => true)
      : [...medianLine('clean', (e) => e <= boundary), ...medianLine('adversarial', (e) => e >= boundary)];
  const legend: LegendEntry[] = lines.filter((l) => !String(l.id).includes('casing')).map((l) => ({ name: String(l.name) }));

  const { option, top, theme: t } = frame(options, legend, { trigger: 'item' });
  const heat: HeatmapSeriesOption = {
    type: 'heatmap',
    id: 'mixture-histogram',
    name: 'neurons',
    data: cells,
    xAxisIndex: 0,
    yAxisIndex: 0,
    emphasis: { itemStyle: { borderColor: t.text, borderWidth: 1 } },
    z: 1,
  };
  const series: (HeatmapSeriesOption | LineSeriesOption)[] = [heat, ...lines];
  if (boundary !== null) series.push(boundarySeries(String(boundary), t, { xAxisIndex: 0, yAxisIndex: 1 }));

  // Label about eight snapshots, at a round step (every 10 epochs for 61 snapshots).
  const step = niceStep(epochs.length / 8);
  const xAxis = categoryAxis(t, 'epoch', epochs, {
    axisTick: { show: true, alignWithLabel: true, interval: step - 1, lineStyle: { color: t.axis } },
    axisLabel: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK, interval: step - 1 },
  });
  // The bins live on a hidden category axis; a value axis over [0, 1] on the same grid labels them.
  const yBins = { ...categoryAxis(t, '', binLabels), show: false } as YAXisComponentOption;
  const yValue = yValueAxis(t, MIXTURE_AXIS_NAME, { min: 0, max: 1, interval: 0.2, splitLine: { show: false }, position: 'left' });
  const gridTop = top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0);
  return {
    ...option,
    // The colour bar's caption, above its top value.
    title: [
      ...((option.title as TitleComponentOption[] | undefined) ?? []),
      { text: 'neurons', right: 2, top: gridTop - 4, textStyle: { color: t.text, fontSize: fontSizes.tick, fontWeight: 'normal', fontFamily: FONT_STACK } },
    ],
    grid: grid(gridTop, { right: 50 }),
    xAxis: xAxis as XAXisComponentOption,
    yAxis: [yBins, yValue],
    visualMap: {
      type: 'continuous',
      min: 0,
      max: maxCount,
      dimension: 2,
      seriesIndex: 0,
      calculable: false,
      orient: 'vertical',
      right: 8,
      top: gridTop + 12,
      itemWidth: 10,
      itemHeight: 90,
      text: [String(maxCount), '0'],
      textGap: 4,
      textStyle: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK },
      inRange: { color: [...SEQUENTIAL.slice(2)] },
    },
    series,
  } as EChartsOption;
}
