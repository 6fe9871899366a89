/** The accuracy chart's caption says where robust accuracy was measured (issue 17: quick's line is straight between phase ends). */
import { describe, expect, it } from 'vitest';
import { robustMeasuredText } from '../../renderer/viewLogic/robustWhere.ts';

const acc = { estimate: 0.5, lower: 0.4, upper: 0.6, n: 100 };
const metrics = (robustAt: readonly number[], last: number) =>
  Array.from({ length: last + 1 }, (_, e) => ({ globalEpoch: e, robustAccuracy: robustAt.includes(e) ? acc : null }));

describe('robustMeasuredText', () => {
  it('eval.every = 0 (quick): the phase ends only, named, and the straight line said', () => {
    // quick: init, the end of 30 clean epochs and of 15 adversarial ones; robust at init from the metrics.
    expect(robustMeasuredText(metrics([0], 45), [{ globalEpoch: 30 }, { globalEpoch: 45 }], 0)).toBe(
      'Robust accuracy is measured at the phase ends only (eval.every = 0): at epochs 0, 30 and 45; the line joins those points straight.',
    );
  });

  it('eval.every = 5 (flagship): every 5 epochs and the phase ends, a long list shortened', () => {
    const at = Array.from({ length: 13 }, (_, i) => i * 5);
    expect(robustMeasuredText(metrics(at, 60), [{ globalEpoch: 30 }, { globalEpoch: 60 }], 5)).toBe(
      'Robust accuracy is measured every 5 epochs and at each phase end: at epochs 0, 5, 10, 15, …, 60; the line joins those points straight.',
    );
  });

  it('eval.every = 1 says "every epoch"; nothing measured yet says so', () => {
    expect(robustMeasuredText(metrics([0, 1, 2], 2), [], 1)).toBe('Robust accuracy is measured every epoch and at each phase end: at epochs 0, 1 and 2; the line joins those points straight.');
    expect(robustMeasuredText([], [], 5)).toBe('Robust accuracy appears once it has been measured.');
  });
});
