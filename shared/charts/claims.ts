/**
 * The paper's five claims as figures (the "Paper" page and `lab figures`), each from numbers
 * aggregated over seeds as mean ± std. Pure option builders over plain data, like every chart
 * here: the same builder feeds the UI and the headless export.
 *
 *   C1 clean training leaves coherent dense mixtures: coherent mixture share, coherence and mixture ratio over training
 *   C2 adversarial fine-tuning purifies and makes robust: robust accuracy vs eps, before/after
 *   C3 the principle w = beta w' + v: the norm ratio per neuron, and the cosines to the init
 *   C4 the lower bound: linear / quadratic / random features / NTK models below the fine-tuned network
 *   C5 a low-rank update suffices: accuracies vs the rank of the fine-tuning update
 */
import type { BarSeriesOption, EChartsOption, LegendComponentOption, LineSeriesOption } from 'echarts';
import type { MeanStd } from '../aggregate.ts';
import { dimensionReference } from '../dimensionReference.ts';
import { bandSeries, boundaryAlong, boundarySeries, frame, grid, xValueAxis, yValueAxis, type ChartOptions, type LegendEntry } from './common.ts';
import { MIXTURE_DIRECTION, MODEL_LINE, themes } from './palette.ts';

/**
 * The colour of a reference curve drawn in the theme's text colour (black on white, light on
 * dark): a curve's colour is chosen where the data is made, the theme only where it is drawn.
 */
export const FOREGROUND = 'foreground';

/** A curve aggregated over seeds: x and mean ± std at each x. */
export interface AggregatedCurve {
  readonly name: string;
  /** A colour, or FOREGROUND. */
  readonly color: string;
  readonly x: readonly number[];
  readonly values: readonly MeanStd[];
  readonly dashed?: boolean;
  /** Dotted instead (a third line style, where dashed already names something). */
  readonly dotted?: boolean;
}

/** A finite number, or null: a MeanStd that crossed JSON carries null where it had NaN (no value). */
const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function curveSeries(curve: AggregatedCurve, stack: string, yAxisIndex = 0, xAxisIndex = 0): LineSeriesOption[] {
  const band = bandSeries({
    name: curve.name,
    points: curve.x.map((x, i) => {
      const mean = finite(curve.values[i]?.mean);
      const std = finite(curve.values[i]?.std) ?? 0;
      return { x, lo: mean === null ? null : mean - std, hi: mean === null ? null : mean + std };
    }),
    color: curve.color,
    opacity: 0.18,
    stack,
    xAxisIndex,
    yAxisIndex,
  });
  return [
    // The legend takes its swatch from the first series of a name: give the band the curve's colour.
    ...band.map((series) => ({ ...series, color: curve.color })),
    {
      type: 'line',
      name: curve.name,
      data: curve.x.map((x, i) => [x, finite(curve.values[i]?.mean)]),
      color: curve.color,
      lineStyle: { width: 2, type: curve.dotted ? 'dotted' : curve.dashed ? 'dashed' : 'solid' },
      symbol: curve.x.length <= 12 ? 'circle' : 'none',
      symbolSize: 5,
      xAxisIndex,
      yAxisIndex,
      z: 3,
    },
  ];
}

/** Legend icons drawn as the curve is: a solid or a dashed stroke (two curves may share a colour). */
const SOLID_ICON = 'path://M0,4h24v2.5h-24z';
const DASHED_ICON = 'path://M0,4h6v2.5h-6zM9,4h6v2.5h-6zM18,4h6v2.5h-6z';
const DOTTED_ICON = 'path://M0,4h2.5v2.5h-2.5zM5,4h2.5v2.5h-2.5zM10,4h2.5v2.5h-2.5zM15,4h2.5v2.5h-2.5zM20,4h2.5v2.5h-2.5z';

