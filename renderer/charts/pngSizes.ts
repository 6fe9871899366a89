/** The sizes a client-side figure downloads at (clientExport.ts). */

/** The size a figure is laid out at, in CSS pixels (a 7 in column at 96 px/in). */
export const FIGURE_SIZE = { width: 672, height: 400 } as const;

/**
 * The PNG sizes offered: screen resolution, twice that, and paper widths at 300 dpi (a single
 * column, 3.5 in; the full text width, 7 in). The figure is laid out at FIGURE_SIZE either way and
 * drawn with more pixels, so text and lines keep their proportions.
 */
export const pngSizes = [
  { id: '1x', label: 'PNG 1× (672 × 400 px)', pixelRatio: 1 },
  { id: '2x', label: 'PNG 2× (1344 × 800 px)', pixelRatio: 2 },
  { id: 'col', label: 'PNG 3.5 in at 300 dpi (1050 px wide)', pixelRatio: (3.5 * 300) / FIGURE_SIZE.width },
  { id: 'page', label: 'PNG 7 in at 300 dpi (2100 px wide)', pixelRatio: (7 * 300) / FIGURE_SIZE.width },
] as const;

export type PngSize = (typeof pngSizes)[number]['id'];
