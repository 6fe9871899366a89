/**
 * What every chart builder shares: options, typography, the phase boundary, interval bands,
 * axes, the legend's layout. Builders are pure functions that return plain JSON-serialisable
 * ECharts options (no functions, no NaN), so one builder feeds the live UI, the comparison page
 * and the headless export. Runs anywhere: only echarts TYPES are imported.
 */
import type {
  EChartsOption,
  GridComponentOption,
  LegendComponentOption,
  LineSeriesOption,
  TitleComponentOption,
  TooltipComponentOption,
  XAXisComponentOption,
  YAXisComponentOption,
} from 'echarts';
import type { Accuracy, InstrumentsEvent, MetricsEvent } from '../events.ts';
import { theme as themeOf, type Theme, type ThemeName } from './palette.ts';

/** The font family we ship (the npm package `source-sans`), as the SVG export names it. */
export const FONT_FAMILY = 'Source Sans 3';
/** The CSS font stack for the option's textStyle (quoted: "3" alone is not a CSS identifier). */
export const FONT_STACK = "'Source Sans 3', 'Source Sans Pro', sans-serif";

/**
 * Font sizes in CSS px. Figures are laid out at 96 px per inch and printed at 72 pt per inch,
 * so 12 px = 9 pt and 11 px = 8.25 pt at any paper size.
 */
export const fontSizes = { title: 13, axisName: 12, tick: 11, legend: 11, label: 11 } as const;

/** Paper sizes in inches (render.ts converts them to CSS px and to PDF points). */
export const paperInches = {
  /** One column of a two-column paper. */
  column: { width: 3.5, height: 2.6 },
  /** One column, taller: two stacked panels. */
  columnTall: { width: 3.5, height: 3.6 },
  /** Both columns. */
  wide: { width: 7.0, height: 3.0 },
  /** Both columns, taller. */
  wideTall: { width: 7.0, height: 4.2 },
  /** A 16:9 slide. */
  slide: { width: 10.0, height: 5.625 },
} as const;

export type PaperName = keyof typeof paperInches;

/** CSS px per inch: the layout unit of the SVG and PNG exports. */
export const PX_PER_INCH = 96;

export interface ChartOptions {
  /** For exports: no animation, opaque theme background. */
  readonly static?: boolean;
  /** Light (default) or dark text, axes and background. */
  readonly theme?: ThemeName;
  /** A title drawn inside the figure (none by default: papers put it in the caption). */
  readonly title?: string;
  /** Width the figure will be drawn at, in CSS px; only used to lay out the legend (default 640). */
  readonly width?: number;
  /** Height the figure will be drawn at, in CSS px; only used to split stacked panels evenly. */
  readonly height?: number;
}

/** A number fit for an option: rounded to 5 significant digits; null (a gap) when not finite. */
export function num(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  if (value === 0) return 0;
  return Number(value.toPrecision(5));
}

/** A short, readable number for labels (eps 0.3, limits 1.23). */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(digits)));
}

/**
 * The clean → adversarial switch: the last global epoch whose phase is 'clean', when the run also
 * has an adversarial phase; null for single-phase protocols.
 */
export function phaseBoundary(result: {
  readonly metrics: readonly Pick<MetricsEvent, 'phase' | 'globalEpoch'>[];
  readonly instruments?: readonly Pick<InstrumentsEvent, 'phase' | 'globalEpoch'>[];
}): number | null {
  let lastClean = -Infinity;
  let adversarial = false;
  for (const list of [result.metrics, result.instruments ?? []]) {
    for (const e of list) {
      if (e.phase === 'clean') lastClean = Math.max(lastClean, e.globalEpoch);
      else if (e.phase === 'adversarial') adversarial = true;
    }
  }
  return adversarial && Number.isFinite(lastClean) ? lastClean : null;
}

/** The label of the boundary marker. */
export const BOUNDARY_LABEL = 'clean → adversarial';

/** Norm in print: ℓ2, ℓ∞. */
export function normLabel(norm: string): string {
  if (norm === 'l2') return 'ℓ2';
  if (norm === 'linf') return 'ℓ∞';
  return norm;
}

