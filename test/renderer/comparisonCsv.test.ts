/** The comparison's CSV: the run CSV's long form with the run id, metric, ε and interval on every row; PNG sizes. */
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import type { Accuracy, Evaluation, MetricsEvent } from '../../shared/events.ts';
import { comparisonColumns, comparisonCsv } from '../../renderer/viewLogic/comparisonCsv.ts';
import { FIGURE_SIZE, pngSizes } from '../../renderer/charts/pngSizes.ts';

const acc = (estimate: number): Accuracy => ({ estimate, lower: estimate - 0.02, upper: estimate + 0.02, n: 2000 });

describe('the comparison CSV', () => {
  it('has one row per run, epoch or radius, and metric, with ε beside every robust figure', () => {
    const metrics: MetricsEvent = {
      type: 'metrics', phase: 'clean', epoch: 5, globalEpoch: 5, learningRate: 0.5, loss: 0.3, cleanAccuracy: acc(0.9),
      mixtureDirectionAccuracy: acc(0.6), robustAccuracy: acc(0.4), silentFraction: 0, tensors: 1, elapsedSeconds: 1,
    };
    const curve = (attack: string, v: number) => ({ attack, eps: [0, 0.1], accuracy: [acc(0.9), acc(v)], zeroGradient: [0, 0] });
    const evaluation: Evaluation = {
      label: 'final', globalEpoch: 60, norm: 'l2', cleanAccuracy: acc(0.9), robustAccuracy: acc(0.785), mixtureDirectionAccuracy: acc(0.8),
      curves: [curve('PGD-20 (l2, step 2.5·eps/20)', 0.785)], worstCase: curve('worst case over PGD-20', 0.78), attacks: [], flags: [],
    };
    const csv = comparisonCsv([{ id: 'r1', name: 'at 0.1', config: resolveExperiment({ eval: { eps: 0.1 } }), metrics: [metrics], instruments: [], evaluations: [evaluation] }]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(comparisonColumns.join(','));
    expect(lines.slice(1)).toEqual([
      'r1,at 0.1,5,clean,clean_accuracy,,,,0.9,0.88,0.92',
      'r1,at 0.1,5,clean,mixture_direction_accuracy,mixture direction,l2,0.1,0.6,0.58,0.62',
      'r1,at 0.1,5,clean,robust_accuracy,PGD-20,l2,0.1,0.4,0.38,0.42000000000000004',
      'r1,at 0.1,60,evaluation:final,robust_accuracy,PGD-20,l2,0,0.9,0.88,0.92',
      'r1,at 0.1,60,evaluation:final,robust_accuracy,PGD-20,l2,0.1,0.785,0.765,0.805',
      'r1,at 0.1,60,evaluation:final,robust_accuracy,worst case,l2,0,0.9,0.88,0.92',
      'r1,at 0.1,60,evaluation:final,robust_accuracy,worst case,l2,0.1,0.78,0.76,0.8',
    ]);
  });
});

describe('PNG sizes', () => {
  it('offers 1×, 2× and paper widths at 300 dpi', () => {
    expect(pngSizes.map((p) => Math.round(p.pixelRatio * FIGURE_SIZE.width))).toEqual([672, 1344, 1050, 2100]);
  });
});
