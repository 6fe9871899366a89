/**
 * The CLI's closing table: dictionary rows only for the synthetic task, and a value that was not
 * measured (NaN in memory, null once it has been through JSON) printed as a dash, never a crash.
 */
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../main/lab/cli/summaryTable.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { ModelSummary, RunSummary } from '../../shared/events.ts';

const model = (robust: number): ModelSummary => ({
  cleanAccuracy: 0.9,
  robustAccuracy: robust,
  worstCaseRobustAccuracy: robust,
  mixtureDirectionAccuracy: NaN,
  mixtureRatioMedian: NaN,
  participationRatioMedian: NaN,
  coherenceMedian: NaN,
  intervals: { cleanAccuracy: [0.88, 0.92], robustAccuracy: [robust - 0.02, robust + 0.02], worstCaseRobustAccuracy: [robust - 0.02, robust + 0.02], mixtureDirectionAccuracy: [NaN, NaN] },
  testSize: 1000,
});
const dist = (median: number) => ({ values: [median], summary: { median, q1: median, q3: median, mean: median, min: median, max: median, n: 1 } });

describe('the summary table', () => {
  it('leaves out the dictionary rows on images and prints unmeasured values (null after JSON) as dashes', () => {
    const config = resolveExperiment({ task: { kind: 'mnist' } });
    const summary: RunSummary = {
      afterClean: model(0.3),
      final: model(0.8),
      decomposition: { shareAboveOne: 0.4, beta: dist(NaN), normRatio: dist(NaN), cosCleanInit: dist(0.2), cosRobustInit: dist(0.1) },
      update: { relativeChange: 0.9, effectiveRank: NaN, stableRank: 3, singularValues: [] },
      layers: [{ layer: 'fc1.weight', relativeChange: 0.9, effectiveRank: NaN, stableRank: 3, singularValues: [], shareAboveOne: 0.4 }],
    };
    const throughJson = JSON.parse(JSON.stringify(summary)) as RunSummary;
    const text = summaryTable(config, throughJson, undefined);
    expect(text).not.toMatch(/mixture/);
    expect(text).toMatch(/median ratio -, median beta -/);
    expect(text).toMatch(/fc1\.weight +0\.900 +- +3\.00 +40\.0 %/);
    expect(summaryTable(resolveExperiment({}), throughJson, undefined)).toMatch(/mixture-direction accuracy +- +-/);
  });

  it('prints an unavailable update spectrum as unavailable, with its reason, never as a number', () => {
    const config = resolveExperiment({ task: { kind: 'mnist' } });
    const reason = "update spectrum unavailable: 3 of the 4096 entries of W or W' are NaN or infinite (the training diverged)";
    const summary: RunSummary = {
      afterClean: model(0.3),
      final: model(0.8),
      decomposition: { shareAboveOne: 0.4, beta: dist(1), normRatio: dist(2), cosCleanInit: dist(0.2), cosRobustInit: dist(0.1) },
      update: { relativeChange: NaN, effectiveRank: NaN, stableRank: NaN, singularValues: [], unavailable: reason },
      layers: [{ layer: 'fc1.weight', relativeChange: NaN, effectiveRank: NaN, stableRank: NaN, singularValues: [], shareAboveOne: 0.4, unavailable: reason }],
    };
    const text = summaryTable(config, JSON.parse(JSON.stringify(summary)) as RunSummary, undefined);
    expect(text).toContain(`update W' - W: ${reason}`);
    expect(text).toMatch(/fc1\.weight +- +unavailable +unavailable +40\.0 %/);
    expect(text).toContain(`fc1.weight: ${reason}`);
    expect(text).not.toMatch(/effective rank -/);
  });

  it('prints the coherent mixture share median on the synthetic task, and a dash for a run recorded before it existed', () => {
    const config = resolveExperiment({});
    const withShare: RunSummary = { afterClean: { ...model(0.33), coherentShareMedian: 0.3576 }, final: { ...model(0.46), coherentShareMedian: 0.1008 } };
    expect(summaryTable(config, withShare, undefined)).toMatch(/coherent mixture share, median +0\.358 +0\.101/);
    const old: RunSummary = { afterClean: model(0.33), final: model(0.46) };
    expect(summaryTable(config, JSON.parse(JSON.stringify(old)) as RunSummary, undefined)).toMatch(/coherent mixture share, median +- +-/);
  });

  it('prints the transfer table with its attack, radius and intervals, rows crafting and columns attacked', () => {
    const config = resolveExperiment({});
    const acc = (estimate: number) => ({ estimate, lower: estimate - 0.01, upper: estimate + 0.01, n: 2000 });
    const summary: RunSummary = {
      afterClean: model(0.2),
      final: model(0.5),
      transfer: { attack: 'PGD-20 (l2, step 2.5·eps/20)', eps: 0.3, models: ['after clean', 'after fine-tuning'], accuracy: [[acc(0.2), acc(0.75)], [acc(0.4), acc(0.5)]] },
    };
    const text = summaryTable(config, JSON.parse(JSON.stringify(summary)) as RunSummary, undefined);
    expect(text).toMatch(/transfer, PGD-20 \(l2, step 2\.5·eps\/20\) at eps 0\.3 \(row: crafted on, column: evaluated on\) +after clean +after fine-tuning/);
    expect(text).toMatch(/\nafter clean +0\.200 \[0\.190, 0\.210\] +0\.750 \[0\.740, 0\.760\]/);
    expect(text).toMatch(/\nafter fine-tuning +0\.400 \[0\.390, 0\.410\] +0\.500 \[0\.490, 0\.510\]/);
    expect(text).toContain('the diagonal is white-box');
    expect(summaryTable(config, { afterClean: model(0.2), final: model(0.5) }, undefined)).not.toMatch(/transfer/);
  });
});