/** The attack's short name: "PGD-20 (l2, step …)" → "PGD-20". */
export function attackShortName(attack: string): string {
  const cut = attack.indexOf(' (');
  return (cut > 0 ? attack.slice(0, cut) : attack).trim();
}

/** An accuracy's estimate and interval as numbers, or null when missing. */
export function accuracyPoint(a: Accuracy | null | undefined): { est: number; lo: number; hi: number } | null {
  if (!a) return null;
  const est = num(a.estimate);
  const lo = num(a.lower);
  const hi = num(a.upper);
  if (est === null || lo === null || hi === null) return null;
  return { est, lo, hi };
}

export interface BandPoint {
  readonly x: number | string;
  readonly lo: number | null;
  readonly hi: number | null;
}

/**
 * A filled band between lo and hi: two stacked line series (the lower edge, invisible, then the
 * width hi − lo with an area). Both carry `name`, so toggling that legend entry hides the band.
 * Hidden from tooltips.
 */
export function bandSeries(args: {
  name: string;
  points: readonly BandPoint[];
  color: string;
  opacity: number;
  /** Unique within the chart (the series ids derive from it). */
  stack: string;
  xAxisIndex?: number;
  yAxisIndex?: number;
  z?: number;
}): LineSeriesOption[] {
  const stack = args.stack;
  const lower: (number | string | null)[][] = [];
  const width: (number | string | null)[][] = [];
  for (const p of args.points) {
    const ok = p.lo !== null && p.hi !== null;
    lower.push([p.x, ok ? p.lo : null]);
    width.push([p.x, ok ? num((p.hi as number) - (p.lo as number)) : null]);
  }
  const common = {
    type: 'line' as const,
    name: args.name,
    stack,
    stackStrategy: 'all' as const,
    symbol: 'none',
    silent: true,
    tooltip: { show: false },
    emphasis: { disabled: true },
    z: args.z ?? 1,
    ...(args.xAxisIndex !== undefined ? { xAxisIndex: args.xAxisIndex } : {}),
    ...(args.yAxisIndex !== undefined ? { yAxisIndex: args.yAxisIndex } : {}),
  };
  return [
    { ...common, id: `${stack}-lower`, data: lower, lineStyle: { opacity: 0 } },
    {
      ...common,
      id: `${stack}-width`,
      data: width,
      lineStyle: { opacity: 0 },
      areaStyle: { color: args.color, opacity: args.opacity },
    },
  ] as LineSeriesOption[];
}

/** The id of the helper series that carries the phase-boundary markLine (index = grid). */
export function boundarySeriesId(grid = 0): string {
  return `phase-boundary-${grid}`;
}

/**
 * An empty line series carrying the dashed vertical phase-boundary line, labelled
 * "clean → adversarial" (the label only where `label` is true). Not in the legend.
 *
 * The label sits above the line, centred on it, unless `along` (where the line lies along the x
 * axis, 0 at its start and 1 at its end; boundaryAlong) puts it in the axis's outer quarters
 * (boundaryLabelAlign): there the label ends, or starts, at the line, so that a long clean phase
 * (mnist-mlp: 150 of 160 epochs) or a short one does not push it past the plot's edge.
 */
export function boundarySeries(
  boundary: number | string,
  t: Theme,
  opts: { xAxisIndex?: number; yAxisIndex?: number; label?: boolean; grid?: number; along?: number } = {},
): LineSeriesOption {
  const align = opts.along === undefined ? undefined : boundaryLabelAlign(opts.along);
  return {
    type: 'line',
    id: boundarySeriesId(opts.grid ?? 0),
    name: BOUNDARY_LABEL,
    data: [],
    silent: true,
    tooltip: { show: false },
    ...(opts.xAxisIndex !== undefined ? { xAxisIndex: opts.xAxisIndex } : {}),
    ...(opts.yAxisIndex !== undefined ? { yAxisIndex: opts.yAxisIndex } : {}),
    markLine: {
      silent: true,
      symbol: ['none', 'none'],
      animation: false,
      lineStyle: { color: t.boundary, type: 'dashed', width: 1 },
      label: {
        show: opts.label ?? true,
        formatter: BOUNDARY_LABEL,
        position: 'end',
        color: t.subtleText,
        fontSize: fontSizes.label,
        distance: 2,
        ...(align ? { align } : {}),
      },
      emphasis: { disabled: true },
      data: [{ xAxis: boundary }],
    },
    z: 5,
  };
}

