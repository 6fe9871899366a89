/**
 * C3 against dimension (issue 15, item 2): the plan's dimension runs (m = d, rho auto, small
 * init, samples scaled with d, one seed above 512), and the claim built from constructed results
 * with known medians: the points, the reference sqrt(2 ln d / d), the caption's verdict, the
 * CSV and the chart's third panel.
 */
import { describe, expect, it } from 'vitest';
import { claimC3, dimensionPoints } from '../../main/lab/paper/claims/c3Principle.ts';
import type { ClaimContext } from '../../main/lab/paper/claims/claimContext.ts';
import { planPaper } from '../../main/lab/paper/plan.ts';
import { claimPrinciple, DIMENSION_CLEAN, DIMENSION_REFERENCE, DIMENSION_ROBUST } from '../../shared/charts/claims.ts';
import type { ExperimentInput } from '../../shared/config.ts';
import { dimensionReference } from '../../shared/dimensionReference.ts';
import type { RunResult } from '../../shared/result.ts';

const base: ExperimentInput = { task: { kind: 'sparse-coding', d: 16, k: 2, trainSize: 400 }, model: { kind: 'two-layer', width: 16 }, train: { cleanEpochs: 2, adversarialEpochs: 1 } };
const plan = (dimensions: readonly number[], seeds = 2) => planPaper({ preset: 'quick', presetConfig: base, input: base, seeds, ranks: [1], dimensions });

/** A finished result with only what C3 reads: the decomposition's per-neuron values. */
function result(cosClean: number[], cosRobust: number[]): RunResult {
  const values = (v: number[]) => ({ values: v });
  return { summary: { decomposition: { normRatio: values([2, 3]), cosCleanInit: values(cosClean), cosRobustInit: values(cosRobust), shareAboveOne: 1 } } } as unknown as RunResult;
}

