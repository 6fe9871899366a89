/**
 * Several runs in one chart, for the comparison view: accuracy over training and the median
 * mixture ratio over training, either each run overlaid (colour = the run, line style = what is
 * measured or the phase, runStyles.ts), or, when the runs differ only in seed, the mean ± std
 * over seeds as a band (shared/aggregate.ts meanStd, sample std). Pure option builders in the
 * style of shared/charts, built from its frame, axes and bands so they read like the run's own
 * figures. Each overlay's legend has one entry per run (its colour; clicking it hides all of the
 * run's lines) and one per line style, drawn in a neutral colour.
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import { meanStd } from '../aggregate.ts';
import {
  bandSeries,
  BOUNDARY_LABEL_ROOM,
  boundaryAlong,
  boundarySeries,
  epochAxis,
  epsAxisName,
  frame,
  grid,
  MIXTURE_AXIS_NAME,
  num,
  phaseBoundary,
  ROBUST_AXIS_NAME,
  xValueAxis,
  yValueAxis,
  type ChartOptions,
  type LegendEntry,
} from './index.ts';
import type { Theme } from './palette.ts';
import { hasDictionaryInstruments, type Evaluation, type InstrumentsEvent, type MetricsEvent } from '../events.ts';
import { COHERENT_SHARE_AXIS_NAME, mixtureQuantities, type MixtureQuantity } from './mixtureAccumulation.ts';
import { ACCURACY_DASH, CURVE_DASH, PHASE_DASH, runColor, runWidth, SOLID, type Dash } from './runStyles.ts';

export interface OverlayRun {
  readonly name: string;
  readonly metrics: readonly MetricsEvent[];
  readonly instruments: readonly InstrumentsEvent[];
  readonly evaluations: readonly Evaluation[];
}

export type AccuracyKind = 'clean' | 'robust' | 'mixture';

const ACCURACY = {
  clean: { label: 'clean' },
  robust: { label: 'robust' },
  mixture: { label: 'mixture dir.' },
} as const;

/** A run's accuracy of one kind over training, as [epoch, value] (robust: where measured, phase ends included). */
export function accuracyPoints(run: OverlayRun, kind: AccuracyKind): [number, number][] {
  const out = new Map<number, number>();
  for (const m of run.metrics) {
    const a = kind === 'clean' ? m.cleanAccuracy : kind === 'mixture' ? m.mixtureDirectionAccuracy : m.robustAccuracy;
    if (a && Number.isFinite(a.estimate)) out.set(m.globalEpoch, a.estimate);
  }
  if (kind === 'robust') for (const e of run.evaluations) if (!out.has(e.globalEpoch)) out.set(e.globalEpoch, e.robustAccuracy.estimate);
  return [...out.entries()].sort((a, b) => a[0] - b[0]);
}

function lastEpoch(runs: readonly OverlayRun[]): number {
  let last = 1;
  for (const r of runs) last = Math.max(last, r.metrics[r.metrics.length - 1]?.globalEpoch ?? 0, r.instruments[r.instruments.length - 1]?.globalEpoch ?? 0);
  return last;
}

/** The boundaries of the runs (one marker when they agree). */
function boundaries(runs: readonly OverlayRun[]): number[] {
  return [...new Set(runs.map((r) => phaseBoundary(r)).filter((b): b is number => b !== null))];
}

function line(id: string, name: string, data: (number | null)[][], color: string, dash: Dash, width = 1.7): LineSeriesOption {
  return { type: 'line', id, name, data, color, lineStyle: { color, width, type: dash }, itemStyle: { color }, showSymbol: false, symbol: 'circle', symbolSize: 3, connectNulls: true, z: 3 };
}

/** A legend-only series: the name of a line style, drawn in the theme's neutral colour. */
function styleKey(id: string, name: string, dash: Dash, t: Theme): LineSeriesOption {
  return { type: 'line', id, name, data: [], color: t.subtleText, lineStyle: { color: t.subtleText, width: 1.7, type: dash }, itemStyle: { color: t.subtleText }, showSymbol: false, silent: true };
}

/** Legend icons wide enough to show a dash pattern. */
function withWideIcons(option: EChartsOption): EChartsOption['legend'] {
  return { ...(option.legend as object), itemWidth: 28 } as EChartsOption['legend'];
}

/** The run names, in their colours, then the line styles in use. */
function overlayLegend(runs: readonly { name: string }[], keys: readonly { name: string }[]): LegendEntry[] {
  return [...runs.map((r) => ({ name: r.name })), ...keys.map((k) => ({ name: k.name }))];
}

