/**
 * A run with 10^5 epochs of metrics, made from a real run's record: the performance check of the
 * run view (a long run must stay responsive), without training for 10^5 epochs. The page asks for
 * it through its ordinary runs.get call, which the test answers in place of the server.
 */
import type { RunDetail } from '../../../shared/api.ts';
import type { Accuracy, MetricsEvent } from '../../../shared/events.ts';

function accuracy(estimate: number, n: number): Accuracy {
  const half = 1.96 * Math.sqrt((estimate * (1 - estimate)) / n);
  return { estimate, lower: Math.max(0, estimate - half), upper: Math.min(1, estimate + half), n };
}

export function longRun(base: RunDetail, epochs: number, id: string): RunDetail {
  const n = base.config.eval.testSize;
  const boundary = Math.round(epochs / 2);
  const metrics: MetricsEvent[] = [];
  for (let e = 0; e <= epochs; e++) {
    const phase: MetricsEvent['phase'] = e === 0 ? 'init' : e <= boundary ? 'clean' : 'adversarial';
    const t = e / epochs;
    const clean = 0.5 + 0.44 * (1 - Math.exp(-8 * t)) - (phase === 'adversarial' ? 0.04 : 0) + 0.004 * Math.sin(e / 37);
    const robust = phase === 'adversarial' ? 0.33 + 0.13 * (1 - Math.exp(-6 * (t - 0.5))) : 0.05 + 0.28 * (1 - Math.exp(-6 * t));
    metrics.push({
      type: 'metrics',
      phase,
      epoch: phase === 'adversarial' ? e - boundary : e,
      globalEpoch: e,
      learningRate: 0.5,
      loss: 0.7 * Math.exp(-3 * t),
      cleanAccuracy: accuracy(clean, n),
      mixtureDirectionAccuracy: accuracy(Math.min(0.95, 0.45 + (phase === 'adversarial' ? 0.3 * (t - 0.5) * 2 : 0)), n),
      robustAccuracy: e % 5 === 0 ? accuracy(robust, n) : null,
      silentFraction: 0,
      tensors: 100,
      elapsedSeconds: e * 0.01,
    });
  }
  return { ...base, id, name: `synthetic: ${epochs.toLocaleString('en')} epochs`, status: 'finished', result: { ...base.result, metrics } };
}
