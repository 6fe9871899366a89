/**
 * Hidden neurons as pictures: the first-layer weights w_i of a fixed set of units, each reshaped
 * to its input's image (a 28 × 28 MNIST neuron, a 5 × 5 × 3 CNN filter), laid out as a grid of
 * tiles. This is the figure of feature purification on images: after clean training a neuron is
 * a dense, blotchy mixture; after adversarial fine-tuning it is a few clean strokes.
 *
 *   neuronGridPixels  the grid as RGBA pixels (pure; Node and browser alike)
 *   neuronGridSvg     panels side by side (e.g. after clean training | after fine-tuning) as a
 *                     standalone SVG: one pixelated PNG per panel, titles, a colour bar, a caption
 *
 * Colours. Grey (1-channel) weights use ONE diverging scale centred on 0, the coefficient
 * heatmap's (Tol's PRGn, shared/charts/palette.ts): t = clip((w / L + 1) / 2, 0, 1) runs along
 * the scale's stops with linear interpolation in sRGB (as ECharts' continuous visualMap does),
 * so w = 0 is the white centre, w ≤ −L the purple end and w ≥ +L the green end. RGB (3-channel)
 * filters are shown as colours, c = clip(0.5 + 0.5 · w_c / L, 0, 1) per channel (the usual
 * filter visualisation: 0 is mid-grey). L defaults to max |w| over what is shown; a caller
 * comparing panels passes one L to all of them, so "darker" means "larger" across panels. The
 * figures use a high quantile of |w| (neuronGridLimit) instead: the largest few weights saturate.
 *
 * Layout. Unit k (in `units` order) sits at row ⌊k / columns⌋, column k mod columns, whatever
 * its values, so a unit keeps its place across snapshots. Tiles are `scale` pixels per weight,
 * framed by `gap` pixels of neutral light grey (between tiles and around the grid); cells past
 * the last unit are grey too.
 */
import { encode } from 'fast-png';
import type { NeuronImages } from '../events.ts';
import { fmt, fontSizes, textWidth } from './common.ts';
import { DIVERGING } from './palette.ts';
import { escapeXml, svgDocument, wrapCaption } from './svgDocument.ts';

/** The frame between tiles: a light grey that no weight maps to (the scale's centre is #F7F7F7). */
export const NEURON_GAP_COLOR = '#C8C8C8';

export interface NeuronGridOptions {
  /** Tiles per row (default ⌈√units⌉). */
  readonly columns?: number;
  /** The colour scale's half-range L (default max |value| of what is drawn). */
  readonly limit?: number;
  /** Pixels between tiles and around the grid (default 1). */
  readonly gap?: number;
  /** Pixels per weight, an integer (default 1). */
  readonly scale?: number;
  /** Draw w − w0: the same units' weights to subtract (e.g. the initialisation). */
  readonly subtract?: NeuronImages;
}

export interface NeuronGridPixels {
  readonly width: number;
  readonly height: number;
  /** Row-major RGBA, 4 bytes a pixel, opaque. */
  readonly rgba: Uint8ClampedArray;
  /** The half-range L the colours span. */
  readonly limit: number;
  readonly columns: number;
  readonly rows: number;
  /** One tile's size in pixels. */
  readonly tile: { readonly width: number; readonly height: number };
  readonly gap: number;
  /** Pixels per weight. */
  readonly scale: number;
  /** Units drawn. */
  readonly count: number;
}

type Rgb = readonly [number, number, number];

function hexRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const STOPS: readonly Rgb[] = DIVERGING.map(hexRgb);
const GAP: Rgb = hexRgb(NEURON_GAP_COLOR);

/** The diverging colour of a weight w under the half-range L (see the file's doc). */
export function divergingRgb(value: number, limit: number): Rgb {
  if (!Number.isFinite(value)) return GAP;
  const t = Math.min(1, Math.max(0, (value / limit + 1) / 2));
  const pos = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = STOPS[i] as Rgb;
  const b = STOPS[i + 1] as Rgb;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** An RGB filter's colour: 0.5 + 0.5 · w_c / L per channel, clipped to [0, 1]. */
export function filterRgb(r: number, g: number, b: number, limit: number): Rgb {
  const c = (w: number) => (Number.isFinite(w) ? Math.round(255 * Math.min(1, Math.max(0, 0.5 + (0.5 * w) / limit))) : 128);
  return [c(r), c(g), c(b)];
}

/** Checks the shape: values = units × height × width × channels, channels 1 or 3. */
export function checkNeuronImages(images: NeuronImages): void {
  const { units, height, width, channels, values } = images;
  if (units.length < 1) throw new RangeError('neuron images need at least one unit');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`neuron images need a positive integer height and width, got ${height} x ${width}`);
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`neuron images are grey (1 channel) or RGB (3), got ${channels} channels`);
  const expected = units.length * height * width * channels;
  if (values.length !== expected) {
    throw new RangeError(`neuron images of ${units.length} units of ${height} x ${width} x ${channels} need ${expected} values, got ${values.length}`);
  }
}

