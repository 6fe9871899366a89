/**
 * The chart builders on a real (tiny) run: each option holds the expected series, the phase
 * boundary sits at the last clean epoch, clean and robust keep their colours in every figure,
 * and every option is plain JSON (the UI, the comparison page and the export share them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import {
  accuracyOverTraining,
  accuracySeriesIds,
  BOUNDARY_LABEL,
  boundarySeriesId,
  adversarialPhaseSeriesId,
  ATTACK_COLORS,
  CLEAN,
  coefficientHeatmap,
  coefficientHeatmapBeforeAfter,
  colorLimit,
  DIVERGING,
  figureSet,
  HUE_MEANINGS,
  lineLegendIcon,
  MIXTURE_DIRECTION,
  mixtureAccumulation,
  mixtureMedians,
  num,
  participationCoherence,
  phaseBoundary,
  principalOrder,
  ROBUST,
  robustCurve,
  robustCurveComparison,
  roughnessOverTraining,
  themes,
  WORST_CASE_NAME,
  type CoefficientSnapshot,
} from '../../shared/charts/index.ts';
import { claimBars, claimMixtures, claimPrinciple, claimPurification } from '../../shared/charts/claims.ts';
import { normRatioHistogram, singularValueSpectrum } from '../../shared/charts/decomposition.ts';
import { MODEL_FOREGROUND, modelDash, mixtureHistogramOverlay } from '../../shared/charts/mixtureHistogram.ts';

const CLEAN_EPOCHS = 3;
const ADVERSARIAL_EPOCHS = 2;
const WIDTH = 16;
const ATOMS = 24;

let result: RunResult;

beforeAll(async () => {
  const config = resolveExperiment({
    task: { kind: 'sparse-coding', d: ATOMS, k: 3, trainSize: 600 },
    model: { kind: 'two-layer', width: WIDTH },
    train: { cleanEpochs: CLEAN_EPOCHS, adversarialEpochs: ADVERSARIAL_EPOCHS },
    eval: { testSize: 200 },
  });
  result = await runInProcess(config, { backend: 'wasm' });
});

type AnySeries = Record<string, unknown> & { id?: string; name?: string; type?: string; data?: unknown[] };

function seriesOf(option: EChartsOption): AnySeries[] {
  const s = option.series;
  return (Array.isArray(s) ? s : s ? [s] : []) as AnySeries[];
}

function byId(option: EChartsOption, id: string): AnySeries {
  const found = seriesOf(option).find((s) => s.id === id);
  if (!found) throw new Error(`no series ${id} in ${seriesOf(option).map((s) => s.id).join(', ')}`);
  return found;
}

function legendNames(option: EChartsOption): string[] {
  return asArray(option.legend as { data?: ({ name: string } | string)[] } | undefined).flatMap((l) => (l.data ?? []).map((d) => (typeof d === 'string' ? d : d.name)));
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** The x positions of every phase-boundary markLine in the option. */
function boundaryMarks(option: EChartsOption): unknown[] {
  return seriesOf(option)
    .filter((s) => String(s.id).startsWith('phase-boundary'))
    .flatMap((s) => ((s.markLine as { data: { xAxis: unknown }[] }).data ?? []).map((d) => d.xAxis));
}