/** Lines with mean ± std bands over a numeric x, optionally a phase boundary. */
export function aggregatedLines(
  curves: readonly AggregatedCurve[],
  axes: AggregatedAxes,
  options: ChartOptions = {},
): EChartsOption {
  const legend: LegendEntry[] = curves.map((c) => ({ name: c.name }));
  const { option, top, theme } = frame(options, legend);
  const drawn = curves.map((c) => (c.color === FOREGROUND ? { ...c, color: theme.text } : c));
  const series: LineSeriesOption[] = drawn.flatMap((c, i) => curveSeries(c, `claim-${i}`));
  const xs = curves.flatMap((c) => c.x);
  if (axes.boundary !== undefined) series.push(boundarySeries(axes.boundary, theme, { label: true, ...(xs.length > 0 && !axes.xLog ? { along: boundaryAlong(axes.boundary, Math.min(...xs), Math.max(...xs)) } : {}) }));
  const frameLegend = option.legend as LegendComponentOption;
  return {
    ...option,
    legend: { ...frameLegend, data: drawn.map((c) => ({ name: c.name, icon: c.dotted ? DOTTED_ICON : c.dashed ? DASHED_ICON : SOLID_ICON, itemStyle: { color: c.color } })) },
    grid: [grid(top + (axes.boundary !== undefined ? 14 : 0))],
    xAxis: [xValueAxis(theme, axes.x, { ...(axes.xLog ? { type: 'log', logBase: 2 } : { scale: true }) })],
    yAxis: [yValueAxis(theme, axes.y, { ...(axes.yMin !== undefined ? { min: axes.yMin } : {}), ...(axes.yMax !== undefined ? { max: axes.yMax } : {}) })],
    series,
  };
}

/**
 * C1: the mixtures over training, mean ± std over seeds, with the phase boundary: the coherent
 * mixture share (what accumulates), the coherence, and the plain mixture ratio (which falls from a
 * fully mixed random init while the principal part grows faster).
 */
export function claimMixtures(
  data: { epochs: readonly number[]; coherentShare: readonly MeanStd[]; mixtureRatio: readonly MeanStd[]; coherence: readonly MeanStd[]; boundary?: number },
  options: ChartOptions = {},
): EChartsOption {
  const low = Math.min(0, ...[...data.coherentShare, ...data.coherence].map((m) => m.mean - m.std).filter(Number.isFinite));
  return aggregatedLines(
    [
      // No hue: these are neuron distributions, told apart by line style (palette.ts).
      { name: 'coherent mixture share κ (median over neurons)', color: FOREGROUND, x: data.epochs, values: data.coherentShare },
      { name: 'mixture coherence (median)', color: FOREGROUND, x: data.epochs, values: data.coherence, dotted: true },
      { name: 'mixture ratio (median)', color: FOREGROUND, x: data.epochs, values: data.mixtureRatio, dashed: true },
    ],
    { x: 'epoch', y: 'share / cosine', yMin: low < 0 ? Math.floor(low * 10) / 10 : 0, yMax: 1, ...(data.boundary !== undefined ? { boundary: data.boundary } : {}) },
    options,
  );
}

/** C2: worst-case robust accuracy vs eps after clean training and after fine-tuning. */
export function claimPurification(data: { eps: readonly number[]; afterClean: readonly MeanStd[]; final: readonly MeanStd[]; mixtureAfterClean?: readonly MeanStd[]; mixtureFinal?: readonly MeanStd[] }, options: ChartOptions = {}): EChartsOption {
  const curves: AggregatedCurve[] = [
    // Colour = the quantity (worst case in the foreground, the mixture-direction attack in its
    // colour), line style = the model (after clean training dashed, fine-tuned solid): palette.ts.
    { name: 'after clean training (worst case)', color: FOREGROUND, x: data.eps, values: data.afterClean, dashed: MODEL_LINE.afterClean === 'dashed' },
    { name: 'after adversarial fine-tuning (worst case)', color: FOREGROUND, x: data.eps, values: data.final },
  ];
  if (data.mixtureAfterClean) curves.push({ name: 'after clean, mixture direction', color: MIXTURE_DIRECTION, x: data.eps, values: data.mixtureAfterClean, dashed: true });
  if (data.mixtureFinal) curves.push({ name: 'after fine-tuning, mixture direction', color: MIXTURE_DIRECTION, x: data.eps, values: data.mixtureFinal });
  return aggregatedLines(curves, { x: 'eps (l2 radius)', y: 'robust accuracy', yMin: 0, yMax: 1 }, options);
}

/** Counts of values in equal bins on [lo, hi] (values outside are clamped to the end bins). */
function counts(values: readonly number[], lo: number, hi: number, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
    out[k]! += 1;
  }
  return out;
}

/**
 * C3: left, the distribution of log10(||beta_i w_i'|| / ||v_i||) over neurons (pooled over
 * seeds; right of 0 means the robust feature dominates); right, the distributions of
 * cos(w_i, w_i^0) and cos(w_i', w_i^0).
 */
