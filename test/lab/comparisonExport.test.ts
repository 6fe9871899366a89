/**
 * Issue 12, item 2: the comparison charts' builders live in shared/charts, so `lab export A B`
 * draws the comparison the Compare view shows (comparison/), called in-process here.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LineSeriesOption } from 'echarts';
import { resolveExperiment } from '../../shared/config.ts';
import type { Accuracy, InstrumentsEvent, MetricsEvent } from '../../shared/events.ts';
import { comparisonFigures } from '../../main/lab/export/comparisonFigures.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { labInProcess } from '../support/labCli.ts';

const acc = (estimate: number): Accuracy => ({ estimate, lower: estimate - 0.01, upper: estimate + 0.01, n: 1000 });
const metrics = (g: number, clean: number): MetricsEvent => ({
  type: 'metrics', phase: g === 0 ? 'init' : 'clean', epoch: g, globalEpoch: g, learningRate: 0.5, loss: 0.5, cleanAccuracy: acc(clean), mixtureDirectionAccuracy: acc(0.6),
  robustAccuracy: acc(clean / 2), silentFraction: 0, tensors: 1, elapsedSeconds: g,
});
const snapshot = (g: number, median: number): InstrumentsEvent => ({
  type: 'instruments', phase: g === 0 ? 'init' : 'clean', epoch: g, globalEpoch: g,
  mixtureRatio: { values: [median], summary: { median } as InstrumentsEvent['weightNorm']['summary'] },
  participationRatio: null, coherence: null, weightNorm: { values: [1], summary: { median: 1 } as InstrumentsEvent['weightNorm']['summary'] }, coefficients: null,
});

describe('comparison figures in lab export', () => {
  it('builds the accuracy, coherent-share and mixture-ratio overlays for two or more runs, none for one', () => {
    const result = { metrics: [metrics(0, 0.5), metrics(1, 0.8)], instruments: [snapshot(0, 0.9), snapshot(1, 0.4)], evaluations: [] };
    const figures = comparisonFigures([
      { id: 'a', name: 'Run A', result },
      { id: 'b', name: ' ', result: { ...result, instruments: [] } },
    ]);
    expect(figures.map((f) => f.name)).toEqual(['accuracy-over-training-comparison', 'coherent-share-comparison', 'mixture-ratio-comparison']);
    const series = (figures[0]!.option.series as LineSeriesOption[]).filter((s) => s.type === 'line' && Array.isArray(s.data) && s.data.length > 0 && !String(s.id).startsWith('boundary'));
    // Clean and robust for each run, named by the run (its id when it has no name).
    expect(series.map((s) => [s.name, s.data])).toEqual([
      ['Run A', [[0, 0.5], [1, 0.8]]],
      ['Run A', [[0, 0.25], [1, 0.4]]],
      ['b', [[0, 0.5], [1, 0.8]]],
      ['b', [[0, 0.25], [1, 0.4]]],
    ]);
    expect(comparisonFigures([{ id: 'a', name: 'A', result }])).toEqual([]);
  });

  it('writes comparison/ beside the runs’ figures when exporting two runs as svg', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-comparison-export-'));
    const store = RunStore.open(dir);
    const config = resolveExperiment({});
    const ids = ['Alpha run', 'Beta run'].map((name, i) => {
      const run = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), name });
      store.appendEvent(run.id, metrics(0, 0.5));
      store.appendEvent(run.id, metrics(1, 0.7 + i / 10));
      return run.id;
    });
    store.close();
    const out = mkdtempSync(join(tmpdir(), 'lab-comparison-out-'));
    expect((await labInProcess(['export', ...ids, '--format', 'svg', '--out', out], dir)).code).toBe(0);
    const svg = readFileSync(join(out, 'comparison', 'accuracy-over-training-comparison.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('Alpha run');
    expect(svg).toContain('Beta run');
    expect(existsSync(join(out, 'comparison', 'mixture-ratio-comparison.svg'))).toBe(false); // no mixture ratios recorded
    const single = mkdtempSync(join(tmpdir(), 'lab-comparison-single-'));
    expect((await labInProcess(['export', ids[0]!, '--format', 'svg', '--out', single], dir)).code).toBe(0);
    expect(existsSync(join(single, 'comparison'))).toBe(false);
  }, 120_000);
});