/** Fails on anything JSON would not keep: functions, undefined, NaN, infinities, class instances. */
function assertPlainJson(value: unknown, path = 'option'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertPlainJson(v, `${path}[${i}]`));
    return;
  }
  expect(typeof value, path).toBe('object');
  expect(Object.getPrototypeOf(value), `${path} is a plain object`).toBe(Object.prototype);
  for (const [k, v] of Object.entries(value as object)) {
    expect(v, `${path}.${k} is undefined`).not.toBeUndefined();
    assertPlainJson(v, `${path}.${k}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('phase boundary', () => {
  it('is the last clean global epoch of a fine-tune run, and absent for single-phase runs', () => {
    expect(phaseBoundary(result)).toBe(CLEAN_EPOCHS);
    const cleanOnly = { metrics: result.metrics.filter((m) => m.phase !== 'adversarial') };
    expect(phaseBoundary(cleanOnly)).toBeNull();
    const adversarialOnly = { metrics: result.metrics.filter((m) => m.phase !== 'clean') };
    expect(phaseBoundary(adversarialOnly)).toBeNull();
  });
});

describe('accuracyOverTraining', () => {
  it('draws clean, robust and mixture-direction accuracy with interval bands and the boundary', () => {
    const option = accuracyOverTraining(result, { static: true });
    expect(option.animation).toBe(false);
    const clean = byId(option, accuracySeriesIds.clean);
    expect(clean.color).toBe(CLEAN);
    expect((clean.data as [number, number][]).map((p) => p[0])).toEqual(result.metrics.map((m) => m.globalEpoch));
    expect((clean.data as [number, number][])[1]![1]).toBeCloseTo(result.metrics[1]!.cleanAccuracy.estimate, 4);

    // Robust: where measured during training, plus both evaluations (phase ends).
    const robust = byId(option, accuracySeriesIds.robust);
    expect(robust.color).toBe(ROBUST);
    const robustEpochs = (robust.data as [number, number][]).map((p) => p[0]);
    for (const e of result.evaluations) expect(robustEpochs).toContain(e.globalEpoch);
    for (const m of result.metrics) if (m.robustAccuracy) expect(robustEpochs).toContain(m.globalEpoch);
    expect(byId(option, accuracySeriesIds.mixture).color).toBe(MIXTURE_DIRECTION);
    // The phase is a neutral shade from the boundary to the last epoch, not a hue, and in the legend.
    const shade = byId(option, adversarialPhaseSeriesId(0));
    expect((shade.markArea as { data: { xAxis: number }[][] }).data).toEqual([[{ xAxis: CLEAN_EPOCHS }, { xAxis: CLEAN_EPOCHS + ADVERSARIAL_EPOCHS }]]);
    expect((shade.markArea as { itemStyle: { color: string; opacity: number } }).itemStyle).toEqual({ color: themes.light.phaseShade, opacity: themes.light.phaseShadeOpacity });

    // Each accuracy has a band (lower edge + width, stacked) carrying its name, so the legend toggles both.
    for (const id of Object.values(accuracySeriesIds)) {
      const main = byId(option, id);
      const lower = byId(option, `${id}-band-lower`);
      const width = byId(option, `${id}-band-width`);
      expect(lower.name).toBe(main.name);
      expect(width.name).toBe(main.name);
      expect(lower.stack).toBe(width.stack);
      expect((width.areaStyle as { color: string }).color).toBe(main.color);
    }
    const lower = byId(option, `${accuracySeriesIds.clean}-band-lower`).data as [number, number][];
    const width = byId(option, `${accuracySeriesIds.clean}-band-width`).data as [number, number][];
    const m0 = result.metrics[0]!.cleanAccuracy;
    expect(lower[0]![1]).toBeCloseTo(m0.lower, 4);
    expect(lower[0]![1] + width[0]![1]).toBeCloseTo(m0.upper, 4);

    expect(boundaryMarks(option)).toEqual([CLEAN_EPOCHS]);
    const mark = byId(option, boundarySeriesId(0)).markLine as { label: { formatter: string } };
    expect(mark.label.formatter).toBe(BOUNDARY_LABEL);
    expect(BOUNDARY_LABEL).toBe('clean → adversarial');

    expect((option.xAxis as { name: string }).name).toBe('epoch');
    expect((option.yAxis as { name: string }).name).toMatch(/accuracy \(.+\)/);
    expect(legendNames(option)).toEqual([clean.name, robust.name, byId(option, accuracySeriesIds.mixture).name, 'adversarial phase']);
    expect(option.tooltip).toBeTruthy();
  });

  it('ends or starts the boundary label at the line when the boundary is in the axis\'s outer quarters, so it stays inside the plot', () => {
    const labelOf = (metrics: RunResult['metrics']) =>
      (byId(accuracyOverTraining({ ...result, metrics }, { static: true }), boundarySeriesId(0)).markLine as { label: { align?: string } }).label;
    // This run's own boundary: CLEAN_EPOCHS of CLEAN_EPOCHS + ADVERSARIAL_EPOCHS (3 of 5), centred.
    expect(CLEAN_EPOCHS / (CLEAN_EPOCHS + ADVERSARIAL_EPOCHS)).toBe(0.6);
    expect(labelOf(result.metrics).align).toBeUndefined();
    // A long clean phase (mnist-mlp: 150 of 160): the same boundary with the axis ending just after it (3 of 4).
    const last = result.metrics.filter((m) => m.globalEpoch <= CLEAN_EPOCHS + 1);
    expect(labelOf(last).align).toBe('right');
    // A short clean phase (3 of 33): the label starts at the line.
    const shifted = result.metrics.map((m) => ({ ...m, globalEpoch: m.phase === 'adversarial' ? m.globalEpoch + 10 * CLEAN_EPOCHS : m.globalEpoch }));
    expect(labelOf(shifted).align).toBe('left');
  });

  it('animates in the UI and not in exports', () => {
    expect(accuracyOverTraining(result).animation).toBe(true);
    expect(accuracyOverTraining(result, { static: true }).animation).toBe(false);
  });
});

describe('mixtureAccumulation', () => {
  it('draws the median with quartile and min–max bands, clean before the boundary and robust after', () => {
    const option = mixtureAccumulation(result, { static: true, quantity: 'mixture-ratio' });
    // One colour for the quantity (the foreground) across both phases; the phase is the shaded band.
    const median = byId(option, 'mixture-ratio-median');
    expect(median.color).toBe(themes.light.text);
    expect((median.data as [number, number][]).map((p) => p[0])).toEqual(result.instruments.map((s) => s.globalEpoch));
    const snapshot = result.instruments.find((s) => s.globalEpoch === CLEAN_EPOCHS)!;
    expect((median.data as [number, number][])[result.instruments.indexOf(snapshot)]![1]).toBeCloseTo(snapshot.mixtureRatio!.summary.median, 4);
    const q = byId(option, 'mixture-ratio-quartiles-width');
    const r = byId(option, 'mixture-ratio-range-width');
    expect((q.areaStyle as { color: string }).color).toBe(themes.light.text);
    expect((r.areaStyle as { color: string }).color).toBe(themes.light.text);
    expect((r.areaStyle as { opacity: number }).opacity).toBeLessThan((q.areaStyle as { opacity: number }).opacity);
    expect((byId(option, adversarialPhaseSeriesId(0)).markArea as { data: { xAxis: number }[][] }).data).toEqual([[{ xAxis: CLEAN_EPOCHS }, { xAxis: CLEAN_EPOCHS + ADVERSARIAL_EPOCHS }]]);
    expect(legendNames(option)).toEqual(['median over neurons', 'q1–q3', 'min–max', 'adversarial phase']);
    expect(boundaryMarks(option)).toEqual([CLEAN_EPOCHS]);
    expect((option.yAxis as { name: string; min: number; max: number }).name).toMatch(/mixture ratio \(.+\)/);
    // The init level is marked, so a ratio that falls from it reads as a fall from a fully mixed init.
    const init = result.instruments.find((s) => s.phase === 'init')!;
    const level = byId(option, 'mixture-ratio-init-level').markLine as { data: { yAxis: number }[]; label: { formatter: string } };
    expect(level.data[0]!.yAxis).toBeCloseTo(init.mixtureRatio!.summary.median, 4);
    expect(level.label.formatter).toBe(`init median ${init.mixtureRatio!.summary.median.toFixed(2)}`);
  });

  it('by default draws the coherent mixture share: its medians per snapshot, the init level, the boundary', () => {
    const option = mixtureAccumulation(result, { static: true });
    const median = byId(option, 'coherent-share-median');
    expect(median.color).toBe(themes.light.text);
    const bySnapshot = new Map(result.instruments.map((s) => [s.globalEpoch, s.coherentShare!.summary.median]));
    for (const [x, y] of median.data as [number, number][]) expect(y).toBe(num(bySnapshot.get(x)!));
    expect((median.data as [number, number][]).map((p) => p[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(boundaryMarks(option)).toEqual([CLEAN_EPOCHS]);
    const axis = option.yAxis as { name: string; min: number; max: number; interval: number };
    expect(axis.name).toBe('coherent mixture share κ');
    // The axis covers every neuron's value, on its tick step, and shows 0.
    const all = result.instruments.flatMap((s) => s.coherentShare!.values);
    expect(axis.min).toBeLessThanOrEqual(Math.min(0, ...all));
    expect(axis.max).toBeGreaterThanOrEqual(Math.max(...all));
    expect(axis.max - Math.max(...all)).toBeLessThan(axis.interval + 1e-9);
    const init = result.instruments.find((s) => s.phase === 'init')!;
    expect((byId(option, 'coherent-share-init-level').markLine as { data: { yAxis: number }[] }).data[0]!.yAxis).toBe(num(init.coherentShare!.summary.median));
    expect(mixtureMedians(result)).toEqual(result.instruments.map((s) => ({ epoch: s.globalEpoch, median: s.coherentShare!.summary.median })));
  });

  it('derives the coherent share of runs recorded before it existed from coherence and mixture ratio', () => {
    const old = { metrics: result.metrics, instruments: result.instruments.map(({ coherentShare: _, ...s }) => s) };
    const recorded = mixtureMedians(result);
    mixtureMedians(old).forEach((m, i) => expect(m.median).toBeCloseTo(recorded[i]!.median, 6));
  });

  it('heatmap of the coherent share bins every neuron between the axis limits', () => {
    const option = mixtureAccumulation(result, { mode: 'heatmap', static: true });
    const cells = byId(option, 'mixture-histogram').data as [number, number, number][];
    const perSnapshot = new Map<number, number>();
    for (const [x, , count] of cells) perSnapshot.set(x, (perSnapshot.get(x) ?? 0) + count);
    result.instruments.forEach((s, i) => expect(perSnapshot.get(i)).toBe(s.coherentShare!.values.length));
    const yAxes = option.yAxis as { name?: string; min?: number; max?: number; data?: string[] }[];
    expect(yAxes[1]!.name).toBe('coherent mixture share κ');
    expect(yAxes[0]!.data).toHaveLength(20);
    expect(yAxes[0]!.data![0]!.startsWith(`${yAxes[1]!.min}–`)).toBe(true);
    expect(yAxes[0]!.data![19]!.endsWith(`–${yAxes[1]!.max}`)).toBe(true);
  });

  it('heatmap mode counts every neuron of every snapshot into 20 bins on [0, 1]', () => {
    const option = mixtureAccumulation(result, { mode: 'heatmap', static: true, quantity: 'mixture-ratio' });
    const heat = byId(option, 'mixture-histogram');
    expect(heat.type).toBe('heatmap');
    const cells = heat.data as [number, number, number][];
    const perSnapshot = new Map<number, number>();
    for (const [x, bin, count] of cells) {
      expect(bin).toBeGreaterThanOrEqual(0);
      expect(bin).toBeLessThan(20);
      perSnapshot.set(x, (perSnapshot.get(x) ?? 0) + count);
    }
    expect(perSnapshot.size).toBe(result.instruments.length);
    result.instruments.forEach((s, i) => expect(perSnapshot.get(i)).toBe(s.mixtureRatio!.values.filter((v) => !Number.isNaN(v)).length));
    const yAxes = option.yAxis as { type: string; data?: string[] }[];
    expect(yAxes[0]!.data).toHaveLength(20);
    const xAxis = option.xAxis as { data: string[] };
    expect(xAxis.data).toEqual(result.instruments.map((s) => String(s.globalEpoch)));
    expect(boundaryMarks(option)).toEqual([String(CLEAN_EPOCHS)]);
    const visualMap = option.visualMap as { max: number };
    expect(visualMap.max).toBe(Math.max(...cells.map((c) => c[2])));
    // One median line over both phases, in a neutral ink: the cells are the same in both themes.
    const median = byId(option, 'mixture-median');
    expect(median.color).toBe(themes.light.text);
    expect((median.data as [string, number][]).map((p) => p[0])).toEqual(xAxis.data);
  });
});

describe('participationCoherence', () => {
  it('draws both medians with quartile bands in two panels, the boundary in each', () => {
    const option = participationCoherence(result, { static: true });
    expect(asArray(option.grid)).toHaveLength(2);
    const yAxes = option.yAxis as { name: string; type: string; gridIndex: number }[];
    expect(yAxes[0]!.name).toMatch(/participation ratio/);
    expect(yAxes[0]!.type).toBe('log');
    expect(yAxes[1]!.name).toMatch(/coherence/);
    for (const [id, axis] of [['participation-ratio', 0], ['coherence', 1]] as const) {
      expect(byId(option, `${id}-median`).color).toBe(themes.light.text);
      expect(byId(option, `${id}-median`).yAxisIndex).toBe(axis);
      expect((byId(option, `${id}-quartiles-width`).areaStyle as { color: string }).color).toBe(themes.light.text);
      const shade = byId(option, adversarialPhaseSeriesId(axis));
      expect(shade.yAxisIndex).toBe(axis);
      expect((shade.markArea as { data: { xAxis: number }[][] }).data).toEqual([[{ xAxis: CLEAN_EPOCHS }, { xAxis: CLEAN_EPOCHS + ADVERSARIAL_EPOCHS }]]);
    }
    expect(boundaryMarks(option)).toEqual([CLEAN_EPOCHS, CLEAN_EPOCHS]);
  });
});

describe('robustCurve', () => {
  it('draws every attack and the thicker dashed worst case, with interval bands', () => {
    const final = result.evaluations.find((e) => e.label === 'final')!;
    const option = robustCurve(final, { static: true, markEps: 0.3 });
    const lines = seriesOf(option).filter((s) => s.type === 'line' && !String(s.id).includes('band') && s.id !== 'eps-marker');
    expect(lines.map((s) => s.name)).toEqual([...final.curves.map((c) => c.attack.split(' (')[0]), WORST_CASE_NAME]);
    const worst = byId(option, 'worst-case');
    const worstStyle = worst.lineStyle as { width: number; type: string; color: string };
    expect(worstStyle.type).toBe('dashed');
    expect(worstStyle.color).toBe(themes.light.worstCase);
    for (const s of lines.slice(0, -1)) expect((s.lineStyle as { width: number }).width).toBeLessThan(worstStyle.width);
    expect((worst.data as [number, number][]).map((p) => p[1])).toEqual(final.worstCase.accuracy.map((a) => Number(a.estimate.toPrecision(5))));
    expect(byId(option, 'worst-case-band-width')).toBeTruthy();
    expect((option.xAxis as { name: string }).name).toBe('perturbation radius ε (ℓ2)');
    expect(final.curves.some((c) => /mixture/.test(c.attack))).toBe(true);
    const mixture = lines.find((s) => /mixture/.test(String(s.name)))!;
    expect(mixture.color).toBe(MIXTURE_DIRECTION);
  });

  it('overlays after-clean (dashed) and final (solid): colour is the attack, line style the model', () => {
    const afterClean = result.evaluations.find((e) => e.label === 'after-clean')!;
    const final = result.evaluations.find((e) => e.label === 'final')!;
    const option = robustCurveComparison([
      { name: 'clean-trained', evaluation: afterClean },
      { name: 'fine-tuned', evaluation: final },
    ]);
    for (const [i, dash] of [[0, 'dashed'], [1, 'solid']] as const) {
      const worst = byId(option, `eval-${i}-worst-case`);
      expect(worst.color).toBe(themes.light.worstCase);
      expect((worst.lineStyle as { type: string }).type).toBe(dash);
      const mixture = seriesOf(option).find((s) => String(s.id).startsWith(`eval-${i}-attack-`) && !String(s.id).includes('band'))!;
      expect(mixture.name).toMatch(/mixture dir\.$/);
      expect(mixture.color).toBe(MIXTURE_DIRECTION);
      expect((mixture.lineStyle as { type: string }).type).toBe(dash);
    }
    // The legend shows the line style: the clean-trained model's entries dashed, the fine-tuned solid.
    const icons = (option.legend as { data: { name: string; icon: string }[] }).data;
    expect(icons.find((d) => d.name === 'clean-trained · worst case')!.icon).toBe(lineLegendIcon('dashed'));
    expect(icons.find((d) => d.name === 'fine-tuned · worst case')!.icon).toBe(lineLegendIcon('solid'));
    expect(lineLegendIcon('dashed')).not.toBe(lineLegendIcon('solid'));
    const all = robustCurveComparison(
      [
        { name: 'a', evaluation: afterClean },
        { name: 'b', evaluation: final },
      ],
      { attacks: 'all' },
    );
    const mains = seriesOf(all).filter((s) => !String(s.id).includes('band'));
    expect(mains).toHaveLength(2 * (1 + final.curves.length));
  });
});

describe('mixtureHistogramOverlay', () => {
  it('draws the two models of a run in the foreground, after clean training dashed and fine-tuned solid, and the legend shows it', () => {
    const option = mixtureHistogramOverlay(
      [
        { name: 'after clean training', values: [0.1, 0.2, 0.3], color: MODEL_FOREGROUND, dash: modelDash.afterClean },
        { name: 'after fine-tuning', values: [0.05, 0.1], color: MODEL_FOREGROUND, dash: modelDash.fineTuned },
      ],
      { theme: 'dark' },
    );
    const [before, after] = seriesOf(option);
    expect([before!.color, after!.color]).toEqual([themes.dark.text, themes.dark.text]);
    expect((before!.lineStyle as { type: unknown }).type).toEqual([7, 4]);
    expect((after!.lineStyle as { type: unknown }).type).toBe('solid');
    const icons = (option.legend as { data: { name: string; icon: string }[] }).data;
    expect(icons.map((d) => d.name)).toEqual(['after clean training (n = 3)', 'after fine-tuning (n = 2)']);
    expect(icons[0]!.icon).toMatch(/^path:\/\/M0,4h6v2\.5h-6z/);
    expect(icons[1]!.icon).toBe('path://M0,4h24v2.5h-24z');
  });
});

describe('coefficientHeatmap', () => {
  const matrix = { rows: 4, cols: 3, values: [0.1, -2, 0.2, /* */ 1.5, 0.1, 0, /* */ 0, 0.3, -1, /* */ -3, 0.2, 0.1] };

  it('sorts neurons by principal atom, then sign, then size', () => {
    // principal atoms: n0 → 1 (−2), n1 → 0 (+1.5), n2 → 2 (−1), n3 → 0 (−3)
    expect(principalOrder(matrix)).toEqual([1, 3, 0, 2]);
  });

  it('has symmetric colour limits centred on 0', () => {
    expect(colorLimit([matrix], 'max')).toBe(3);
    expect(colorLimit([matrix], 0.5)).toBe(0.5);
    const auto = colorLimit([matrix], undefined);
    expect(auto).toBeGreaterThan(0);
    expect(auto).toBeLessThanOrEqual(0.3 + 1e-12); // the largest entry off the principal atoms
    const snapshot: CoefficientSnapshot = { globalEpoch: 5, phase: 'adversarial', coefficients: matrix };
    const option = coefficientHeatmap(snapshot, { limit: 'max' });
    const vm = option.visualMap as { min: number; max: number; inRange: { color: string[] } };
    expect(vm.min).toBe(-vm.max);
    expect(vm.inRange.color).toEqual([...DIVERGING]);
    expect(DIVERGING.length % 2).toBe(1);
    const cells = byId(option, 'coefficients-0').data as [number, number, number, number][];
    expect(cells).toHaveLength(12);
    // The top row (y = rows − 1) is the first neuron of the order: neuron 1, values (1.5, 0.1, 0).
    const top = cells.filter((c) => c[1] === 3).map((c) => c[3]);
    expect(top).toEqual([1.5, 0.1, 0]);
  });

  it('draws before and after side by side with one colour scale and the same rows', () => {
    const snapshots = result.instruments.filter((s) => s.coefficients);
    const before = snapshots.find((s) => s.globalEpoch === CLEAN_EPOCHS)!;
    const after = snapshots.at(-1)!;
    const option = coefficientHeatmapBeforeAfter(
      { globalEpoch: before.globalEpoch, phase: before.phase, coefficients: before.coefficients! },
      { globalEpoch: after.globalEpoch, phase: after.phase, coefficients: after.coefficients! },
    );
    expect(asArray(option.grid)).toHaveLength(2);
    const vm = option.visualMap as { seriesIndex: number[]; min: number; max: number };
    expect(vm.seriesIndex).toEqual([0, 1]);
    expect(vm.min).toBe(-vm.max);
    for (const k of [0, 1]) expect(byId(option, `coefficients-${k}`).data).toHaveLength(WIDTH * ATOMS);
    const yAxes = option.yAxis as { data: string[] }[];
    expect(yAxes[0]!.data).toEqual(yAxes[1]!.data);
    const titles = (option.title as { text: string; textStyle: { color: string } }[]).slice(-2);
    expect(titles.map((t) => t.textStyle.color)).toEqual([themes.light.text, themes.light.text]);
  });
});

describe('figureSet', () => {
  it('names file-safe figures: accuracy, mixture, participation, robust curves, coefficients, the adversarial perturbation', () => {
    const figures = figureSet(result);
    const names = figures.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(names).toEqual([
      'accuracy-over-training',
      'mixture-accumulation',
      'mixture-accumulation-heatmap',
      'mixture-ratio',
      'mixture-ratio-heatmap',
      'participation-coherence',
      'robust-accuracy-final',
      'robust-accuracy-comparison',
      'coefficient-heatmap',
      'adversarial-coefficients',
    ]);
    for (const f of figures) expect(f.title.length).toBeGreaterThan(5);
    expect(asArray(figures.find((f) => f.name === 'coefficient-heatmap')!.option.grid)).toHaveLength(2);
  });

  it('every option is plain JSON: no functions, no undefined, no NaN', () => {
    for (const f of figureSet(result, { static: true })) {
      assertPlainJson(f.option, f.name);
      expect(JSON.parse(JSON.stringify(f.option)), f.name).toStrictEqual(f.option);
      expect(f.option.animation, f.name).toBe(false);
    }
  });

  it('gives every hue one meaning across every builder in shared/charts (palette.ts HUE_MEANINGS)', () => {
    const ms = (values: number[]) => values.map((mean) => ({ mean, std: 0.01, n: 2 }));
    const afterClean = result.evaluations.find((e) => e.label === 'after-clean')!;
    const final = result.evaluations.find((e) => e.label === 'final')!;
    const options: [string, EChartsOption][] = [
      ...figureSet(result).map((f) => [f.name, f.option] as [string, EChartsOption]),
      ['accuracy', accuracyOverTraining(result)],
      ['mixture ratio', mixtureAccumulation(result, { quantity: 'mixture-ratio' })],
      ['mixture heatmap', mixtureAccumulation(result, { mode: 'heatmap' })],
      ['participation', participationCoherence(result)],
      ['roughness', roughnessOverTraining(result)],
      ['robust curve', robustCurve(final)],
      ['robust comparison', robustCurveComparison([{ name: 'clean-trained', evaluation: afterClean }, { name: 'fine-tuned', evaluation: final }], { attacks: 'all' })],
      ['C1', claimMixtures({ epochs: [0, 1, 2], coherentShare: ms([0, 0.2, 0.1]), mixtureRatio: ms([0.9, 0.5, 0.4]), coherence: ms([0, 0.3, 0.2]), boundary: 1 })],
      ['C2', claimPurification({ eps: [0, 0.1], afterClean: ms([0.9, 0.5]), final: ms([0.9, 0.7]), mixtureAfterClean: ms([0.9, 0.6]), mixtureFinal: ms([0.9, 0.8]) })],
      ['C3', claimPrinciple({ logRatio: [0.1, 0.5], cosClean: [0.2, 0.4], cosRobust: [0.3, 0.5] })],
      ['decomposition', normRatioHistogram(result.summary.decomposition!)],
      ['update spectrum', singularValueSpectrum(result.summary.update!)],
      ['before/after histogram', mixtureHistogramOverlay([
        { name: 'after clean training', values: result.instruments[CLEAN_EPOCHS]!.mixtureRatio!.values, color: MODEL_FOREGROUND, dash: modelDash.afterClean },
        { name: 'after fine-tuning', values: result.instruments.at(-1)!.mixtureRatio!.values, color: MODEL_FOREGROUND, dash: modelDash.fineTuned },
      ])],
      ['C4', claimBars({ categories: ['network'], series: [{ name: 'clean accuracy', color: CLEAN, values: ms([0.9]) }, { name: 'robust accuracy (worst case)', color: ROBUST, values: ms([0.5]) }], y: 'accuracy' })],
    ];
    // A series' meaning, from its legend name: quantities first (a model's attack curve is the attack).
    const meaningOf = (name: string): string => {
      if (/^clean( accuracy)?$/i.test(name)) return 'clean accuracy';
      if (/^robust (\(|accuracy)/i.test(name)) return 'robust accuracy';
      if (/mixture[ -]dir/i.test(name)) return 'mixture-direction attack';
      if (/PGD/.test(name)) return 'PGD attack';
      if (/FGM/.test(name)) return 'FGM attack';
      if (/random noise/i.test(name)) return 'random-noise check';
      return `other: ${name}`;
    };
    const chromatic = (c: string) => /^#[0-9a-f]{6}$/i.test(c) && !(c.slice(1, 3) === c.slice(3, 5) && c.slice(3, 5) === c.slice(5, 7));
    const meanings = new Map<string, Set<string>>();
    let checked = 0;
    for (const [figure, option] of options) {
      for (const s of seriesOf(option)) {
        const colors = [s.color, (s.lineStyle as { color?: unknown } | undefined)?.color, (s.itemStyle as { color?: unknown } | undefined)?.color, (s.areaStyle as { color?: unknown } | undefined)?.color, ((s.markArea as { itemStyle?: { color?: unknown } } | undefined)?.itemStyle)?.color];
        for (const c of colors) {
          if (typeof c !== 'string' || !chromatic(c)) continue;
          const meaning = meaningOf(String(s.name));
          expect(HUE_MEANINGS[c.toUpperCase()], `${figure}: series "${s.name}" in ${c}, a hue without a meaning`).toBeDefined();
          expect(meaning, `${figure}: series "${s.name}" in ${c}`).toBe(HUE_MEANINGS[c.toUpperCase()]);
          meanings.set(c.toUpperCase(), (meanings.get(c.toUpperCase()) ?? new Set()).add(meaning));
          checked++;
        }
      }
    }
    for (const [c, m] of meanings) expect([...m], c).toHaveLength(1);
    // Clean, robust, the mixture-direction attack, PGD, FGM and the noise check each appeared, so the check had teeth.
    expect([...meanings.keys()].sort()).toEqual([CLEAN, ROBUST, MIXTURE_DIRECTION, ATTACK_COLORS.pgd, ATTACK_COLORS.fgm, ATTACK_COLORS['random-noise']].map((c) => c.toUpperCase()).sort());
    expect(checked).toBeGreaterThan(20);
    // Phases and models take no hue: the shade is neutral, and the palette names no phase or model.
    expect(chromatic(themes.light.phaseShade) || chromatic(themes.dark.phaseShade)).toBe(false);
    for (const m of Object.values(HUE_MEANINGS)) expect(m).not.toMatch(/phase|model|after|fine-tun/);
  });

  it('is pure: the same result gives the same options, and the result is not touched', () => {
    const frozen = deepFreeze(structuredClone(result));
    const a = figureSet(frozen);
    const b = figureSet(frozen);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('leaves the boundary out of single-phase runs', () => {
    const cleanOnly: RunResult = {
      ...result,
      config: { ...result.config, train: { ...result.config.train, protocol: 'clean' } },
      metrics: result.metrics.filter((m) => m.phase !== 'adversarial'),
      instruments: result.instruments.filter((s) => s.phase !== 'adversarial'),
      evaluations: result.evaluations.filter((e) => e.label === 'after-clean').map((e) => ({ ...e, label: 'final' as const })),
    };
    const figures = figureSet(cleanOnly);
    for (const f of figures) expect(boundaryMarks(f.option), f.name).toEqual([]);
    expect(figures.map((f) => f.name)).not.toContain('robust-accuracy-comparison');
    const mixture = figures.find((f) => f.name === 'mixture-accumulation')!.option;
    expect(byId(mixture, 'coherent-share-median').color).toBe(themes.light.text);
    // No adversarial phase, so no shade and no legend entry for it.
    for (const f of figures) expect(seriesOf(f.option).some((s) => String(s.id).includes('adversarial')), f.name).toBe(false);
    expect(legendNames(mixture)).not.toContain('adversarial phase');
  });
});