/** Where a boundary lies along an x axis from `start` to `end`: 0 at the start, 1 at the end. */
export function boundaryAlong(boundary: number, start: number, end: number): number {
  return end > start ? (boundary - start) / (end - start) : 0.5;
}

/**
 * How the boundary label aligns to its line at `along`: centred, unless the line is in the
 * axis's outer quarter on either side, where a centred label (about 100 px of text) would cross
 * the plot's edge on a figure a column wide; there it extends inwards from the line. A plot at
 * least twice the label's width then holds it wherever the line is.
 */
export function boundaryLabelAlign(along: number): 'left' | 'right' | undefined {
  return along >= 0.75 ? 'right' : along <= 0.25 ? 'left' : undefined;
}

/** Room above the plot for the boundary label (drawn just above the plot's top edge). */
export const BOUNDARY_LABEL_ROOM = 14;

/**
 * A legend icon drawn as a line is (solid, or dashed for any other style), with the line's colour:
 * ECharts' default line icon is always solid, so a legend could not show a line-style channel.
 */
export function lineLegendIcon(dash: unknown): string {
  return dash === 'solid' || dash === undefined ? 'path://M0,4h24v2.5h-24z' : 'path://M0,4h6v2.5h-6zM9,4h6v2.5h-6zM18,4h6v2.5h-6z';
}

/** An entry of the legend: a series name, and an icon for bands. */
export interface LegendEntry {
  readonly name: string;
  /** A filled rectangle in this colour (bands); lines use the series' own icon. */
  readonly swatch?: { readonly color: string; readonly opacity: number };
}

// rowPitch: the distance between two legend rows as ECharts lays them out with these settings.
const LEGEND_ITEM = { width: 16, height: 9, gap: 10, textGap: 5, lineHeight: 15, rowPitch: 17.2 } as const;

/** Advance widths of Source Sans 3 Regular in thousandths of an em, for ' ' (32) to '~' (126). */
const ASCII_ADVANCE = [
  200, 289, 426, 497, 497, 824, 609, 249, 303, 303, 418, 497, 249, 311, 249, 350, 497, 497, 497, 497, 497, 497, 497, 497,
  497, 497, 249, 249, 497, 497, 497, 425, 847, 544, 588, 571, 615, 527, 494, 617, 652, 263, 480, 579, 486, 727, 647, 664,
  566, 664, 569, 534, 536, 645, 515, 786, 513, 476, 539, 303, 350, 303, 497, 500, 542, 504, 553, 456, 555, 496, 292, 504,
  544, 246, 247, 495, 255, 829, 547, 542, 555, 555, 347, 419, 338, 544, 467, 719, 446, 467, 425, 303, 241, 303, 497,
];
const OTHER_ADVANCE: Readonly<Record<string, number>> = { 'ε': 448, 'ℓ': 409, '→': 619, '–': 480, '−': 497, '×': 497, '·': 249, '≥': 497, '≤': 497, '‖': 391, '²': 367, '∞': 782 };

/** Width of a text in Source Sans 3 Regular at this size, in px (the metrics of the font we ship). */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    em += (code >= 32 && code <= 126 ? (ASCII_ADVANCE[code - 32] as number) : (OTHER_ADVANCE[ch] ?? 550)) / 1000;
  }
  return em * fontSize;
}

/** How many rows the legend takes at this width (ECharts wraps a horizontal legend). */
export function legendRows(entries: readonly LegendEntry[], width: number): number {
  const available = Math.max(50, width - 4);
  let rows = 1;
  let x = 0;
  for (const e of entries) {
    const w = LEGEND_ITEM.width + LEGEND_ITEM.textGap + textWidth(e.name, fontSizes.legend);
    if (x > 0 && x + w > available) {
      rows++;
      x = 0;
    }
    x += w + LEGEND_ITEM.gap;
  }
  return rows;
}

