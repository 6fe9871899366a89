/**
 * Standalone SVG documents of the picture figures (./neuronGrid.ts, ./adversarialImages.ts):
 * text escaped for XML, captions wrapped to a width, and the document around the drawn parts.
 */
import { FONT_STACK, textWidth } from './common.ts';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Greedy word wrap to a width in px (Source Sans 3 metrics). */
export function wrapText(text: string, width: number, fontSize: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, fontSize) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * How much wider than Source Sans 3 a viewer's fallback face may draw a caption: DejaVu Sans,
 * Linux's sans-serif, is 1.24 times as wide (measured on the figures' captions). An SVG shown as
 * an <img>, or opened where Source Sans 3 is not installed, cannot reach our font.
 */
export const FALLBACK_FACE_WIDTH = 1.25;

/** A figure's caption wrapped to `width` px so that it fits in the fallback face too. */
export function wrapCaption(text: string, width: number, fontSize: number): string[] {
  return wrapText(text, width / FALLBACK_FACE_WIDTH, fontSize);
}

/** The SVG document of `parts` on a white page of this size, in our font. */
export function svgDocument(width: number, height: number, parts: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_STACK)}">` +
    `<rect width="${width}" height="${height}" fill="#FFFFFF"/>` +
    parts.join('') +
    '</svg>'
  );
}
