/**
 * Mixture accumulation, the signature chart of the workbench: a per-neuron quantity over training,
 * as a distribution over neurons, the phase boundary marked.
 *
 *   quantity 'coherent-share' (default) kappa_i = <c_off, u> / ||c_i||, the part of each neuron's
 *                  mixture along the label direction as a share of the neuron (coherence *
 *                  sqrt(mixture ratio)): what the paper says accumulates. About 0 at a random
 *                  init, it rises under clean training and falls under adversarial fine-tuning.
 *   quantity 'mixture-ratio' the energy outside a neuron's principal atoms / its total energy.
 *                  A random init is fully mixed (about 1 - s/D), and clean training grows the
 *                  principal part faster than the mixture, so this FALLS in both phases; its init
 *                  level is marked so the fall reads as such.
 *
 *   mode 'bands'   (default) the median over neurons, the quartile band (q1–q3) and a faint
 *                  min–max band, in the foreground; the adversarial phase shaded, the phase
 *                  boundary and the init median marked (a phase has no hue: palette.ts).
 *   mode 'heatmap' x = snapshot epoch, y = bin of the quantity (20 bins), colour = number of
 *                  neurons in the bin; the median drawn on top, one neutral line.
 */
import { coherentShareOf, hasDictionaryInstruments, type DictionaryInstruments, type NeuronDistribution } from '../events.ts';
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
  MEDIAN_NAME,
  phaseBoundary,
  phaseDistributionSeries,
  singlePhaseOf,
  yValueAxis,
  type ChartOptions,
  type LegendEntry,
} from './common.ts';
import { phaseMarks } from './phaseMarks.ts';
import { SEQUENTIAL, themes } from './palette.ts';

export type MixtureData = Pick<RunResult, 'metrics' | 'instruments'>;
/** The same, narrowed to the snapshots that carry dictionary instruments (sparse-coding runs). */
type DictionaryData = Pick<RunResult, 'metrics'> & { readonly instruments: readonly DictionaryInstruments[] };

export type MixtureQuantity = 'coherent-share' | 'mixture-ratio';

export interface MixtureOptions extends ChartOptions {
  readonly mode?: 'bands' | 'heatmap';
  /** What is drawn (default the coherent mixture share). */
  readonly quantity?: MixtureQuantity;
  /** Number of bins in heatmap mode (default 20). */
  readonly bins?: number;
}

export const MIXTURE_AXIS_NAME = 'mixture ratio (share of ‖c‖²)';
export const COHERENT_SHARE_AXIS_NAME = 'coherent mixture share κ';

/** A quantity's per-neuron values at a snapshot, its axis, its series ids and its value range. */
export interface QuantityView {
  readonly id: MixtureQuantity;
  readonly axisName: string;
  readonly of: (s: DictionaryInstruments) => NeuronDistribution;
  /** [lo, hi, tick step] of the value axis (lo and hi also bound the heatmap's bins) for these snapshots. */
  readonly range: (snapshots: readonly DictionaryInstruments[]) => readonly [number, number, number];
}

/** Each quantity's view: how to read it from a snapshot, its axis and its range (the comparison overlays read them too). */
export const mixtureQuantities: Readonly<Record<MixtureQuantity, QuantityView>> = {
  'mixture-ratio': { id: 'mixture-ratio', axisName: MIXTURE_AXIS_NAME, of: (s) => s.mixtureRatio, range: () => [0, 1, 0.2] },
  'coherent-share': {
    id: 'coherent-share',
    axisName: COHERENT_SHARE_AXIS_NAME,
    of: coherentShareOf,
    // |kappa| <= 1; the range the neurons reach, on a round step and always showing 0.
    range: (snapshots) => {
      const ends = snapshots
        .flatMap((s) => {
          const x = coherentShareOf(s).summary;
          return [num(x.min), num(x.max)];
        })
        .filter((v): v is number => v !== null);
      const min = Math.max(-1, Math.min(0, ...ends));
      const max = Math.min(1, Math.max(0.1, ...ends));
      const step = max - min > 0.6 ? 0.2 : 0.1;
      const round = (k: number) => Number((k * step).toFixed(1));
      return [round(Math.floor(min / step + 1e-9)), round(Math.ceil(max / step - 1e-9)), step];
    },
  },
};

/** The snapshots' medians of a quantity, by global epoch (what the chart's median line plots). */
export function mixtureMedians(data: MixtureData, quantity: MixtureQuantity = 'coherent-share'): { epoch: number; median: number }[] {
  const view = mixtureQuantities[quantity];
  return data.instruments
    .filter(hasDictionaryInstruments)
    .map((s) => ({ epoch: s.globalEpoch, median: view.of(s).summary.median }))
    .sort((a, b) => a.epoch - b.epoch);
}

export function mixtureAccumulation(data: MixtureData, options: MixtureOptions = {}): EChartsOption {
  const narrowed: DictionaryData = { metrics: data.metrics, instruments: data.instruments.filter(hasDictionaryInstruments) };
  const view = mixtureQuantities[options.quantity ?? 'coherent-share'];
  return options.mode === 'heatmap' ? mixtureHeatmap(narrowed, view, options) : mixtureBands(narrowed, view, options);
}