/** Height of the legend block at this width, in px. */
export function legendHeight(entries: readonly LegendEntry[], width: number): number {
  if (entries.length === 0) return 0;
  const rows = legendRows(entries, width);
  return Math.ceil(LEGEND_ITEM.lineHeight + (rows - 1) * LEGEND_ITEM.rowPitch);
}

/** The frame every chart has: animation, background, font, optional title, legend on top, tooltip. */
export function frame(
  options: ChartOptions,
  legend: readonly LegendEntry[],
  tooltip: TooltipComponentOption = { trigger: 'axis' },
): { option: EChartsOption; top: number; theme: Theme } {
  const t = themeOf(options.theme);
  const width = options.width ?? 640;
  const titleHeight = options.title ? fontSizes.title + 10 : 0;
  const legendTop = 4 + titleHeight;
  const lh = legendHeight(legend, width);
  const top = legendTop + lh + (lh > 0 ? 10 : 4);
  const title: TitleComponentOption[] = options.title
    ? [
        {
          text: options.title,
          left: 'center',
          top: 2,
          textStyle: { color: t.text, fontSize: fontSizes.title, fontWeight: 'bold', fontFamily: FONT_STACK },
        },
      ]
    : [];
  const legendOption: LegendComponentOption = {
    show: legend.length > 0,
    type: 'plain',
    orient: 'horizontal',
    left: 'center',
    top: legendTop,
    padding: 0,
    itemWidth: LEGEND_ITEM.width,
    itemHeight: LEGEND_ITEM.height,
    itemGap: LEGEND_ITEM.gap,
    textStyle: { color: t.text, fontSize: fontSizes.legend, fontFamily: FONT_STACK },
    inactiveColor: t.split,
    data: legend.map((e) =>
      e.swatch
        ? { name: e.name, icon: 'rect', itemStyle: { color: e.swatch.color, opacity: Math.min(1, e.swatch.opacity * 1.6) } }
        : { name: e.name },
    ),
  };
  const option: EChartsOption = {
    animation: !options.static,
    backgroundColor: options.static ? t.background : 'transparent',
    textStyle: { fontFamily: FONT_STACK, color: t.text, fontSize: fontSizes.tick },
    title,
    legend: legendOption,
    tooltip: {
      confine: true,
      ...tooltip,
      textStyle: { fontFamily: FONT_STACK, fontSize: 12 },
    },
  };
  return { option, top, theme: t };
}

/** A grid with room for the axis names (ECharts 6 shrinks it further if labels need it). */
export function grid(top: number, extra: Partial<GridComponentOption> = {}): GridComponentOption {
  return {
    left: 52,
    right: 14,
    top,
    bottom: 38,
    outerBoundsMode: 'auto',
    outerBounds: { left: 2, right: 2, top: 0, bottom: 2 },
    ...extra,
  } as GridComponentOption;
}

function axisCommon(t: Theme) {
  return {
    axisLine: { show: true, lineStyle: { color: t.axis } },
    axisTick: { show: true, lineStyle: { color: t.axis } },
    axisLabel: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK, hideOverlap: true },
    splitLine: { show: true, lineStyle: { color: t.split, width: 1 } },
    nameTextStyle: { color: t.text, fontSize: fontSizes.axisName, fontFamily: FONT_STACK },
  };
}

/** A horizontal value axis named below its labels. */
export function xValueAxis(t: Theme, name: string, extra: Partial<XAXisComponentOption> = {}): XAXisComponentOption {
  const c = axisCommon(t);
  return {
    type: 'value',
    name,
    nameLocation: 'middle',
    nameGap: 20,
    ...c,
    splitLine: { show: false },
    ...extra,
  } as XAXisComponentOption;
}

/** 1, 2, 5, 10, 20, 50, ... at or above x. */
export function niceStep(x: number): number {
  if (!(x > 1)) return 1;
  const mag = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * mag >= x) return m * mag;
  return 10 * mag;
}

