/**
 * Robust accuracy against the perturbation radius eps.
 *
 *   robustCurve            one evaluation: every attack in its own colour, and the per-sample worst
 *                          case over all of them (the tightest upper bound on robust accuracy),
 *                          thicker and dashed in black; each with its 95 % interval band.
 *   robustCurveComparison  two or more evaluations overlaid: colour = the attack (the worst case
 *                          in the foreground), line style = the model (after clean training
 *                          dashed, the final model solid), so no hue names a model (palette.ts).
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import type { Evaluation, RobustCurve } from '../events.ts';
import {
  accuracyPoint,
  attackShortName,
  bandSeries,
  fmt,
  fontSizes,
  frame,
  grid,
  lineLegendIcon,
  normLabel,
  num,
  xValueAxis,
  yValueAxis,
  type ChartOptions,
  type LegendEntry,
} from './common.ts';
import { attackColor, MODEL_LINE } from './palette.ts';

export interface RobustCurveOptions extends ChartOptions {
  /** Mark this radius with a vertical line (e.g. the experiment's eps). */
  readonly markEps?: number;
}

export const WORST_CASE_NAME = 'worst case (all attacks)';

export function epsAxisName(norm: string): string {
  return `perturbation radius ε (${normLabel(norm)})`;
}
export const ROBUST_AXIS_NAME = 'robust accuracy (fraction)';

function curvePoints(curve: RobustCurve) {
  return curve.eps.map((eps, i) => ({ x: num(eps) ?? 0, p: accuracyPoint(curve.accuracy[i]) }));
}

function curveSeries(args: {
  id: string;
  name: string;
  curve: RobustCurve;
  color: string;
  width: number;
  dash: 'solid' | 'dashed' | 'dotted' | number[];
  symbol: string;
  bandOpacity: number;
  z: number;
}): LineSeriesOption[] {
  const points = curvePoints(args.curve);
  return [
    {
      type: 'line',
      id: args.id,
      name: args.name,
      data: points.map((q) => [q.x, q.p ? q.p.est : null]),
      color: args.color,
      lineStyle: { color: args.color, width: args.width, type: args.dash },
      itemStyle: { color: args.color },
      symbol: args.symbol,
      symbolSize: 5,
      showSymbol: true,
      z: args.z,
    } as LineSeriesOption,
    ...bandSeries({
      name: args.name,
      points: points.map((q) => ({ x: q.x, lo: q.p ? q.p.lo : null, hi: q.p ? q.p.hi : null })),
      color: args.color,
      opacity: args.bandOpacity,
      stack: `${args.id}-band`,
    }),
  ];
}

function epsMarker(eps: number, color: string): LineSeriesOption {
  return {
    type: 'line',
    id: 'eps-marker',
    name: `ε = ${fmt(eps)}`,
    data: [],
    silent: true,
    tooltip: { show: false },
    markLine: {
      silent: true,
      symbol: ['none', 'none'],
      animation: false,
      lineStyle: { color, type: 'dotted', width: 1 },
      label: { show: true, formatter: `ε = ${fmt(eps)}`, position: 'insideEndTop', color, fontSize: fontSizes.label, distance: 2 },
      emphasis: { disabled: true },
      data: [{ xAxis: eps }],
    },
  };
}

function epsRange(evaluations: readonly Evaluation[]): number {
  let max = 0;
  for (const e of evaluations) for (const c of [...e.curves, e.worstCase]) for (const v of c.eps) max = Math.max(max, v);
  return max > 0 ? max : 1;
}