function sameUnits(a: NeuronImages, b: NeuronImages): boolean {
  return a.units.length === b.units.length && a.units.every((u, i) => u === b.units[i]);
}

/** The values drawn: w, or w − w0 when `subtract` is given (same units, same shape). */
export function shownValues(images: NeuronImages, subtract?: NeuronImages): readonly number[] {
  checkNeuronImages(images);
  if (!subtract) return images.values;
  checkNeuronImages(subtract);
  if (!sameUnits(images, subtract) || subtract.height !== images.height || subtract.width !== images.width || subtract.channels !== images.channels) {
    throw new RangeError(
      `cannot subtract neuron images of other units or shape (${subtract.units.length} units ${subtract.height} x ${subtract.width} x ${subtract.channels} from ${images.units.length} units ${images.height} x ${images.width} x ${images.channels})`,
    );
  }
  return images.values.map((v, i) => v - (subtract.values[i] as number));
}

/** max |value| over finite values; 1 when there is nothing but zeros (any scale draws those). */
function maxAbs(values: readonly number[], start = 0): number {
  let m = start;
  for (const v of values) {
    const a = Math.abs(v);
    if (a > m && Number.isFinite(a)) m = a;
  }
  return m;
}

/**
 * The shared half-range L of several panels: the q-quantile of |w| (or |w − w0|) over all their
 * weights, q = 1 (the default) being the largest. Trained first layers have a few weights far
 * above the rest, so L = max leaves most pictures near white; q = NEURON_LIMIT_QUANTILE lets
 * that few saturate and gives the bulk the scale (the colour bar then reads ≥ L, ≤ −L).
 */
export function neuronGridLimit(panels: readonly { readonly images: NeuronImages; readonly subtract?: NeuronImages | undefined }[], quantile = 1): number {
  let m = 0;
  if (quantile >= 1) {
    for (const p of panels) m = maxAbs(shownValues(p.images, p.subtract), m);
  } else {
    const abs: number[] = [];
    for (const p of panels) for (const v of shownValues(p.images, p.subtract)) if (Number.isFinite(v)) abs.push(Math.abs(v));
    abs.sort((a, b) => a - b);
    m = abs.length > 0 ? (abs[Math.min(abs.length - 1, Math.floor(Math.max(0, quantile) * (abs.length - 1)))] as number) : 0;
  }
  return m > 0 ? m : 1;
}

/** The quantile of |w| the figures and the live panel scale to by default (see neuronGridLimit). */
export const NEURON_LIMIT_QUANTILE = 0.995;

/** The units drawn as a grid of tiles, as RGBA pixels (see the file's doc for colours and layout). */
export function neuronGridPixels(images: NeuronImages, options: NeuronGridOptions = {}): NeuronGridPixels {
  const values = shownValues(images, options.subtract);
  const n = images.units.length;
  const { height: h, width: w, channels } = images;
  const columns = Math.max(1, Math.min(n, Math.floor(options.columns ?? Math.ceil(Math.sqrt(n)))));
  const rows = Math.ceil(n / columns);
  const gap = Math.max(0, Math.floor(options.gap ?? 1));
  const scale = Math.max(1, Math.floor(options.scale ?? 1));
  let limit = options.limit ?? maxAbs(values);
  if (!(limit > 0) || !Number.isFinite(limit)) limit = 1;
  const tileW = w * scale;
  const tileH = h * scale;
  const width = columns * tileW + (columns + 1) * gap;
  const height = rows * tileH + (rows + 1) * gap;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[4 * p] = GAP[0];
    rgba[4 * p + 1] = GAP[1];
    rgba[4 * p + 2] = GAP[2];
    rgba[4 * p + 3] = 255;
  }
  for (let k = 0; k < n; k++) {
    const x0 = gap + (k % columns) * (tileW + gap);
    const y0 = gap + Math.floor(k / columns) * (tileH + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const at = ((k * h + y) * w + x) * channels;
        const rgb =
          channels === 1
            ? divergingRgb(values[at] as number, limit)
            : filterRgb(values[at] as number, values[at + 1] as number, values[at + 2] as number, limit);
        for (let dy = 0; dy < scale; dy++) {
          let p = 4 * ((y0 + y * scale + dy) * width + x0 + x * scale);
          for (let dx = 0; dx < scale; dx++, p += 4) {
            rgba[p] = rgb[0];
            rgba[p + 1] = rgb[1];
            rgba[p + 2] = rgb[2];
          }
        }
      }
    }
  }
  return { width, height, rgba, limit, columns, rows, tile: { width: tileW, height: tileH }, gap, scale, count: n };
}