/** A dashed horizontal line at the median of the initialisation snapshot, labelled with its value. */
function initLevelSeries(data: DictionaryData, view: QuantityView, t: ReturnType<typeof frame>['theme'], axes: { xAxisIndex?: number; yAxisIndex?: number } = {}): LineSeriesOption | null {
  const init = data.instruments.find((s) => s.phase === 'init');
  const level = init ? num(view.of(init).summary.median) : null;
  if (level === null) return null;
  return {
    type: 'line',
    id: `${view.id}-init-level`,
    name: 'init median',
    data: [],
    silent: true,
    tooltip: { show: false },
    ...axes,
    markLine: {
      silent: true,
      symbol: ['none', 'none'],
      animation: false,
      lineStyle: { color: t.subtleText, type: 'dotted', width: 1 },
      label: { show: true, formatter: `init median ${level.toFixed(view.id === 'coherent-share' ? 3 : 2)}`, position: 'insideEndTop', color: t.subtleText, fontSize: fontSizes.label, fontFamily: FONT_STACK },
      emphasis: { disabled: true },
      data: [{ yAxis: level }],
    },
    z: 3,
  };
}

function mixtureBands(data: DictionaryData, view: QuantityView, options: MixtureOptions): EChartsOption {
  const boundary = phaseBoundary(data);
  const t0 = frame(options, []).theme;
  const { series, phases } = phaseDistributionSeries({
    id: view.id,
    points: data.instruments.map((s) => ({ x: s.globalEpoch, summary: view.of(s).summary })),
    boundary,
    singlePhase: singlePhaseOf(data.instruments),
    theme: t0,
    range: true,
  });
  const marks = phaseMarks(data.instruments, boundary, phases, t0);
  series.push(...marks.series);
  const initLevel = initLevelSeries(data, view, t0);
  if (initLevel) series.push(initLevel);
  const { option, top, theme: t } = frame(options, distributionLegend(marks.legendPhases, t0, true));
  const [lo, hi, step] = view.range(data.instruments);
  return {
    ...option,
    grid: grid(top + (boundary !== null ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, marks.last),
    yAxis: yValueAxis(t, view.axisName, { min: lo, max: hi, interval: step }),
    series,
  };
}

function mixtureHeatmap(data: DictionaryData, view: QuantityView, options: MixtureOptions): EChartsOption {
  const bins = options.bins ?? 20;
  const [lo, hi, tick] = view.range(data.instruments);
  const width = (hi - lo) / bins;
  const snapshots = [...data.instruments].sort((a, b) => a.globalEpoch - b.globalEpoch);
  const boundary = phaseBoundary(data);
  const epochs = snapshots.map((s) => String(s.globalEpoch));
  const cells: [number, number, number][] = [];
  let maxCount = 1;
  snapshots.forEach((s, xi) => {
    const counts = histogram(view.of(s).values, lo, hi, bins);
    counts.forEach((c, bin) => {
      if (c > 0) cells.push([xi, bin, c]);
      maxCount = Math.max(maxCount, c);
    });
  });
  const binLabels = Array.from({ length: bins }, (_, i) => `${num(lo + i * width)}–${num(lo + (i + 1) * width)}`);

  // The median on top, over a light casing so it reads on any cell. The cells look the same in
  // both themes, so it takes the light theme's foreground: a neutral, not a phase's hue (palette.ts).
  const pts = snapshots.map((s) => [String(s.globalEpoch), num(view.of(s).summary.median)]);
  const ink = themes.light.text;
  const common = { type: 'line' as const, data: pts, showSymbol: false, symbol: 'circle', xAxisIndex: 0, yAxisIndex: 1, connectNulls: true };
  const lines: LineSeriesOption[] =
    pts.length === 0
      ? []
      : [
          { ...common, id: 'mixture-median-casing', name: `${MEDIAN_NAME} casing`, silent: true, tooltip: { show: false }, lineStyle: { color: '#FFFFFF', width: 4, opacity: 0.9 }, z: 3 },
          { ...common, id: 'mixture-median', name: MEDIAN_NAME, color: ink, lineStyle: { color: ink, width: 1.8 }, itemStyle: { color: ink }, z: 4 },
        ];
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
  // a category sits in the middle of its band: snapshot i of n at (i + 1/2) / n along the axis
  const boundaryAt = epochs.indexOf(String(boundary));
  if (boundary !== null) series.push(boundarySeries(String(boundary), t, { xAxisIndex: 0, yAxisIndex: 1, ...(boundaryAt >= 0 ? { along: (boundaryAt + 0.5) / epochs.length } : {}) }));

  // Label about eight snapshots, at a round step (every 10 epochs for 61 snapshots).
  const step = niceStep(epochs.length / 8);
  const xAxis = categoryAxis(t, 'epoch', epochs, {
    axisTick: { show: true, alignWithLabel: true, interval: step - 1, lineStyle: { color: t.axis } },
    axisLabel: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK, interval: step - 1 },
  });
  // The bins live on a hidden category axis; a value axis over [0, 1] on the same grid labels them.
  const yBins = { ...categoryAxis(t, '', binLabels), show: false } as YAXisComponentOption;
  const yValue = yValueAxis(t, view.axisName, { min: lo, max: hi, interval: tick, splitLine: { show: false }, position: 'left' });
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