export function claimPrinciple(
  data: {
    logRatio: readonly number[];
    cosClean: readonly number[];
    cosRobust: readonly number[];
    /** C3 against dimension: median cosines with the init over neurons at each d, mean ± std over seeds. */
    dimension?: { d: readonly number[]; cosClean: readonly MeanStd[]; cosRobust: readonly MeanStd[] };
  },
  options: ChartOptions = {},
): EChartsOption {
  const theme = themes[options.theme ?? 'light'];
  const byDimension = data.dimension && data.dimension.d.length > 0 ? data.dimension : null;
  // The third panel's lines have their own legend entries, drawn as the lines are (dashed after
  // clean, solid fine-tuned, dotted reference): under the bars' names the legend showed bar
  // swatches, which do not tell a dashed line from a solid one.
  const lineIcons: Readonly<Record<string, string>> = byDimension ? { [DIMENSION_CLEAN]: MODEL_LINE.afterClean === 'dashed' ? DASHED_ICON : SOLID_ICON, [DIMENSION_ROBUST]: SOLID_ICON, [DIMENSION_REFERENCE]: DOTTED_ICON } : {};
  const legend: LegendEntry[] = [{ name: 'log10 ||βw′|| / ||v||' }, { name: 'cos(w, w⁰) after clean' }, { name: 'cos(w′, w⁰) after fine-tuning' }, ...Object.keys(lineIcons).map((name) => ({ name }))];
  const { option, top } = frame(options, legend, { trigger: 'item' });
  const bins = 24;
  const ratioLo = -1;
  const ratioHi = 2;
  const ratio = counts(data.logRatio, ratioLo, ratioHi, bins);
  const cosClean = counts(data.cosClean, -1, 1, bins);
  const cosRobust = counts(data.cosRobust, -1, 1, bins);
  const centres = (lo: number, hi: number) => Array.from({ length: bins }, (_, k) => lo + ((k + 0.5) * (hi - lo)) / bins);
  // One quantity per panel, so no hue; the two models by fill: the model after clean training as
  // a light bar with a dashed outline, the fine-tuned one solid (MODEL_LINE, palette.ts).
  const bar = (name: string, color: string, xs: number[], ys: number[], axis: number, model: 'afterClean' | 'fineTuned' = 'fineTuned'): BarSeriesOption => ({
    type: 'bar',
    name,
    data: xs.map((x, k) => [x, ys[k]!]),
    color,
    barWidth: '90%',
    barGap: '-100%',
    itemStyle:
      model === 'afterClean'
        ? { color, opacity: 0.3, borderColor: color, borderWidth: 1, borderType: MODEL_LINE.afterClean }
        : { color, opacity: 0.65 },
    xAxisIndex: axis,
    yAxisIndex: axis,
  });
  // The third panel, against d: the two models' median cosines (dashed after clean, solid
  // fine-tuned, as in the middle panel) and the reference sqrt(2 ln d / d) dotted.
  const dimensionSeries: LineSeriesOption[] = byDimension
    ? [
        ...curveSeries({ name: DIMENSION_CLEAN, color: theme.text, x: byDimension.d, values: byDimension.cosClean, dashed: MODEL_LINE.afterClean === 'dashed' }, 'dimension-clean', 2, 2),
        ...curveSeries({ name: DIMENSION_ROBUST, color: theme.text, x: byDimension.d, values: byDimension.cosRobust }, 'dimension-robust', 2, 2),
        {
          type: 'line',
          name: DIMENSION_REFERENCE,
          data: byDimension.d.map((d) => [d, dimensionReference(d)]),
          color: theme.text,
          lineStyle: { width: 1.5, type: 'dotted' },
          symbol: 'none',
          xAxisIndex: 2,
          yAxisIndex: 2,
        },
      ]
    : [];
  const grids = byDimension ? [grid(top, { right: '70%' }), grid(top, { left: '37%', right: '37%' }), grid(top, { left: '70%' })] : [grid(top, { right: '53%' }), grid(top, { left: '56%' })];
  const frameLegend = option.legend as LegendComponentOption;
  return {
    ...option,
    legend: { ...frameLegend, data: legend.map(({ name }) => (lineIcons[name] ? { name, icon: lineIcons[name], itemStyle: { color: theme.text } } : { name })) },
    grid: grids,
    xAxis: [
      xValueAxis(theme, 'log10 ||βw′|| / ||v||', { min: ratioLo, max: ratioHi, gridIndex: 0 }),
      xValueAxis(theme, 'cosine with the init', { min: -1, max: 1, gridIndex: 1 }),
      ...(byDimension ? [xValueAxis(theme, 'dimension d (m = d)', { type: 'log', logBase: 2, gridIndex: 2 })] : []),
    ],
    yAxis: [yValueAxis(theme, 'neurons', { gridIndex: 0 }), yValueAxis(theme, 'neurons', { gridIndex: 1 }), ...(byDimension ? [yValueAxis(theme, 'median cosine with the init', { gridIndex: 2, min: 0 })] : [])],
    series: [
      bar('log10 ||βw′|| / ||v||', theme.text, centres(ratioLo, ratioHi), ratio, 0),
      { ...boundarySeries(0, theme, { xAxisIndex: 0, yAxisIndex: 0, grid: 0 }), markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: theme.axis }, label: { show: false }, data: [{ xAxis: 0 }] } },
      bar('cos(w, w⁰) after clean', theme.text, centres(-1, 1), cosClean, 1, 'afterClean'),
      bar('cos(w′, w⁰) after fine-tuning', theme.text, centres(-1, 1), cosRobust, 1),
      ...dimensionSeries,
    ],
  };
}