/**
 * What lies under pixel (x, y) of a grid: the unit's position k in `units` and the weight's row
 * and column in its image; null on a gap or an empty cell.
 */
export function neuronGridHit(grid: NeuronGridPixels, x: number, y: number): { unit: number; row: number; column: number } | null {
  const px = Math.floor(x);
  const py = Math.floor(y);
  const col = Math.floor((px - grid.gap) / (grid.tile.width + grid.gap));
  const row = Math.floor((py - grid.gap) / (grid.tile.height + grid.gap));
  if (col < 0 || row < 0 || col >= grid.columns || row >= grid.rows) return null;
  const inX = px - grid.gap - col * (grid.tile.width + grid.gap);
  const inY = py - grid.gap - row * (grid.tile.height + grid.gap);
  if (inX < 0 || inY < 0 || inX >= grid.tile.width || inY >= grid.tile.height) return null;
  const unit = row * grid.columns + col;
  if (unit >= grid.count) return null;
  return { unit, row: Math.floor(inY / grid.scale), column: Math.floor(inX / grid.scale) };
}

// --- the SVG figure -------------------------------------------------------------------------------

export interface NeuronGridPanel {
  readonly title: string;
  readonly images: NeuronImages;
  /** Draw w − w0 with these w0. */
  readonly subtract?: NeuronImages | undefined;
  /** The title's colour (default the text colour; a phase has no hue of its own, see palette.ts). */
  readonly color?: string;
}

export interface NeuronGridSvgOptions {
  readonly columns?: number;
  /** One half-range L for every panel (default: max |value| over all panels). */
  readonly limit?: number;
  readonly caption?: string;
  /** CSS px per PNG pixel, an integer (default: the largest that keeps a panel near 320 px wide). */
  readonly scale?: number;
  /** Pixels between tiles (default 1). */
  readonly gap?: number;
  /** The colour bar's name, above it (grey images; default none). */
  readonly barLabel?: string;
}

export interface NeuronGridDocument {
  readonly svg: string;
  /** The document's size in CSS px. */
  readonly width: number;
  readonly height: number;
  readonly limit: number;
  /** Pixels per weight in the embedded PNGs (1 for 28 x 28 images; more for small filters). */
  readonly pixelScale: number;
}

const TEXT = '#1A1A1A';
const SUBTLE = '#4D4D4D';
const MARGIN = 10;
const PANEL_GAP = 20;
const BAR_WIDTH = 10;
/** Display width a panel aims at when no scale is given (a column figure's width is 336 px). */
const TARGET_PANEL_PX = 320;
/** Smallest tile in the embedded PNGs, in pixels. */
const MIN_TILE_PX = 12;

/** Bytes as base64, in Node and in the browser alike. */
export function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The pixels as an 8-bit RGB PNG (they are opaque: no alpha channel to carry). */
export function neuronGridPng(pixels: Pick<NeuronGridPixels, 'width' | 'height' | 'rgba'>): Uint8Array {
  const rgb = new Uint8Array(pixels.width * pixels.height * 3);
  for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
    rgb[p] = pixels.rgba[q] as number;
    rgb[p + 1] = pixels.rgba[q + 1] as number;
    rgb[p + 2] = pixels.rgba[q + 2] as number;
  }
  return encode({ width: pixels.width, height: pixels.height, data: rgb, channels: 3, depth: 8 });
}

/** Pixels per weight that make a tile at least MIN_TILE_PX wide and high (1 for 28 x 28 images, 3 for 5 x 5 filters). */
export function tilePixelScale(images: Pick<NeuronImages, 'height' | 'width'>): number {
  return Math.max(1, Math.ceil(MIN_TILE_PX / Math.min(images.height, images.width)));
}

/**
 * Panels side by side as a standalone SVG document, with its size: each panel's title above its
 * grid, the grid as a PNG data URI drawn pixelated (`image-rendering: optimizeSpeed`, which
 * browsers and resvg both draw without smoothing), one colour scale for all panels with a vector
 * colour bar (−L, 0, +L) for grey images, and the caption below, wrapped.
 */
