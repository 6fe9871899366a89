/**
 * The neuron × atom coefficient matrix C = W M of one snapshot (c_ij: how much neuron i uses
 * dictionary atom j). Rows are neurons sorted by their principal atom (then by sign and size),
 * so the principal features form a staircase and everything off it is the dense mixture; columns
 * are atoms in dictionary order. Diverging colours centred on 0 with symmetric limits.
 *
 *   coefficientHeatmap             one snapshot
 *   coefficientHeatmapBeforeAfter  two snapshots side by side (after clean training, final) with
 *                                  the same rows order and the same colour scale
 *
 * The colour limit is, by default, the 99th percentile of |c| off the principal atoms over the
 * matrices shown, so the small mixture entries stay visible; the principal entries saturate, and
 * the scale says so ("≥ L").
 */
import type { EChartsOption, HeatmapSeriesOption, TitleComponentOption, XAXisComponentOption, YAXisComponentOption } from 'echarts';
import type { InstrumentsEvent } from '../events.ts';
import { categoryAxis, fmt, FONT_STACK, fontSizes, frame, num, type ChartOptions } from './common.ts';
import { DIVERGING } from './palette.ts';

export interface CoefficientMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major, rows × cols. */
  readonly values: readonly number[];
}

/** A snapshot that carries a coefficient matrix. */
export interface CoefficientSnapshot {
  readonly globalEpoch: number;
  readonly phase: InstrumentsEvent['phase'];
  readonly coefficients: CoefficientMatrix;
}

export interface CoefficientHeatmapOptions extends ChartOptions {
  /** Symmetric colour limit L (colours span [−L, L]); default: see colorLimit. */
  readonly limit?: number | 'max';
  /** Row order (neuron indices); default: sorted by principal atom. */
  readonly order?: readonly number[];
  /** Panel titles (default: the snapshot's phase and epoch). */
  readonly labels?: readonly string[];
}

function checkMatrix(c: CoefficientMatrix): void {
  if (!Number.isInteger(c.rows) || !Number.isInteger(c.cols) || c.rows < 1 || c.cols < 1 || c.values.length !== c.rows * c.cols) {
    throw new RangeError(`coefficient matrix needs rows x cols values, got ${c.rows} x ${c.cols} with ${c.values.length}`);
  }
}

/**
 * Neuron indices sorted by principal atom (argmax_j |c_ij|), then positive before negative
 * principal coefficient, then by |c_ij| descending; ties keep the neuron order.
 */
export function principalOrder(c: CoefficientMatrix): number[] {
  checkMatrix(c);
  const keys = Array.from({ length: c.rows }, (_, i) => {
    let best = 0;
    let bestAbs = -1;
    for (let j = 0; j < c.cols; j++) {
      const a = Math.abs(c.values[i * c.cols + j] as number);
      if (a > bestAbs) {
        bestAbs = a;
        best = j;
      }
    }
    const v = c.values[i * c.cols + best] as number;
    return { i, atom: best, sign: v >= 0 ? 0 : 1, size: Math.abs(v) };
  });
  keys.sort((a, b) => a.atom - b.atom || a.sign - b.sign || b.size - a.size || a.i - b.i);
  return keys.map((k) => k.i);
}

/**
 * The symmetric colour limit over some matrices: the 99th percentile of |c| over the entries
 * outside each neuron's principal atom (so the mixture spans the scale and the principal entries
 * saturate), or the largest |c| for 'max'; 2 significant digits, rounded up.
 */
export function colorLimit(matrices: readonly CoefficientMatrix[], limit: number | 'max' | undefined): number {
  if (typeof limit === 'number' && limit > 0 && Number.isFinite(limit)) return limit;
  const abs: number[] = [];
  for (const m of matrices) {
    for (let i = 0; i < m.rows; i++) {
      let principal = -1;
      let best = -1;
      for (let j = 0; j < m.cols; j++) {
        const a = Math.abs(m.values[i * m.cols + j] as number);
        if (a > best) {
          best = a;
          principal = j;
        }
      }
      for (let j = 0; j < m.cols; j++) {
        const a = Math.abs(m.values[i * m.cols + j] as number);
        if (Number.isFinite(a) && (limit === 'max' || j !== principal || m.cols === 1)) abs.push(a);
      }
    }
  }
  if (abs.length === 0) return 1;
  abs.sort((a, b) => a - b);
  const q = limit === 'max' ? (abs[abs.length - 1] as number) : (abs[Math.min(abs.length - 1, Math.floor(0.99 * (abs.length - 1)))] as number);
  if (!(q > 0)) return 1;
  const inv = 10 ** (1 - Math.floor(Math.log10(q))); // 2 significant digits: q * inv is in [10, 100)
  return Math.ceil(q * inv - 1e-9) / inv;
}

function panelLabel(s: CoefficientSnapshot): string {
  if (s.phase === 'init') return `initialisation (epoch ${s.globalEpoch})`;
  if (s.phase === 'clean') return `after clean training (epoch ${s.globalEpoch})`;
  return `after adversarial training (epoch ${s.globalEpoch})`;
}

function cells(c: CoefficientMatrix, order: readonly number[], limit: number): [number, number, number | null, number | null][] {
  const out: [number, number, number | null, number | null][] = [];
  // y = 0 is the bottom row in ECharts: put the first neuron of the order at the top.
  const n = order.length;
  order.forEach((neuron, r) => {
    for (let j = 0; j < c.cols; j++) {
      const v = num(c.values[neuron * c.cols + j]);
      // Dimension 2 (the colour) is clipped to ±limit; dimension 3 keeps the value.
      out.push([j, n - 1 - r, v === null ? null : Math.max(-limit, Math.min(limit, v)), v]);
    }
  });
  return out;
}