/** The legend name of C3's reference curve against dimension. */
export const DIMENSION_REFERENCE = 'sqrt(2 ln d / d)';
/** The legend names of C3's median cosines against dimension. */
export const DIMENSION_CLEAN = 'median cos(w, w⁰) against d, after clean';
export const DIMENSION_ROBUST = 'median cos(w′, w⁰) against d, fine-tuned';

/** C4 / C5 bars: one category per model, mean ± std shown as the bar and its label. */
export function claimBars(data: { categories: readonly string[]; series: readonly { name: string; color: string; values: readonly MeanStd[] }[]; y: string }, options: ChartOptions = {}): EChartsOption {
  const theme = themes[options.theme ?? 'light'];
  const legend: LegendEntry[] = data.series.map((s) => ({ name: s.name }));
  const { option, top } = frame(options, legend, { trigger: 'axis' });
  return {
    ...option,
    grid: [grid(top, { bottom: 70 })],
    xAxis: [{ type: 'category', data: [...data.categories], axisLabel: { color: theme.subtleText, interval: 0, rotate: 25, fontSize: 10 }, axisLine: { lineStyle: { color: theme.axis } } }],
    yAxis: [yValueAxis(theme, data.y, { min: 0, max: 1 })],
    series: data.series.map(
      (s): BarSeriesOption => ({
        type: 'bar',
        name: s.name,
        color: s.color,
        data: s.values.map((v) => {
          const mean = finite(v.mean);
          return mean === null ? null : Number(mean.toFixed(3));
        }),
        label: { show: true, position: 'top', fontSize: 9, color: theme.text, formatter: '{c}' },
      }),
    ),
  };
}

/** The axes of `aggregatedLines`. */
export interface AggregatedAxes {
  readonly x: string;
  readonly y: string;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly boundary?: number;
  readonly xLog?: boolean;
}

/**
 * A claim's chart as plain data: what the engine side computes from the runs and sends, and what
 * each side turns into an option for its own context (the page: its width and theme; the export:
 * `static`, at paper size). Sending data rather than a finished option keeps the theme, the
 * width and the animation where they belong: with whoever draws.
 */
export type ClaimChart =
  | { readonly kind: 'mixtures'; readonly data: Parameters<typeof claimMixtures>[0] }
  | { readonly kind: 'purification'; readonly data: Parameters<typeof claimPurification>[0] }
  | { readonly kind: 'principle'; readonly data: Parameters<typeof claimPrinciple>[0] }
  | { readonly kind: 'bars'; readonly data: Parameters<typeof claimBars>[0] }
  | { readonly kind: 'lines'; readonly curves: readonly AggregatedCurve[]; readonly axes: AggregatedAxes };

/** The option of a claim's chart, by its kind. */
export function claimOption(chart: ClaimChart, options: ChartOptions = {}): EChartsOption {
  switch (chart.kind) {
    case 'mixtures':
      return claimMixtures(chart.data, options);
    case 'purification':
      return claimPurification(chart.data, options);
    case 'principle':
      return claimPrinciple(chart.data, options);
    case 'bars':
      return claimBars(chart.data, options);
    case 'lines':
      return aggregatedLines(chart.curves, chart.axes, options);
  }
}