/** The epoch axis from 0 to the last epoch, ticks at a round step (the last epoch unlabelled when off the step). */
export function epochAxis(t: Theme, last: number, extra: Partial<XAXisComponentOption> = {}): XAXisComponentOption {
  const max = Math.max(1, last);
  const step = niceStep(max / 6);
  const base = xValueAxis(t, 'epoch', { min: 0, max, interval: step, ...extra });
  const axisLabel = { ...((base as { axisLabel?: object }).axisLabel ?? {}), showMaxLabel: max % step === 0 };
  // Epochs are whole: the tooltip's heading snaps to the nearest one and prints no decimals.
  const axisPointer = { snap: true, label: { precision: 0 } };
  return { ...base, axisLabel, axisPointer } as XAXisComponentOption;
}

/** A vertical value axis named along its side. */
export function yValueAxis(t: Theme, name: string, extra: Partial<YAXisComponentOption> = {}): YAXisComponentOption {
  const c = axisCommon(t);
  return {
    type: 'value',
    name,
    nameLocation: 'middle',
    nameGap: 32,
    nameRotate: 90,
    ...c,
    ...extra,
  } as YAXisComponentOption;
}

/** A category axis (heatmaps). */
export function categoryAxis(
  t: Theme,
  name: string,
  data: readonly string[],
  extra: Partial<XAXisComponentOption> = {},
): XAXisComponentOption {
  const c = axisCommon(t);
  return {
    type: 'category',
    name,
    data: [...data],
    nameLocation: 'middle',
    nameGap: 20,
    ...c,
    splitLine: { show: false },
    splitArea: { show: false },
    ...extra,
  } as XAXisComponentOption;
}

/** Legend names of the two phases. */
export const PHASE_NAMES = { clean: 'clean phase', adversarial: 'adversarial phase' } as const;
/** Legend names of the distribution bands. */
export const BAND_NAMES = { quartiles: 'q1–q3', range: 'min–max' } as const;
/** Legend name of a distribution's median line. */
export const MEDIAN_NAME = 'median over neurons';

/** One snapshot of a per-neuron distribution. */
export interface DistributionPoint {
  readonly x: number;
  readonly summary: { readonly min: number; readonly q1: number; readonly median: number; readonly q3: number; readonly max: number };
}

/**
 * A per-neuron distribution over training: the median as a line, the quartile band (q1–q3) and,
 * optionally, the faint min–max band, all in one colour (the quantity's, by default the theme's
 * foreground). The phase is not a colour (see palette.ts): the caller adds `adversarialPhaseSeries`
 * and the boundary. `phases` lists the phases the points cover, for the legend.
 */
export function phaseDistributionSeries(args: {
  id: string;
  points: readonly DistributionPoint[];
  boundary: number | null;
  /** The phase of a run without a boundary. */
  singlePhase: 'clean' | 'adversarial';
  /** Default: the theme's foreground. */
  color?: string;
  theme: Theme;
  range?: boolean;
  xAxisIndex?: number;
  yAxisIndex?: number;
}): { series: LineSeriesOption[]; phases: ('clean' | 'adversarial')[] } {
  const sorted = [...args.points].sort((a, b) => a.x - b.x);
  const axes = {
    ...(args.xAxisIndex !== undefined ? { xAxisIndex: args.xAxisIndex } : {}),
    ...(args.yAxisIndex !== undefined ? { yAxisIndex: args.yAxisIndex } : {}),
  };
  const series: LineSeriesOption[] = [];
  if (sorted.length === 0) return { series, phases: [] };
  const b = args.boundary;
  const phases: ('clean' | 'adversarial')[] =
    b === null ? [args.singlePhase] : (['clean', 'adversarial'] as const).filter((p) => sorted.some((q) => (p === 'clean' ? q.x <= b : q.x >= b)));
  const color = args.color ?? args.theme.text;
  series.push({
    type: 'line',
    id: `${args.id}-median`,
    name: MEDIAN_NAME,
    data: sorted.map((p) => [p.x, num(p.summary.median)]),
    color,
    lineStyle: { color, width: 2 },
    itemStyle: { color },
    showSymbol: false,
    symbol: 'circle',
    symbolSize: 3,
    z: 4,
    ...axes,
  });
  series.push(
    ...bandSeries({
      name: BAND_NAMES.quartiles,
      points: sorted.map((p) => ({ x: p.x, lo: num(p.summary.q1), hi: num(p.summary.q3) })),
      color,
      opacity: args.theme.bandOpacity,
      stack: `${args.id}-quartiles`,
      z: 2,
      ...axes,
    }),
  );
  if (args.range) {
    series.push(
      ...bandSeries({
        name: BAND_NAMES.range,
        points: sorted.map((p) => ({ x: p.x, lo: num(p.summary.min), hi: num(p.summary.max) })),
        color,
        opacity: args.theme.faintBandOpacity,
        stack: `${args.id}-range`,
        z: 1,
        ...axes,
      }),
    );
  }
  return { series, phases };
}

