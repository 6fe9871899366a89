/**
 * Learning-rate schedules: the rate for an epoch of a phase. constant; step (times gamma every
 * `every` epochs); cosine (from lr to minLr over the phase).
 */
import type { ExperimentConfig } from '../../../shared/config.ts';

type ScheduleSpec = ExperimentConfig['train']['schedule'];

/** The learning rate of epoch `epoch` (0-based) of a phase of `epochs` epochs. */
export function learningRate(base: number, schedule: ScheduleSpec, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(epoch / schedule.every);
    case 'cosine': {
      const progress = epochs <= 1 ? 0 : epoch / (epochs - 1);
      return schedule.minLr + 0.5 * (base - schedule.minLr) * (1 + Math.cos(Math.PI * progress));
    }
  }
}