function heatmapPanels(
  snapshots: readonly CoefficientSnapshot[],
  options: CoefficientHeatmapOptions,
): EChartsOption {
  const first = snapshots[0];
  if (!first) throw new RangeError('coefficient heatmap needs at least one snapshot');
  for (const s of snapshots) checkMatrix(s.coefficients);
  const { rows, cols } = first.coefficients;
  for (const s of snapshots) {
    if (s.coefficients.rows !== rows || s.coefficients.cols !== cols) {
      throw new RangeError(`snapshots differ in shape: ${rows} x ${cols} vs ${s.coefficients.rows} x ${s.coefficients.cols}`);
    }
  }
  const last = snapshots[snapshots.length - 1] as CoefficientSnapshot;
  // One row order for every panel (from the last snapshot, the purest), so a row is one neuron throughout.
  const order = options.order ?? principalOrder(last.coefficients);
  if (order.length !== rows) throw new RangeError(`order has ${order.length} neurons, the matrix ${rows}`);
  const limit = colorLimit(snapshots.map((s) => s.coefficients), options.limit);

  const { option, top, theme: t } = frame(options, [], { trigger: 'item' });
  const width = options.width ?? (snapshots.length > 1 ? 672 : 336);
  const panelTitle = snapshots.length > 1 || options.labels ? fontSizes.axisName + 8 : 0;
  const gridTop = top + panelTitle;
  const left = 30;
  const colourBar = 62;
  const gap = 26;
  const panelWidth = (width - left - colourBar - gap * (snapshots.length - 1)) / snapshots.length;
  const pct = (px: number) => `${((100 * px) / width).toFixed(2)}%`;

  const atoms = Array.from({ length: cols }, (_, j) => String(j));
  const neurons = [...order].reverse().map((i) => String(i));
  const grids = snapshots.map((_, k) => ({
    left: pct(left + k * (panelWidth + gap)),
    width: pct(panelWidth),
    top: gridTop,
    bottom: 38,
    outerBoundsMode: 'none' as const,
  }));
  const xAxes = snapshots.map(
    (_, k) =>
      ({
        ...categoryAxis(t, 'dictionary atom', atoms, { gridIndex: k }),
        axisLabel: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK, interval: Math.max(0, Math.ceil(cols / 4) - 1) },
        axisTick: { show: false },
      }) as XAXisComponentOption,
  );
  const yAxes = snapshots.map(
    (_, k) =>
      ({
        ...categoryAxis(t, k === 0 ? 'neuron (sorted by principal atom)' : '', neurons, { gridIndex: k }),
        nameLocation: 'middle',
        nameRotate: 90,
        nameGap: 10,
        axisLabel: { show: false },
        axisTick: { show: false },
      }) as YAXisComponentOption,
  );
  const series: HeatmapSeriesOption[] = snapshots.map((s, k) => ({
    type: 'heatmap',
    id: `coefficients-${k}`,
    name: options.labels?.[k] ?? panelLabel(s),
    xAxisIndex: k,
    yAxisIndex: k,
    data: cells(s.coefficients, order, limit),
    encode: { x: 0, y: 1, value: 3, tooltip: 3 },
    emphasis: { itemStyle: { borderColor: t.text, borderWidth: 1 } },
    progressive: 0,
  }));
  const titles: TitleComponentOption[] =
    panelTitle > 0
      ? snapshots.map((s, k) => ({
          text: options.labels?.[k] ?? panelLabel(s),
          left: pct(left + k * (panelWidth + gap) + panelWidth / 2),
          textAlign: 'center',
          top: top - 2,
          // The title names the phase in words, in the foreground: a phase has no hue (palette.ts).
          textStyle: { color: t.text, fontSize: fontSizes.axisName, fontWeight: 'normal', fontFamily: FONT_STACK },
        }))
      : [];
  return {
    ...option,
    title: [...((option.title as TitleComponentOption[] | undefined) ?? []), ...titles],
    legend: { show: false },
    grid: grids,
    xAxis: xAxes,
    yAxis: yAxes,
    visualMap: {
      type: 'continuous',
      min: -limit,
      max: limit,
      dimension: 2,
      seriesIndex: snapshots.map((_, k) => k),
      calculable: false,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemWidth: 10,
      itemHeight: Math.max(60, Math.min(160, ((options.height ?? 288) - gridTop - 38) * 0.75)),
      text: [`≥ ${fmt(limit, 2)}`, `≤ −${fmt(limit, 2)}`],
      textGap: 4,
      textStyle: { color: t.subtleText, fontSize: fontSizes.tick, fontFamily: FONT_STACK },
      inRange: { color: [...DIVERGING] },
    },
    series,
  } as EChartsOption;
}

/** One snapshot's coefficient matrix. */
export function coefficientHeatmap(snapshot: CoefficientSnapshot, options: CoefficientHeatmapOptions = {}): EChartsOption {
  return heatmapPanels([snapshot], options);
}

/** Two snapshots side by side (e.g. after clean training vs final): same rows, same colour scale. */
export function coefficientHeatmapBeforeAfter(
  before: CoefficientSnapshot,
  after: CoefficientSnapshot,
  options: CoefficientHeatmapOptions = {},
): EChartsOption {
  return heatmapPanels([before, after], options);
}