/** The legend of a distribution chart: the median, the bands, and the adversarial phase's shade if shown. */
export function distributionLegend(
  phases: readonly ('clean' | 'adversarial')[],
  t: Theme,
  range: boolean,
): LegendEntry[] {
  const entries: LegendEntry[] = [{ name: MEDIAN_NAME }];
  entries.push({ name: BAND_NAMES.quartiles, swatch: { color: t.text, opacity: t.bandOpacity } });
  if (range) entries.push({ name: BAND_NAMES.range, swatch: { color: t.text, opacity: t.faintBandOpacity } });
  if (phases.includes('adversarial')) entries.push(adversarialPhaseLegend(t));
  return entries;
}

/** The id of the helper series that shades the adversarial phase (index = grid). */
export function adversarialPhaseSeriesId(grid = 0): string {
  return `adversarial-phase-${grid}`;
}

/**
 * The phase's channel (palette.ts): a neutral shade over the adversarial phase, from `from` (the
 * boundary, or the first epoch of a run that trains adversarially throughout) to `to`, as an
 * empty line series named "adversarial phase" carrying a markArea, so the legend shows its swatch.
 */
export function adversarialPhaseSeries(
  from: number,
  to: number,
  t: Theme,
  opts: { xAxisIndex?: number; yAxisIndex?: number; grid?: number } = {},
): LineSeriesOption {
  return {
    type: 'line',
    id: adversarialPhaseSeriesId(opts.grid ?? 0),
    name: PHASE_NAMES.adversarial,
    data: [],
    silent: true,
    tooltip: { show: false },
    color: t.phaseShade,
    ...(opts.xAxisIndex !== undefined ? { xAxisIndex: opts.xAxisIndex } : {}),
    ...(opts.yAxisIndex !== undefined ? { yAxisIndex: opts.yAxisIndex } : {}),
    markArea: {
      silent: true,
      animation: false,
      itemStyle: { color: t.phaseShade, opacity: t.phaseShadeOpacity },
      emphasis: { disabled: true },
      data: [[{ xAxis: from }, { xAxis: to }]],
    },
    z: 0,
  };
}

/** The legend entry of the adversarial phase's shade. */
export function adversarialPhaseLegend(t: Theme): LegendEntry {
  return { name: PHASE_NAMES.adversarial, swatch: { color: t.phaseShade, opacity: t.phaseShadeOpacity * 1.6 } };
}

/**
 * Where a run's adversarial phase lies on the epoch axis: from the boundary to the last epoch, or
 * the whole run when it trains adversarially throughout; null when it has none.
 */
export function adversarialSpan(boundary: number | null, singlePhase: 'clean' | 'adversarial', first: number, last: number): [number, number] | null {
  if (boundary !== null) return boundary < last ? [boundary, last] : null;
  return singlePhase === 'adversarial' ? [first, last] : null;
}

/** The phase of a run that has no boundary: adversarial if it trained adversarially at all. */
export function singlePhaseOf(events: readonly { readonly phase: string }[]): 'clean' | 'adversarial' {
  return events.some((e) => e.phase === 'adversarial') ? 'adversarial' : 'clean';
}
