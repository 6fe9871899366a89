/**
 * One figure of a run's figure set as the bytes of a file, in memory: what browser mode sends
 * when the user exports a chart. It renders exactly as `lab export` does (the same builders in
 * shared/charts, the same renderers, at the figure's paper size), so a chart downloaded from the
 * UI and the CLI's file are the same picture.
 */
import type { Figure, PictureFigure } from '../../../shared/charts/index.ts';
import { renderPdf, renderPng, renderSvg, type ExportFormat } from './render.ts';

export const figureContentTypes: Readonly<Record<ExportFormat, string>> = {
  svg: 'image/svg+xml; charset=utf-8',
  png: 'image/png',
  pdf: 'application/pdf',
};

/** The figure rendered as SVG, PNG (2×, the shipped fonts only) or vector PDF (a picture figure's images embedded as they are). */
export async function figureBytes(figure: Figure | PictureFigure, format: ExportFormat): Promise<Uint8Array> {
  const svg = 'svg' in figure ? figure.svg : renderSvg(figure.option, figure.size);
  switch (format) {
    case 'svg':
      return new TextEncoder().encode(svg);
    case 'png':
      return renderPng(svg);
    case 'pdf':
      return renderPdf(svg, figure.size);
  }
}
