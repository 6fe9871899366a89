/**
 * The comparison's overlays: each run its own colour (and colour means nothing else there), what is
 * measured, the phase and the curve told by line style, and the legend showing both.
 */
import { describe, expect, it } from 'vitest';
import type { LineSeriesOption } from 'echarts';
import type { Accuracy, Evaluation, InstrumentsEvent, MetricsEvent } from '../../shared/events.ts';
import { CLEAN, MIXTURE_DIRECTION, ROBUST, RUN_COLORS } from '../../shared/charts/palette.ts';
import { accuracyOverlay, mixtureMedianOverlay, robustOverlay, type OverlayRun } from '../../shared/charts/runOverlay.ts';
import { DASHED, DOTTED, runColor, SOLID } from '../../shared/charts/runStyles.ts';

const acc = (estimate: number): Accuracy => ({ estimate, lower: estimate - 0.01, upper: estimate + 0.01, n: 1000 });
const metrics = (g: number, phase: MetricsEvent['phase']): MetricsEvent => ({
  type: 'metrics', phase, epoch: g, globalEpoch: g, learningRate: 0.5, loss: 0.5, cleanAccuracy: acc(0.9), mixtureDirectionAccuracy: acc(0.6),
  robustAccuracy: g % 2 === 0 ? acc(0.4) : null, silentFraction: 0, tensors: 1, elapsedSeconds: g,
});
const snapshot = (g: number, phase: InstrumentsEvent['phase'], median: number): InstrumentsEvent => ({
  type: 'instruments', phase, epoch: g, globalEpoch: g,
  mixtureRatio: { values: [median], summary: { median } as InstrumentsEvent['weightNorm']['summary'] },
  participationRatio: null, coherence: null, weightNorm: { values: [1], summary: { median: 1 } as InstrumentsEvent['weightNorm']['summary'] }, coefficients: null,
});
const run = (name: string): OverlayRun => ({
  name,
  metrics: [metrics(0, 'init'), metrics(1, 'clean'), metrics(2, 'clean'), metrics(3, 'adversarial'), metrics(4, 'adversarial')],
  instruments: [snapshot(0, 'init', 0.9), snapshot(2, 'clean', 0.5), snapshot(4, 'adversarial', 0.3)],
  evaluations: [],
});

const lines = (option: ReturnType<typeof accuracyOverlay>) => (option.series as LineSeriesOption[]).filter((s) => s.type === 'line' && Array.isArray(s.data) && s.data.length > 0 && !String(s.id).startsWith('boundary'));
const legendNames = (option: ReturnType<typeof accuracyOverlay>) => ((option.legend as { data: { name: string }[] }).data).map((d) => d.name);

