/**
 * ECharts as the renderer uses it: only the chart types and components the shared builders use
 * (a smaller bundle than the full build). Canvas draws the live charts (the coefficient heatmaps
 * have 16k cells; canvas stays fast); SVG is registered for client-side SVG downloads of views the
 * server cannot render (comparisons).
 */
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  HeatmapChart,
  BarChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  TitleComponent,
  VisualMapComponent,
  MarkLineComponent,
  MarkAreaComponent,
  CanvasRenderer,
  SVGRenderer,
]);

export { echarts };
