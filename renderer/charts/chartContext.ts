/** What a chart panel hands its builder: the width it draws at and the theme; `static` for downloads. */
import type { EChartsOption } from 'echarts';
import type { figureNames } from '../../shared/api.ts';
import type { ThemeName } from '../../shared/charts/palette.ts';

export interface ChartContext {
  readonly width: number;
  readonly height: number;
  readonly theme: ThemeName;
  readonly static?: boolean;
}

/** A pure builder of one chart for a context; null when there is nothing to draw yet. */
export type ChartBuild = (context: ChartContext) => EChartsOption | null;

export type FigureName = (typeof figureNames)[number];

/** Where a chart's downloads come from. */
export type ExportTarget =
  /** One of a run's figures, rendered by the engine side with the same builders (SVG, PNG, PDF). */
  | { readonly kind: 'server'; readonly runId: string; readonly figure: FigureName }
  /**
   * A view the engine side has no figure for (a comparison): drawn here, SVG and PNG; its CSV is
   * `csv` when given (the comparison's tidy table), else the points the chart shows.
   */
  | { readonly kind: 'client'; readonly fileName: string; readonly csv?: () => string };
