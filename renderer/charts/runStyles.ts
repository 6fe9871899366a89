/**
 * How several runs are told apart in one chart without spending the two colours that carry
 * meaning: colour stays "clean" or "robust" (shared/charts/palette.ts), and the run is the line's
 * dash pattern. A run's model is drawn in the robust colour when it trained adversarially at all.
 */
import type { LineSeriesOption } from 'echarts';
import { CLEAN, ROBUST } from '../../shared/charts/palette.ts';
import type { ResolvedExperiment } from '../../shared/config.ts';

export const RUN_DASHES: readonly NonNullable<NonNullable<LineSeriesOption['lineStyle']>['type']>[] = ['solid', 'dashed', 'dotted', [9, 3, 2, 3], [2, 2], [12, 4]];

export function runDash(index: number): NonNullable<NonNullable<LineSeriesOption['lineStyle']>['type']> {
  return RUN_DASHES[index % RUN_DASHES.length] as NonNullable<NonNullable<LineSeriesOption['lineStyle']>['type']>;
}

/** The colour of a run's final model: robust when it trained adversarially, clean otherwise. */
export function finalModelColor(config: Pick<ResolvedExperiment, 'train'> | null): string {
  return config && config.train.protocol !== 'clean' ? ROBUST : CLEAN;
}