/** Robust accuracy vs eps for one evaluation: every attack, and the per-sample worst case. */
export function robustCurve(evaluation: Evaluation, options: RobustCurveOptions = {}): EChartsOption {
  const t = frame(options, []).theme;
  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  evaluation.curves.forEach((curve, i) => {
    const name = attackShortName(curve.attack);
    legend.push({ name });
    series.push(
      ...curveSeries({
        id: `attack-${i}`,
        name,
        curve,
        color: attackColor(curve.attack, i),
        width: 1.6,
        dash: 'solid',
        symbol: 'circle',
        bandOpacity: t.bandOpacity * 0.8,
        z: 3,
      }),
    );
  });
  legend.push({ name: WORST_CASE_NAME });
  series.push(
    ...curveSeries({
      id: 'worst-case',
      name: WORST_CASE_NAME,
      curve: evaluation.worstCase,
      color: t.worstCase,
      width: 2.6,
      dash: 'dashed',
      symbol: 'rect',
      bandOpacity: t.bandOpacity * 0.6,
      z: 4,
    }),
  );
  if (options.markEps !== undefined) series.push(epsMarker(options.markEps, t.boundary));
  const { option, top } = frame(options, legend);
  return {
    ...option,
    grid: grid(top),
    xAxis: xValueAxis(t, epsAxisName(evaluation.norm), { min: 0, max: epsRange([evaluation]) }),
    yAxis: yValueAxis(t, ROBUST_AXIS_NAME, { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}

/** One evaluation in a comparison. */
export interface ComparedEvaluation {
  /** Legend name of the model ("clean-trained", "fine-tuned"). */
  readonly name: string;
  readonly evaluation: Evaluation;
  /** Defaults: MODEL_LINE's dash for an 'after-clean' evaluation, its solid for a 'final' one. */
  readonly dash?: LineDash;
}

export interface RobustComparisonOptions extends RobustCurveOptions {
  /** Which curves per evaluation: the worst case and the mixture-direction attack (default), or all. */
  readonly attacks?: 'worst-case' | 'worst-case-and-mixture' | 'all';
}

type LineDash = 'solid' | 'dashed' | 'dotted' | number[];
/** Dashes for evaluations beyond the two models' (a repeated label). */
const EXTRA_DASHES: readonly LineDash[] = ['dotted', [8, 3, 2, 3], [2, 2]];

/** The default legend name of an evaluation. */
export function evaluationName(evaluation: Evaluation, fineTune = true): string {
  if (evaluation.label === 'after-clean') return 'clean-trained';
  return fineTune ? 'fine-tuned' : 'final';
}

/**
 * Two or more evaluations overlaid: colour = the quantity (the worst case in the foreground, each
 * attack in its attack colour, as on the single-model chart), line style = the model (after clean
 * training dashed, the final model solid: palette.ts's MODEL_LINE), so no hue names a model.
 */
export function robustCurveComparison(
  evaluations: readonly ComparedEvaluation[],
  options: RobustComparisonOptions = {},
): EChartsOption {
  const t = frame(options, []).theme;
  const which = options.attacks ?? 'worst-case-and-mixture';
  const series: LineSeriesOption[] = [];
  const legend: LegendEntry[] = [];
  const used = new Set<string>();
  let extra = 0;
  evaluations.forEach((entry, ei) => {
    const byLabel: LineDash = entry.evaluation.label === 'after-clean' ? MODEL_LINE.afterClean : MODEL_LINE.fineTuned;
    const key = JSON.stringify(entry.dash ?? byLabel);
    const dash = entry.dash ?? (used.has(key) ? (EXTRA_DASHES[extra++ % EXTRA_DASHES.length] as LineDash) : byLabel);
    used.add(JSON.stringify(dash));
    const name = `${entry.name} · worst case`;
    legend.push({ name });
    series.push(
      ...curveSeries({
        id: `eval-${ei}-worst-case`,
        name,
        curve: entry.evaluation.worstCase,
        color: t.worstCase,
        width: 2.4,
        dash,
        symbol: 'circle',
        bandOpacity: t.bandOpacity,
        z: 4,
      }),
    );
    if (which === 'worst-case') return;
    entry.evaluation.curves.forEach((curve, ci) => {
      const isMixture = curve.attack.toLowerCase().startsWith('mixture');
      if (which === 'worst-case-and-mixture' && !isMixture) return;
      const attackName = `${entry.name} · ${attackShortName(curve.attack).replace(/^mixture direction$/, 'mixture dir.')}`;
      legend.push({ name: attackName });
      series.push(
        ...curveSeries({
          id: `eval-${ei}-attack-${ci}`,
          name: attackName,
          curve,
          color: attackColor(curve.attack, ci),
          width: 1.4,
          dash,
          symbol: 'emptyCircle',
          bandOpacity: t.bandOpacity * 0.5,
          z: 3,
        }),
      );
    });
  });
  if (options.markEps !== undefined) series.push(epsMarker(options.markEps, t.boundary));
  const { option, top } = frame(options, legend);
  const norm = evaluations[0]?.evaluation.norm ?? 'l2';
  // The legend shows the model's line style (the channel that tells the models apart).
  const lines = series.filter((s) => s.lineStyle && !String(s.id).includes('band'));
  const icons = legend.map(({ name }) => {
    const s = lines.find((l) => l.name === name);
    return { name, icon: lineLegendIcon(s?.lineStyle?.type), itemStyle: { color: s?.color as string } };
  });
  return {
    ...option,
    legend: { ...(option.legend as object), data: icons },
    grid: grid(top),
    xAxis: xValueAxis(t, epsAxisName(norm), { min: 0, max: epsRange(evaluations.map((e) => e.evaluation)) }),
    yAxis: yValueAxis(t, ROBUST_AXIS_NAME, { min: 0, max: 1, interval: 0.2 }),
    series,
  };
}
