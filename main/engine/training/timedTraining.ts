/**
 * One epoch's training timed: its training seconds (the wall time; for a stack's member, its own
 * seconds by its clock, ./memberClock.ts) and the seconds it spent waiting on the other members
 * of its stack, which are neither its training nor its evaluation.
 */
import type { Trainer } from './trainer.ts';

export async function timedTraining<T>(trainer: Trainer, work: () => Promise<T>): Promise<{ result: T; seconds: number; waitedSeconds: number }> {
  const clock = trainer.later?.clock;
  const before = clock?.seconds ?? 0;
  const t0 = performance.now();
  const result = await work();
  const wall = (performance.now() - t0) / 1000;
  if (!clock) return { result, seconds: wall, waitedSeconds: 0 };
  const seconds = clock.seconds - before;
  return { result, seconds, waitedSeconds: Math.max(0, wall - seconds) };
}