/** Accuracy over training for each run: colour = run, line style = what is measured. */
export function accuracyOverlay(runs: readonly OverlayRun[], kinds: readonly AccuracyKind[], options: ChartOptions = {}): EChartsOption {
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const shown = new Set<AccuracyKind>();
  const named: { name: string }[] = [];
  runs.forEach((run, ri) => {
    let any = false;
    for (const kind of kinds) {
      const pts = accuracyPoints(run, kind);
      if (pts.length === 0) continue;
      any = true;
      shown.add(kind);
      // Every line of a run carries the run's name: its legend entry shows and hides them together.
      series.push({ ...line(`run-${ri}-${kind}`, run.name, pts, runColor(ri), ACCURACY_DASH[kind], runWidth(ri, runs.length)), showSymbol: kind === 'robust' && pts.length < 40 });
    }
    if (any) named.push(run);
  });
  const keys = kinds.filter((k) => shown.has(k)).map((k) => ({ name: `${ACCURACY[k].label} accuracy`, dash: ACCURACY_DASH[k] }));
  return overlayFrame(runs, series, named, keys, options, yValueAxis(t, 'accuracy (fraction)', { min: 0, max: 1, interval: 0.2 }));
}

/** Mean ± std over runs at each epoch that every run has (seeds of one experiment). */
export function meanStdPoints(perRun: readonly (readonly [number, number][])[]): { x: number; mean: number; std: number; n: number }[] {
  const byEpoch = new Map<number, number[]>();
  for (const pts of perRun) for (const [x, v] of pts) byEpoch.set(x, [...(byEpoch.get(x) ?? []), v]);
  return [...byEpoch.entries()]
    .filter(([, values]) => values.length === perRun.length)
    .sort((a, b) => a[0] - b[0])
    .map(([x, values]) => ({ x, ...meanStd(values) }));
}

function meanStdSeries(id: string, name: string, pts: ReturnType<typeof meanStdPoints>, color: string, opacity: number, axes: { xAxisIndex?: number; yAxisIndex?: number } = {}): LineSeriesOption[] {
  return [
    { ...line(id, name, pts.map((p) => [p.x, num(p.mean)]), color, SOLID, 2), showSymbol: pts.length <= 30, ...axes },
    ...bandSeries({ name, points: pts.map((p) => ({ x: p.x, lo: num(p.mean - p.std), hi: num(p.mean + p.std) })), color, opacity, stack: `${id}-band`, ...axes }),
  ];
}