describe('the comparison overlays', () => {
  it('colours accuracy by run and tells clean, robust and mixture direction by line style', () => {
    const option = accuracyOverlay([run('A'), run('B')], ['clean', 'robust', 'mixture']);
    const drawn = lines(option).map((s) => [s.name, s.color, (s.lineStyle as { type: unknown }).type]);
    expect(drawn).toEqual([
      ['A', RUN_COLORS[0], SOLID],
      ['A', RUN_COLORS[0], DASHED],
      ['A', RUN_COLORS[0], DOTTED],
      ['B', RUN_COLORS[1], SOLID],
      ['B', RUN_COLORS[1], DASHED],
      ['B', RUN_COLORS[1], DOTTED],
    ]);
    expect(legendNames(option)).toEqual(['A', 'B', 'clean accuracy', 'robust accuracy', 'mixture dir. accuracy']);
    // Runs that coincide (a shared clean phase) stay visible: the earlier one is drawn wider, under the later.
    const widths = lines(option).map((s) => (s.lineStyle as { width: number }).width);
    expect(widths[0]).toBeGreaterThan(widths[3]!);
  });

  it('colours the mixture median by run and tells the phases by line style', () => {
    const option = mixtureMedianOverlay([run('A'), run('B')]);
    const drawn = lines(option).map((s) => [s.name, s.color, (s.lineStyle as { type: unknown }).type]);
    expect(drawn).toEqual([
      ['A', runColor(0), SOLID],
      ['A', runColor(0), DASHED],
      ['B', runColor(1), SOLID],
      ['B', runColor(1), DASHED],
    ]);
    expect(legendNames(option)).toEqual(['A', 'B', 'clean phase', 'adversarial phase']);
  });

  it('draws the median coherent mixture share kappa, read from each snapshot (or derived as coherence x sqrt(ratio)), on an axis that shows 0', () => {
    const dict = (g: number, phase: InstrumentsEvent['phase'], ratio: number, coherence: number, kappa?: number): InstrumentsEvent => {
      const dist = (v: number) => ({ values: [v], summary: { median: v, min: v, max: v } as InstrumentsEvent['weightNorm']['summary'] });
      return {
        type: 'instruments', phase, epoch: g, globalEpoch: g, mixtureRatio: dist(ratio), participationRatio: dist(2), coherence: dist(coherence),
        ...(kappa === undefined ? {} : { coherentShare: dist(kappa) }), weightNorm: dist(1), coefficients: null,
      } as InstrumentsEvent;
    };
    const recorded: OverlayRun = { ...run('A'), instruments: [dict(0, 'init', 0.9, 0, 0.01), dict(2, 'clean', 0.5, 0.5, 0.35), dict(4, 'adversarial', 0.25, 0.2, 0.1)] };
    // A run recorded before kappa was: 0.8 * sqrt(0.25) = 0.4, -0.2 * sqrt(0.81) = -0.18.
    const derived: OverlayRun = { ...run('B'), instruments: [dict(0, 'init', 0.81, -0.2), dict(2, 'clean', 0.25, 0.8), dict(4, 'adversarial', 0.16, 0.5)] };
    const option = mixtureMedianOverlay([recorded, derived], { quantity: 'coherent-share' });
    const drawn = lines(option).map((s) => [s.name, (s.data as [number, number][]).map(([x, v]) => [x, Number(v.toFixed(6))])]);
    expect(drawn).toEqual([
      ['A', [[0, 0.01], [2, 0.35]]],
      ['A', [[2, 0.35], [4, 0.1]]],
      ['B', [[0, -0.18], [2, 0.4]]],
      ['B', [[2, 0.4], [4, 0.2]]],
    ]);
    const axis = option.yAxis as { name: string; min: number; max: number };
    expect(axis.name).toMatch(/coherent mixture share/);
    expect([axis.min, axis.max]).toEqual([-0.2, 0.4]);
    // The plain mixture ratio stays the default, on [0, 1].
    expect((mixtureMedianOverlay([recorded]).yAxis as { min: number; max: number }).max).toBe(1);
  });

  it('draws robust vs eps in the run colours: worst case solid, mixture direction dotted', () => {
    const curve = (attack: string, v: number) => ({ attack, eps: [0, 0.3], accuracy: [acc(0.9), acc(v)], zeroGradient: [0, 0] });
    const e: Evaluation = {
      label: 'final', globalEpoch: 4, norm: 'l2', cleanAccuracy: acc(0.9), robustAccuracy: acc(0.5), mixtureDirectionAccuracy: acc(0.7),
      curves: [curve('PGD-20', 0.5), curve('mixture direction (l2)', 0.7)], worstCase: curve('worst case', 0.48), attacks: [], flags: [],
    };
    const option = robustOverlay([{ name: 'A', evaluation: e, color: runColor(0) }, { name: 'B', evaluation: e, color: runColor(1) }]);
    const drawn = lines(option).map((s) => [s.name, s.color, (s.lineStyle as { type: unknown }).type]);
    expect(drawn).toEqual([
      ['A', runColor(0), SOLID],
      ['A', runColor(0), DOTTED],
      ['B', runColor(1), SOLID],
      ['B', runColor(1), DOTTED],
    ]);
    expect(legendNames(option)).toEqual(['A', 'B', 'worst case over all attacks', 'mixture direction']);
  });

  it('shows whole epochs in the tooltip: the pointer snaps to an epoch and prints no decimals', () => {
    const option = accuracyOverlay([run('A')], ['clean']);
    expect((option.xAxis as { axisPointer?: unknown }).axisPointer).toEqual({ snap: true, label: { precision: 0 } });
  });

  it('never spends the colours that mean clean, robust or an attack elsewhere on a run', () => {
    for (const c of RUN_COLORS) expect([CLEAN, ROBUST, MIXTURE_DIRECTION, '#E69F00', '#009E73']).not.toContain(c);
  });
});
