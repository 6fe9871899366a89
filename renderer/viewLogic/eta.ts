/**
 * How long a running job has left, from what its epochs have taken so far.
 *
 * A training-steps-per-second rate says little: evaluation is about half of a flagship run, an
 * adversarial step costs PGD-s + 1 clean ones, and each phase ends with every attack over the eps
 * grid. So the remaining time is assembled from
 *   - the current phase's remaining epochs at the mean time of its epochs observed so far (the
 *     metrics events carry each epoch's elapsed time; an epoch that followed a phase's final
 *     evaluation carries that evaluation too and is left out of the mean);
 *   - the rest, which no epoch has shown yet (a phase not started, the evaluations at phase ends):
 *     its work (shared/experimentWork.ts) times the seconds per unit of work observed so far.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import { experimentWork, NOMINAL_EVAL_UNITS_PER_STEP } from '../../shared/experimentWork.ts';

export interface EpochTime {
  readonly globalEpoch: number;
  /** Seconds since the run started, when this epoch's metrics were taken. */
  readonly elapsedSeconds: number;
}

/**
 * Seconds left, or null before there is anything to go by (no epoch done yet). `elapsed` is the
 * run's elapsed time now, so the answer counts down between events.
 */
export function remainingSeconds(config: ResolvedExperiment, epochs: readonly EpochTime[], elapsed: number): number | null {
  const work = experimentWork(config);
  const last = epochs[epochs.length - 1];
  if (!last || last.globalEpoch < 1) return null;
  // Work in training-step units, evaluation converted at the nominal rate ratio.
  const unit = (train: number, evaluation: number) => train + evaluation / NOMINAL_EVAL_UNITS_PER_STEP;
  const byEpoch = new Map(epochs.map((e) => [e.globalEpoch, e.elapsedSeconds]));

  let start = 0; // global epoch before the phase
  let doneWork = unit(0, work.evalAtInit);
  let pendingWork = 0; // the final evaluation of a phase whose last epoch was just reported
  let remainingWork = 0;
  let current: { start: number; epochs: number; perEpoch: number; evalAtEnd: number } | null = null;
  for (const p of work.phases) {
    const end = start + p.epochs;
    const perEpoch = unit(p.trainPerEpoch, p.evalPerEpoch);
    const atEnd = unit(0, p.evalAtEnd);
    if (last.globalEpoch > end) doneWork += p.epochs * perEpoch + atEnd;
    else if (last.globalEpoch === end) {
      // An epoch's metrics are taken before the phase's final evaluation: that is still to come.
      doneWork += p.epochs * perEpoch;
      pendingWork += atEnd;
    } else if (last.globalEpoch >= start) {
      doneWork += (last.globalEpoch - start) * perEpoch;
      current = { start, epochs: p.epochs, perEpoch, evalAtEnd: atEnd };
    } else remainingWork += p.epochs * perEpoch + atEnd;
    start = end;
  }
  const secondsPerUnit = last.elapsedSeconds / doneWork;
  const sinceLast = Math.max(0, elapsed - last.elapsedSeconds);
  if (!current) return Math.max(0, pendingWork * secondsPerUnit - sinceLast);

  // The current phase's epochs as observed: deltas between consecutive epochs of this phase
  // (the first epoch of a later phase also carries the previous phase's final evaluation).
  const from = current.start === 0 ? 1 : current.start + 2;
  let observed = 0;
  let count = 0;
  for (let g = from; g <= last.globalEpoch; g++) {
    const t = byEpoch.get(g);
    const before = byEpoch.get(g - 1);
    if (t === undefined || before === undefined) continue;
    observed += t - before;
    count += 1;
  }
  const epochSeconds = count > 0 ? observed / count : current.perEpoch * secondsPerUnit;
  const epochsLeft = current.start + current.epochs - last.globalEpoch;
  // What the time since the last report has gone into (the pending evaluation, then the epoch
  // under way) is not left; more than that is not known to be done.
  const spent = Math.min(sinceLast, pendingWork * secondsPerUnit + epochSeconds);
  const left = (pendingWork + current.evalAtEnd + remainingWork) * secondsPerUnit + epochsLeft * epochSeconds - spent;
  return Math.max(0, left);
}