describe('C3 against dimension', () => {
  it('plans m = d, rho auto, init 0.05 and samples scaled with d; one seed above d = 512; none unless asked', () => {
    const specs = plan([32, 8, 1024]);
    const dims = specs.runs.filter((r) => r.key.startsWith('dim-'));
    expect(dims.map((r) => `${r.key}/${r.seed}`)).toEqual(['dim-8/0', 'dim-32/0', 'dim-1024/0', 'dim-8/1', 'dim-32/1']);
    const at32 = dims.find((r) => r.key === 'dim-32')!.config;
    expect([at32.task.d, at32.model.width, at32.task.trainSize, at32.model.initScale]).toEqual([32, 32, 800, 0.05]);
    expect(at32.model.threshold).toMatchObject({ ratio: 2.5 * Math.sqrt(2 / 32), autoScale: 2.5 });
    expect(dims.find((r) => r.key === 'dim-8')!.config.task.trainSize).toBe(200);
    expect(dims.every((r) => r.claims.join() === 'C3')).toBe(true);
    expect(specs.command).toMatch(/--dimensions 32,8,1024$/);
    expect(plan([]).runs.some((r) => r.key.startsWith('dim-'))).toBe(false);
    expect(() => plan([8, 8])).toThrow(/dimensions\.1: 8: given twice/);
    expect(() => plan([1])).toThrow(/dimensions\.0: 1: expected an integer from k = 2/);
  });

  it('builds the medians per seed, mean ± std over seeds, with the reference and the verdict in the caption', () => {
    const specs = plan([8, 32]);
    const small = result([0.9], [0.9]);
    // Seed 0: medians 0.3 / 0.2 at d = 8, 0.1 / 0.05 at d = 32; seed 1: 0.5 / 0.4 and 0.1 / 0.15.
    const results = [
      { main: small, 'small-init': small, 'dim-8': result([0.1, 0.5, 0.3], [0.2, 0.1, 0.9]), 'dim-32': result([0.1, 0.05, 0.2], [0.05, 0.04, 0.06]) },
      { main: small, 'small-init': small, 'dim-8': result([0.2, 0.4, 0.6, 0.8], [0.3, 0.5, 0.4]), 'dim-32': result([0.1], [0.15]) },
    ];
    const context: ClaimContext = { specs, config: specs.main, settings: specs.settings, results, baselines: [] };
    const points = dimensionPoints(context);
    expect(points.map((p) => p.d)).toEqual([8, 32]);
    expect(points[0]!.cosClean.mean).toBeCloseTo(0.4, 12);
    expect(points[0]!.cosClean.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(points[0]!.cosRobust.mean).toBeCloseTo(0.3, 12);
    expect(points[1]!.cosClean.mean).toBeCloseTo(0.1, 12);
    expect(points[1]!.cosRobust.mean).toBeCloseTo(0.1, 12);
    expect(points[1]!.reference).toBeCloseTo(Math.sqrt((2 * Math.log(32)) / 32), 12);

    const built = claimC3(context);
    // Slopes: clean log(0.1/0.4)/log(4) = -1, fine-tuned log(0.1/0.3)/log(4) = -0.79; the reference's -0.32.
    expect(built.caption).toMatch(/d = 8: 0\.40 ± 0\.14 clean, 0\.30 ± 0\.14 fine-tuned, reference 0\.72; d = 32: 0\.10 ± 0\.00 clean, 0\.10 ± 0\.07 fine-tuned, reference 0\.47/);
    expect(built.caption).toMatch(/slope from d = 8 to 32: -1\.00 clean, -0\.79 fine-tuned, against -0\.32 for sqrt\(2 ln d \/ d\): the clean cosines fall at least as fast as the reference, the fine-tuned ones fall at least as fast/);
    expect(built.csv).toContain('"median_cos_clean_init_by_d",0.4,8,0.1414213562373');
    expect(built.csv).toContain(`"reference_sqrt_2lnd_over_d",${dimensionReference(32)},32,,`);
    expect(built.chart.kind === 'principle' && built.chart.data.dimension?.d).toEqual([8, 32]);

    // Cosines that do not shrink are said so.
    const flat = [{ ...results[0]!, 'dim-32': result([0.3], [0.3]) }, { ...results[1]!, 'dim-32': result([0.5], [0.5]) }];
    expect(claimC3({ ...context, results: flat }).caption).toMatch(/the clean cosines do not fall, the fine-tuned ones do not fall/);
  });

  it('the chart draws a third panel against d on a log axis, with the reference curve', () => {
    const m = (mean: number) => ({ mean, std: 0.01, n: 3 });
    const option = claimPrinciple({ logRatio: [0.5], cosClean: [0.2], cosRobust: [0.1], dimension: { d: [64, 1024], cosClean: [m(0.3), m(0.1)], cosRobust: [m(0.2), m(0.05)] } });
    const xAxes = option.xAxis as { type?: string; gridIndex?: number }[];
    expect(xAxes).toHaveLength(3);
    expect(xAxes[2]).toMatchObject({ type: 'log', gridIndex: 2 });
    const series = option.series as { name?: string; data?: unknown[]; xAxisIndex?: number }[];
    const reference = series.find((s) => s.name === DIMENSION_REFERENCE)!;
    expect(reference.data).toEqual([[64, dimensionReference(64)], [1024, dimensionReference(1024)]]);
    expect(series.filter((s) => s.xAxisIndex === 2 && s.name === DIMENSION_CLEAN).some((s) => JSON.stringify(s.data) === JSON.stringify([[64, 0.3], [1024, 0.1]]))).toBe(true);
    // The legend tells the lines apart as they are drawn: dashed after clean, solid fine-tuned, dotted reference.
    const lineType = (name: string) => (series.find((s) => s.name === name && s.xAxisIndex === 2 && Array.isArray(s.data) && (s as { lineStyle?: { type?: string } }).lineStyle?.type !== undefined && (s as { stack?: string }).stack === undefined) as { lineStyle: { type: string } }).lineStyle.type;
    expect([lineType(DIMENSION_CLEAN), lineType(DIMENSION_ROBUST), lineType(DIMENSION_REFERENCE)]).toEqual(['dashed', 'solid', 'dotted']);
    const icons = Object.fromEntries(((option.legend as { data: { name: string; icon?: string }[] }).data).map((e) => [e.name, e.icon]));
    expect(icons[DIMENSION_CLEAN]).toBe('path://M0,4h6v2.5h-6zM9,4h6v2.5h-6zM18,4h6v2.5h-6z');
    expect(icons[DIMENSION_ROBUST]).toBe('path://M0,4h24v2.5h-24z');
    expect(icons[DIMENSION_REFERENCE]).toBe('path://M0,4h2.5v2.5h-2.5zM5,4h2.5v2.5h-2.5zM10,4h2.5v2.5h-2.5zM15,4h2.5v2.5h-2.5zM20,4h2.5v2.5h-2.5z');
    // The bars of the middle panel keep their own entries, with the bars' swatches.
    expect(icons['cos(w, w⁰) after clean']).toBeUndefined();
    expect((claimPrinciple({ logRatio: [0.5], cosClean: [0.2], cosRobust: [0.1] }).xAxis as unknown[]).length).toBe(2);
  });
});