export function neuronGridDocument(panels: readonly NeuronGridPanel[], options: NeuronGridSvgOptions = {}): NeuronGridDocument {
  if (panels.length === 0) throw new RangeError('a neuron grid figure needs at least one panel');
  const limit = options.limit !== undefined && options.limit > 0 && Number.isFinite(options.limit) ? options.limit : neuronGridLimit(panels);
  // Small tiles (5 x 5 filters) are replicated in the PNG itself, so that the 1-pixel gap stays
  // thin beside them: at least MIN_TILE_PX pixels a tile.
  const pixelScale = tilePixelScale((panels[0] as NeuronGridPanel).images);
  const gridOptions = {
    limit,
    scale: pixelScale,
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
    ...(options.gap !== undefined ? { gap: options.gap } : {}),
  };
  const grids = panels.map((p) => neuronGridPixels(p.images, { ...gridOptions, ...(p.subtract ? { subtract: p.subtract } : {}) }));
  // Weights beyond ±L take the end colours: say so on the bar.
  const saturated = neuronGridLimit(panels) > limit;
  const widest = Math.max(...grids.map((g) => g.width));
  const scale = Math.max(1, Math.floor(options.scale ?? Math.max(1, Math.floor(TARGET_PANEL_PX / widest))));
  const grey = panels.some((p) => p.images.channels === 1);

  const titleSize = fontSizes.axisName;
  const tickSize = fontSizes.tick;
  const titleBand = titleSize + 8;
  // Whole CSS px everywhere an image goes, so that every weight covers whole device pixels.
  const slots = panels.map((p, i) => Math.max((grids[i] as NeuronGridPixels).width * scale, Math.ceil(textWidth(p.title, titleSize) + 4)));
  const imageHeight = Math.max(...grids.map((g) => g.height * scale));
  const top = MARGIN + titleBand;

  const parts: string[] = [];
  let x = MARGIN;
  panels.forEach((p, i) => {
    const g = grids[i] as NeuronGridPixels;
    const slot = slots[i] as number;
    const w = g.width * scale;
    const h = g.height * scale;
    const cx = x + slot / 2;
    parts.push(
      `<text x="${cx}" y="${MARGIN + titleSize}" text-anchor="middle" font-size="${titleSize}" fill="${escapeXml(p.color ?? TEXT)}">${escapeXml(p.title)}</text>`,
      `<image x="${x + Math.floor((slot - w) / 2)}" y="${top}" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated;image-rendering:optimizeSpeed" href="data:image/png;base64,${base64(neuronGridPng(g))}"/>`,
    );
    x += slot + PANEL_GAP;
  });
  x -= PANEL_GAP;

  if (grey) {
    const barX = x + 14;
    const barH = Math.min(imageHeight, 220);
    const barY = top + (imageHeight - barH) / 2;
    const labels: [number, string][] = [
      [barY, `${saturated ? '≥ ' : ''}${fmt(limit, 2)}`],
      [barY + barH / 2, '0'],
      [barY + barH, `${saturated ? '≤ ' : ''}−${fmt(limit, 2)}`],
    ];
    parts.push(
      `<defs><linearGradient id="neuron-grid-scale" x1="0" y1="1" x2="0" y2="0">${DIVERGING.map((c, i) => `<stop offset="${((100 * i) / (DIVERGING.length - 1)).toFixed(2)}%" stop-color="${c}"/>`).join('')}</linearGradient></defs>`,
      `<rect x="${barX}" y="${barY}" width="${BAR_WIDTH}" height="${barH}" fill="url(#neuron-grid-scale)" stroke="${SUBTLE}" stroke-width="0.5"/>`,
      ...labels.map(
        ([y, label]) =>
          `<line x1="${barX + BAR_WIDTH}" y1="${y}" x2="${barX + BAR_WIDTH + 3}" y2="${y}" stroke="${SUBTLE}" stroke-width="0.75"/>` +
          `<text x="${barX + BAR_WIDTH + 5}" y="${y + tickSize * 0.35}" font-size="${tickSize}" fill="${SUBTLE}">${escapeXml(label)}</text>`,
      ),
    );
    if (options.barLabel) {
      parts.push(`<text x="${barX}" y="${barY - 9}" font-size="${tickSize}" fill="${SUBTLE}">${escapeXml(options.barLabel)}</text>`);
    }
    const labelWidth = Math.max(...labels.map(([, l]) => textWidth(l, tickSize)));
    x = Math.max(barX + BAR_WIDTH + 5 + labelWidth, options.barLabel ? barX + textWidth(options.barLabel, tickSize) : 0);
  }
  const width = Math.ceil(x + MARGIN);

  let height = top + imageHeight;
  if (options.caption) {
    const lineHeight = tickSize + 3;
    const lines = wrapCaption(options.caption, width - 2 * MARGIN, tickSize);
    lines.forEach((line, i) => {
      parts.push(`<text x="${MARGIN}" y="${height + 6 + tickSize + i * lineHeight}" font-size="${tickSize}" fill="${SUBTLE}">${escapeXml(line)}</text>`);
    });
    height += 6 + lines.length * lineHeight;
  }
  height = Math.ceil(height + MARGIN);

  return { svg: svgDocument(width, height, parts), width, height, limit, pixelScale };
}

/** Panels side by side as a standalone SVG document (see neuronGridDocument). */
export function neuronGridSvg(panels: readonly NeuronGridPanel[], options: NeuronGridSvgOptions = {}): string {
  return neuronGridDocument(panels, options).svg;
}