/** Accuracy over training as mean ± std over seeds (the band is ± one sample std). */
export function accuracyMeanStd(runs: readonly OverlayRun[], kinds: readonly AccuracyKind[], options: ChartOptions = {}): EChartsOption {
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  for (const kind of kinds) {
    const pts = meanStdPoints(runs.map((r) => accuracyPoints(r, kind)));
    if (pts.length === 0) continue;
    const name = `${ACCURACY[kind].label}, mean ± std (n = ${runs.length})`;
    legend.push({ name });
    // Seeds of one experiment: one colour (the experiment's), the accuracy told by line style.
    series.push(...meanStdSeries(`mean-${kind}`, name, pts, runColor(0), t.bandOpacity).map((s, i) => (i === 0 ? { ...s, lineStyle: { ...s.lineStyle, type: ACCURACY_DASH[kind] } } : s)));
  }
  const marks = boundaries(runs);
  marks.forEach((b, i) => series.push(boundarySeries(b, t, { grid: i, label: i === 0, along: boundaryAlong(b, 0, lastEpoch(runs)) })));
  const { option, top } = frame(options, legend);
  return {
    ...option,
    grid: grid(top + (marks.length > 0 ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, lastEpoch(runs)),
    yAxis: yValueAxis(t, 'accuracy (fraction)', { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}

/**
 * The frame every per-run overlay shares: the line-style keys after the runs' series, the phase
 * boundaries, the legend (runs, then keys, with wide icons so a dash shows), and the epoch axis.
 */
function overlayFrame(
  runs: readonly OverlayRun[],
  series: LineSeriesOption[],
  named: readonly { name: string }[],
  keys: readonly { name: string; dash: Dash }[],
  options: ChartOptions,
  yAxis: ReturnType<typeof yValueAxis>,
): EChartsOption {
  const t = frame(options, []).theme;
  keys.forEach((k, i) => series.push(styleKey(`key-${i}`, k.name, k.dash, t)));
  const marks = boundaries(runs);
  marks.forEach((b, i) => series.push(boundarySeries(b, t, { grid: i, label: i === 0, along: boundaryAlong(b, 0, lastEpoch(runs)) })));
  const { option, top } = frame(options, overlayLegend(named, keys));
  return {
    ...option,
    legend: withWideIcons(option),
    grid: grid(top + (marks.length > 0 ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, lastEpoch(runs)),
    yAxis,
    series,
  };
}

/** A run's median of a per-neuron quantity (default the mixture ratio), split at its boundary into the clean and the adversarial phase. */
function medianByPhase(run: OverlayRun, quantity: MixtureQuantity = 'mixture-ratio'): { clean: [number, number][]; adversarial: [number, number][] } {
  const boundary = phaseBoundary(run);
  const clean: [number, number][] = [];
  const adversarial: [number, number][] = [];
  for (const s of run.instruments) {
    // The mixture ratio needs only itself; kappa needs the coherence too (or its own record).
    const median = quantity === 'mixture-ratio' ? s.mixtureRatio?.summary.median : hasDictionaryInstruments(s) ? mixtureQuantities[quantity].of(s).summary.median : undefined;
    if (median === undefined) continue;
    const p: [number, number] = [s.globalEpoch, median];
    const inClean = boundary === null ? s.phase !== 'adversarial' : s.globalEpoch <= boundary;
    const inAdv = boundary === null ? s.phase === 'adversarial' : s.globalEpoch >= boundary;
    if (inClean) clean.push(p);
    if (inAdv) adversarial.push(p);
  }
  return { clean, adversarial };
}

/** The value axis of a median overlay: the mixture ratio on [0, 1]; kappa on the range its medians reach, always showing 0. */
function medianAxis(t: Theme, quantity: MixtureQuantity, medians: readonly [number, number][][]) {
  if (quantity === 'mixture-ratio') return yValueAxis(t, `median ${MIXTURE_AXIS_NAME}`, { min: 0, max: 1, interval: 0.2 });
  const values = medians.flat().map(([, v]) => v).filter((v) => Number.isFinite(v));
  const lo = Math.floor(Math.min(0, ...values) * 10) / 10;
  const hi = Math.ceil(Math.max(0.1, ...values) * 10) / 10;
  return yValueAxis(t, `median ${COHERENT_SHARE_AXIS_NAME}`, { min: lo, max: hi, interval: 0.1 });
}

/** Which per-neuron quantity a median overlay draws (default the mixture ratio). */
export interface MedianOverlayOptions extends ChartOptions {
  readonly quantity?: MixtureQuantity;
}

/** The median of a per-neuron quantity over training for each run: colour = run, line style = phase. */
export function mixtureMedianOverlay(runs: readonly OverlayRun[], options: MedianOverlayOptions = {}): EChartsOption {
  const quantity = options.quantity ?? 'mixture-ratio';
  const medians: [number, number][][] = [];
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const named: { name: string }[] = [];
  let anyAdversarial = false;
  runs.forEach((run, ri) => {
    const { clean, adversarial } = medianByPhase(run, quantity);
    medians.push(clean, adversarial);
    // Both phase segments carry the run's name: one legend entry, in the run's colour.
    const name = run.name;
    if (clean.length + adversarial.length === 0) return;
    named.push(run);
    if (clean.length > 0) series.push(line(`run-${ri}-median-clean`, name, clean.map(([x, v]) => [x, num(v)]), runColor(ri), PHASE_DASH.clean, runWidth(ri, runs.length, 1.9)));
    if (adversarial.length > 0) {
      anyAdversarial = true;
      series.push(line(`run-${ri}-median-adversarial`, name, adversarial.map(([x, v]) => [x, num(v)]), runColor(ri), PHASE_DASH.adversarial, runWidth(ri, runs.length, 1.9)));
    }
  });
  const keys = [{ name: 'clean phase', dash: PHASE_DASH.clean }, ...(anyAdversarial ? [{ name: 'adversarial phase', dash: PHASE_DASH.adversarial }] : [])];
  return overlayFrame(runs, series, named, keys, options, medianAxis(t, quantity, medians));
}

/** The median of a per-neuron quantity as mean ± std over seeds; line style = phase. */
export function mixtureMedianMeanStd(runs: readonly OverlayRun[], options: MedianOverlayOptions = {}): EChartsOption {
  const quantity = options.quantity ?? 'mixture-ratio';
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  const phases = runs.map((run) => medianByPhase(run, quantity));
  for (const phase of ['clean', 'adversarial'] as const) {
    const pts = meanStdPoints(phases.map((p) => p[phase]));
    if (pts.length === 0) continue;
    const name = `${phase} phase, mean ± std (n = ${runs.length})`;
    legend.push({ name });
    series.push(...meanStdSeries(`mean-median-${phase}`, name, pts, runColor(0), t.bandOpacity).map((s, i) => (i === 0 ? { ...s, lineStyle: { ...s.lineStyle, type: PHASE_DASH[phase] } } : s)));
  }
  const marks = boundaries(runs);
  marks.forEach((b, i) => series.push(boundarySeries(b, t, { grid: i, label: i === 0, along: boundaryAlong(b, 0, lastEpoch(runs)) })));
  const { option, top } = frame(options, legend);
  return {
    ...option,
    grid: grid(top + (marks.length > 0 ? BOUNDARY_LABEL_ROOM : 0)),
    xAxis: epochAxis(t, lastEpoch(runs)),
    yAxis: medianAxis(t, quantity, phases.flatMap((p) => [p.clean, p.adversarial])),
    series,
  };
}

export interface RobustOverlayRun {
  readonly name: string;
  /** The run's final evaluation. */
  readonly evaluation: Evaluation;
  /** The run's colour (runStyles.runColor). */
  readonly color: string;
}

function curveOf(e: Evaluation, which: 'worst' | 'mixture'): [number, number][] {
  const curve = which === 'worst' ? e.worstCase : e.curves.find((c) => c.attack.toLowerCase().startsWith('mixture'));
  return curve ? curve.eps.map((x, i) => [x, curve.accuracy[i]?.estimate ?? NaN] as [number, number]).filter(([, v]) => Number.isFinite(v)) : [];
}

function epsAxisMax(runs: readonly RobustOverlayRun[]): number {
  let max = 0;
  for (const r of runs) for (const v of r.evaluation.worstCase.eps) max = Math.max(max, v);
  return max > 0 ? max : 1;
}

/**
 * Robust accuracy vs ε of several runs' final models: colour = run, the per-sample worst case
 * solid and the mixture-direction attack dotted; or, for seeds, both as mean ± std over the runs.
 */
export function robustOverlay(runs: readonly RobustOverlayRun[], options: ChartOptions & { markEps?: number; mean?: boolean } = {}): EChartsOption {
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  const norm = runs[0]?.evaluation.norm ?? 'l2';
  if (options.mean) {
    for (const which of ['worst', 'mixture'] as const) {
      const pts = meanStdPoints(runs.map((r) => curveOf(r.evaluation, which)));
      if (pts.length === 0) continue;
      const name = `${which === 'worst' ? 'worst case' : 'mixture dir.'}, mean ± std (n = ${runs.length})`;
      legend.push({ name });
      const color = runs[0]?.color ?? runColor(0);
      series.push(...meanStdSeries(`mean-${which}`, name, pts, color, t.bandOpacity).map((s, i) => (i === 0 ? { ...s, showSymbol: true, lineStyle: { ...s.lineStyle, type: CURVE_DASH[which] } } : s)));
    }
  } else {
    const shown = new Set<'worst' | 'mixture'>();
    runs.forEach((run, ri) => {
      let any = false;
      for (const which of ['worst', 'mixture'] as const) {
        const pts = curveOf(run.evaluation, which);
        if (pts.length === 0) continue;
        any = true;
        shown.add(which);
        series.push({ ...line(`run-${ri}-${which}`, run.name, pts.map(([x, v]) => [num(x), num(v)]), run.color, CURVE_DASH[which], runWidth(ri, runs.length, which === 'worst' ? 2.2 : 1.4)), showSymbol: true, symbolSize: 4 });
      }
      if (any) legend.push({ name: run.name });
    });
    const keys = (['worst', 'mixture'] as const).filter((w) => shown.has(w)).map((w) => ({ name: w === 'worst' ? 'worst case over all attacks' : 'mixture direction', dash: CURVE_DASH[w] }));
    keys.forEach((k, i) => {
      legend.push({ name: k.name });
      series.push(styleKey(`key-${i}`, k.name, k.dash, t));
    });
  }
  if (options.markEps !== undefined) {
    series.push({
      type: 'line',
      id: 'eps-marker',
      name: 'ε marker',
      data: [],
      silent: true,
      markLine: { silent: true, symbol: ['none', 'none'], lineStyle: { color: t.boundary, type: 'dotted', width: 1 }, label: { formatter: `ε = ${options.markEps}`, position: 'insideEndTop', color: t.subtleText }, data: [{ xAxis: options.markEps }] },
    });
  }
  const { option, top } = frame(options, legend);
  return {
    ...option,
    legend: withWideIcons(option),
    grid: grid(top),
    xAxis: xValueAxis(t, epsAxisName(norm), { min: 0, max: epsAxisMax(runs) }),
    yAxis: yValueAxis(t, ROBUST_AXIS_NAME, { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}
