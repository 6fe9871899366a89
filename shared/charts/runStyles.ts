/**
 * How runs are told apart on the comparison page: each run has its own colour (RUN_COLORS), and
 * there colour means nothing else. What is measured (clean, robust, mixture direction), the phase
 * (clean, adversarial) and the curve (worst case, mixture direction) are line styles, the same in
 * every chart of the page, and each chart's legend shows them.
 */
import type { LineSeriesOption } from 'echarts';
import { RUN_COLORS } from './palette.ts';

export type Dash = NonNullable<NonNullable<LineSeriesOption['lineStyle']>['type']>;

/** The colour of the run at this position in the comparison. */
export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length] as string;
}

/** Line styles: the first, solid, is the clean accuracy / clean phase / worst case. */
export const SOLID: Dash = 'solid';
export const DASHED: Dash = [7, 4];
export const DOTTED: Dash = [2, 3];

/** Line style of what is measured: clean solid, robust dashed, mixture direction dotted. */
export const ACCURACY_DASH = { clean: SOLID, robust: DASHED, mixture: DOTTED } as const;
/** Line style of a phase: clean solid, adversarial dashed. */
export const PHASE_DASH = { clean: SOLID, adversarial: DASHED } as const;
/** Line style of a robust-vs-ε curve: worst case solid, mixture direction dotted. */
export const CURVE_DASH = { worst: SOLID, mixture: DOTTED } as const;

/**
 * Line width of the run at `index` of `count`: earlier runs wider, so where runs coincide (a clean
 * phase shared by fine-tunings of one clean model) each shows as a band of its colour around the
 * later ones instead of vanishing under them.
 */
export function runWidth(index: number, count: number, base = 1.7): number {
  return base + 1.6 * Math.max(0, count - 1 - index);
}
