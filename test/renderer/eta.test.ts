/**
 * The run view's time left: from the epochs observed so far, with the work not yet timed (a phase
 * not started, the evaluations at phase ends) weighed by the experiment's work model.
 */
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import { experimentWork, NOMINAL_EVAL_UNITS_PER_STEP } from '../../shared/experimentWork.ts';
import { presetByName } from '../../shared/presets.ts';
import { remainingSeconds, type EpochTime } from '../../renderer/viewLogic/eta.ts';

const quick = resolveExperiment(presetByName('quick').config);
const work = experimentWork(quick);
const unit = (train: number, evaluation: number) => train + evaluation / NOMINAL_EVAL_UNITS_PER_STEP;

/**
 * A run's epoch times: `secondsPerUnit` for the model's work, the adversarial epochs `slower`
 * times what the model says. Returns the metrics' times and the run's end.
 */
function timeline(secondsPerUnit: number, slower = 1): { epochs: EpochTime[]; end: number } {
  let t = unit(0, work.evalAtInit) * secondsPerUnit;
  const epochs: EpochTime[] = [{ globalEpoch: 0, elapsedSeconds: t }];
  let g = 0;
  let pendingEval = 0;
  for (const p of work.phases) {
    for (let e = 1; e <= p.epochs; e++) {
      t += pendingEval + unit(p.trainPerEpoch, p.evalPerEpoch) * secondsPerUnit * (p.phase === 'adversarial' ? slower : 1);
      pendingEval = 0;
      epochs.push({ globalEpoch: ++g, elapsedSeconds: t });
    }
    pendingEval = unit(0, p.evalAtEnd) * secondsPerUnit;
  }
  return { epochs, end: t + pendingEval };
}

describe('the time left of a running job', () => {
  it('is exact when the epochs take what the work model says, at any point of the run', () => {
    const { epochs, end } = timeline(0.002);
    for (const g of [1, 10, 29, 30, 31, 32, 40, 44, 45]) {
      const seen = epochs.slice(0, g + 1);
      const at = seen[seen.length - 1]!.elapsedSeconds;
      expect(remainingSeconds(quick, seen, at)).toBeCloseTo(end - at, 9);
    }
    expect(remainingSeconds(quick, epochs.slice(0, 1), epochs[0]!.elapsedSeconds)).toBeNull();
  });

  it('counts down between reports', () => {
    const { epochs } = timeline(0.002);
    const seen = epochs.slice(0, 11);
    const at = seen[10]!.elapsedSeconds;
    const epoch = seen[10]!.elapsedSeconds - seen[9]!.elapsedSeconds;
    expect(remainingSeconds(quick, seen, at + epoch / 2)).toBeCloseTo(remainingSeconds(quick, seen, at)! - epoch / 2, 9);
  });

  it('follows the adversarial epochs as observed when they are slower than the model says', () => {
    // Adversarial epochs three times slower than modelled: once a few have been timed, the time
    // left of the phase is theirs (the final evaluation is still from the model).
    const { epochs, end } = timeline(0.002, 3);
    const seen = epochs.slice(0, 36); // through epoch 35: epochs 32..35 timed in the adversarial phase
    const at = seen[35]!.elapsedSeconds;
    const advEpoch = seen[35]!.elapsedSeconds - seen[34]!.elapsedSeconds;
    const left = remainingSeconds(quick, seen, at)!;
    const trueLeft = end - at;
    // The 10 epochs left are counted at their observed length...
    expect(left).toBeGreaterThan(10 * advEpoch);
    // ...so the estimate is close to the truth, where a steps-per-second rate is far off.
    expect(Math.abs(left - trueLeft) / trueLeft).toBeLessThan(0.15); // the final evaluation is priced at the run's mean pace
    const stepsDone = 30 * 40 + 5 * 40;
    const naive = ((45 * 40 - stepsDone) / stepsDone) * at;
    expect(Math.abs(naive - trueLeft) / trueLeft).toBeGreaterThan(0.5);
  });
});
