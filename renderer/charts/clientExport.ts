/**
 * Downloads of charts the engine side cannot render (comparisons of several runs): the same
 * builder drawn off-screen at a paper-like size with the export styling (`static`: no
 * animation, opaque background), then saved as SVG (vector) or PNG at a chosen size.
 */
import { echarts } from './echarts.ts';
import type { ChartBuild } from './chartContext.ts';
import type { ThemeName } from '../../shared/charts/palette.ts';
import { saveBlob } from '../viewLogic/download.ts';
import { optionCsv } from '../../shared/charts/optionCsv.ts';
import { FIGURE_SIZE, pngSizes, type PngSize } from './pngSizes.ts';

export function exportClientChart(
  build: ChartBuild,
  format: 'svg' | 'png' | 'csv',
  fileName: string,
  theme: ThemeName,
  options: { png?: PngSize; csv?: () => string } = {},
): void {
  const size = FIGURE_SIZE;
  if (format === 'csv' && options.csv) {
    saveBlob(new Blob([options.csv()], { type: 'text/csv' }), `${fileName}.csv`);
    return;
  }
  const option = build({ ...size, theme, static: true });
  if (!option) return;
  if (format === 'csv') {
    saveBlob(new Blob([optionCsv(option)], { type: 'text/csv' }), `${fileName}.csv`);
    return;
  }
  const host = document.createElement('div');
  host.style.cssText = `position:fixed;left:-10000px;top:0;width:${size.width}px;height:${size.height}px`;
  document.body.appendChild(host);
  const chart = echarts.init(host, null, { renderer: format === 'svg' ? 'svg' : 'canvas', width: size.width, height: size.height });
  try {
    chart.setOption(option);
    if (format === 'svg') {
      const svg = chart.renderToSVGString();
      saveBlob(new Blob([svg], { type: 'image/svg+xml' }), `${fileName}.svg`);
    } else {
      const png = pngSizes.find((p) => p.id === (options.png ?? '2x')) ?? pngSizes[1];
      const url = chart.getDataURL({ type: 'png', pixelRatio: png.pixelRatio });
      const bytes = Uint8Array.from(atob(url.slice(url.indexOf(',') + 1)), (c) => c.charCodeAt(0));
      saveBlob(new Blob([bytes], { type: 'image/png' }), `${fileName}${png.id === '2x' ? '' : `-${png.id}`}.png`);
    }
  } finally {
    chart.dispose();
    host.remove();
  }
}
