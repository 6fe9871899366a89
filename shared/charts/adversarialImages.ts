/**
 * The `adversarial-images` figure of an image run (shared/adversarial.ts): one row per chosen
 * test sample; the input x with its label, then for each model (after clean training, then the
 * final model) the perturbation δ its attack found and the adversarial input x + δ with the
 * model's prediction on it.
 *
 * Colours. x and x + δ are drawn as the data: grey ink on white, t = (v − lo) / (hi − lo) over the
 * data range [lo, hi], grey = 255 · (1 − t), so a digit's stroke is black; RGB inputs as their
 * colours. δ uses ONE diverging scale for every panel, centred on 0 (Tol's PRGn, as the neuron
 * pictures: purple < 0 < green, 0 white) with half-range L = max |δ| over all models and samples,
 * so that a darker δ is a larger δ whichever model it belongs to. RGB perturbations are drawn as
 * 0.5 + 0.5 · δ_c / L per channel (0 is mid-grey).
 *
 * What to look for: a clean-trained model's δ spreads over the whole picture like noise; a robust
 * model's δ concentrates on strokes (it has to draw or erase parts of a digit).
 */
import { cosine, deltaOf, rowOf, type AdversarialExamples } from '../adversarial.ts';
import type { RunResult } from '../result.ts';
import { fmt, fontSizes, textWidth } from './common.ts';
import { base64, divergingRgb, filterRgb, neuronGridPng } from './neuronGrid.ts';
import type { PictureFigure } from './neuronImages.ts';
import { DIVERGING, themes } from './palette.ts';
import { escapeXml, svgDocument, wrapCaption } from './svgDocument.ts';

export const ADVERSARIAL_IMAGES_FIGURE = 'adversarial-images';

type Rgb = readonly [number, number, number];
type Picture = NonNullable<AdversarialExamples['picture']>;

export interface TilePixels {
  readonly width: number;
  readonly height: number;
  /** Row-major RGBA, opaque. */
  readonly rgba: Uint8ClampedArray;
}

/** The grey (or RGB) colour of an input value v over the data range (see the file's doc). */
export function inputRgb(values: readonly number[], at: number, channels: number, range: readonly [number, number]): Rgb {
  const [lo, hi] = range;
  const t = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / (hi - lo || 1))) : 0.5);
  if (channels === 3) return [Math.round(255 * t(values[at] as number)), Math.round(255 * t(values[at + 1] as number)), Math.round(255 * t(values[at + 2] as number))];
  const g = Math.round(255 * (1 - t(values[at] as number)));
  return [g, g, g];
}

/** One picture (a row of `values`, reshaped) as pixels, `scale` pixels per value. */
export function tilePixels(values: readonly number[], picture: Picture, colour: (at: number) => Rgb, scale = 1): TilePixels {
  const { height: h, width: w, channels } = picture;
  if (values.length !== h * w * channels) throw new RangeError(`a ${h} x ${w} x ${channels} picture needs ${h * w * channels} values, got ${values.length}`);
  const width = w * scale;
  const height = h * scale;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = colour((y * w + x) * channels);
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const p = 4 * ((y * scale + dy) * width + x * scale + dx);
          rgba[p] = rgb[0];
          rgba[p + 1] = rgb[1];
          rgba[p + 2] = rgb[2];
          rgba[p + 3] = 255;
        }
      }
    }
  }
  return { width, height, rgba };
}

/**
 * The range the inputs are drawn over: the data range the attack clipped to, else (a dataset file
 * carries none) the smallest and largest value of x and every x + δ shown.
 */
export function inputRange(examples: AdversarialExamples): readonly [number, number] {
  if (examples.dataRange) return examples.dataRange;
  let lo = Infinity;
  let hi = -Infinity;
  for (const values of [examples.x, ...examples.models.map((m) => m.adversarial)]) {
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Number.isFinite(lo) && hi > lo ? [lo, hi] : [0, 1];
}

/** The half-range L of the δ scale: max |δ| over every model and sample (1 when all are 0). */
export function deltaLimit(examples: AdversarialExamples): number {
  let m = 0;
  for (const model of examples.models) for (const v of deltaOf(examples, model)) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m > 0 ? m : 1;
}

/** ‖v‖ in the attack's norm. */
function normOf(v: readonly number[], norm: AdversarialExamples['norm']): number {
  if (norm === 'linf') return v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

/** "7", or "none" for the binary net's f(x) = 0. */
export function labelText(label: number, binary: boolean): string {
  if (binary) return label > 0 ? '+1' : label < 0 ? '−1' : 'none (f = 0)';
  return String(label);
}

export interface AdversarialImagesDocument {
  readonly svg: string;
  readonly width: number;
  readonly height: number;
  /** The δ scale's half-range L. */
  readonly limit: number;
  /** Pixels per input value in the embedded PNGs. */
  readonly pixelScale: number;
}

const TEXT = themes.light.text;
const SUBTLE = '#4D4D4D';
const WRONG = '#B00020';
const FRAME = '#C8C8C8';
const MARGIN = 10;
const GAP = 8;
const MODEL_GAP = 18;
const BAR_WIDTH = 10;

/** How a model's δ and prediction read in the caption: "after clean: fooled on 8 of 8". */
function fooledPhrase(examples: AdversarialExamples, modelIndex: number): string {
  const model = examples.models[modelIndex]!;
  let right = 0;
  let fooled = 0;
  examples.labels.forEach((y, i) => {
    if (model.cleanPrediction[i] !== y) return;
    right++;
    if (model.prediction[i] !== y) fooled++;
  });
  return `${model.label}: ${fooled} of the ${right} it classifies correctly are misclassified after the attack`;
}

/**
 * The figure as a standalone SVG document: per row x | (δ, x + δ) per model, column titles, the
 * label under x and the prediction under each x + δ (in red when wrong; with the clean prediction
 * when that was already wrong), ‖δ‖ under each δ, one δ
 * colour bar (−L, 0, +L) and a caption.
 */
export function adversarialImagesDocument(examples: AdversarialExamples, options: { scale?: number } = {}): AdversarialImagesDocument {
  const picture = examples.picture;
  if (!picture) throw new RangeError('adversarial images need a picture shape (image tasks); the sparse-coding task draws its coefficients instead');
  const n = examples.indices.length;
  const d = examples.inputDim;
  const range = inputRange(examples);
  const limit = deltaLimit(examples);
  const pixelScale = Math.max(1, Math.floor(options.scale ?? Math.ceil(72 / Math.max(picture.height, picture.width))));
  const tileW = picture.width * pixelScale;
  const tileH = picture.height * pixelScale;
  const titleSize = fontSizes.axisName;
  const tickSize = fontSizes.tick;
  const columnTitles = ['x (label)', ...examples.models.flatMap((m) => [`δ, ${m.label}`, `x + δ, ${m.label}`])];
  // Titles get 20 % beyond their measured width: an SVG shown as <img> cannot load Source Sans 3,
  // and the fallback face is wider, so neighbouring titles would otherwise run into each other.
  const slot = Math.max(tileW, ...columnTitles.map((t) => Math.ceil(textWidth(t, tickSize) * 1.2) + 4));
  const rowH = tileH + tickSize + 8;
  const top = MARGIN + titleSize + 8;
  const parts: string[] = [];
  const columnX: number[] = [];
  let x = MARGIN;
  columnTitles.forEach((_, c) => {
    columnX.push(x);
    x += slot + (c === 0 || c % 2 === 0 ? MODEL_GAP : GAP);
  });
  x -= MODEL_GAP;
  columnTitles.forEach((title, c) => {
    parts.push(`<text x="${(columnX[c] as number) + slot / 2}" y="${MARGIN + titleSize}" text-anchor="middle" font-size="${tickSize}" fill="${TEXT}">${escapeXml(title)}</text>`);
  });
  // Each tile framed in light grey, so a white input (all background) still shows its extent.
  const image = (c: number, r: number, pixels: TilePixels) => {
    const tx = (columnX[c] as number) + Math.floor((slot - tileW) / 2);
    const ty = top + r * rowH;
    return (
      `<image x="${tx}" y="${ty}" width="${tileW}" height="${tileH}" preserveAspectRatio="none" style="image-rendering:pixelated;image-rendering:optimizeSpeed" href="data:image/png;base64,${base64(neuronGridPng(pixels))}"/>` +
      `<rect x="${tx - 0.5}" y="${ty - 0.5}" width="${tileW + 1}" height="${tileH + 1}" fill="none" stroke="${FRAME}" stroke-width="1"/>`
    );
  };
  const label = (c: number, r: number, text: string, colour: string) =>
    `<text x="${(columnX[c] as number) + slot / 2}" y="${top + r * rowH + tileH + tickSize + 2}" text-anchor="middle" font-size="${tickSize}" fill="${colour}">${escapeXml(text)}</text>`;
  const deltas = examples.models.map((m) => deltaOf(examples, m));
  for (let r = 0; r < n; r++) {
    const xi = rowOf(examples.x, r, d);
    const y = examples.labels[r] as number;
    parts.push(image(0, r, tilePixels(xi, picture, (at) => inputRgb(xi, at, picture.channels, range), pixelScale)));
    parts.push(label(0, r, `#${examples.indices[r]}: ${labelText(y, false)}`, SUBTLE));
    examples.models.forEach((m, k) => {
      const di = rowOf(deltas[k] as number[], r, d);
      const ai = rowOf(m.adversarial, r, d);
      const rgb = (at: number): Rgb =>
        picture.channels === 3 ? filterRgb(di[at] as number, di[at + 1] as number, di[at + 2] as number, limit) : divergingRgb(di[at] as number, limit);
      parts.push(image(1 + 2 * k, r, tilePixels(di, picture, rgb, pixelScale)));
      parts.push(label(1 + 2 * k, r, `‖δ‖ = ${fmt(normOf(di, examples.norm), 3)}`, SUBTLE));
      parts.push(image(2 + 2 * k, r, tilePixels(ai, picture, (at) => inputRgb(ai, at, picture.channels, range), pixelScale)));
      const p = m.prediction[r] as number;
      const c = m.cleanPrediction[r] as number;
      // A sample the model already got wrong clean says so: the attack did not cause that mistake.
      parts.push(label(2 + 2 * k, r, `→ ${labelText(p, false)}${c !== y ? ` (clean: ${labelText(c, false)})` : ''}`, p === y ? SUBTLE : WRONG));
    });
  }
  const gridHeight = n * rowH;
  // The δ colour bar: −L, 0, +L (vector, so it stays sharp in every format).
  const barX = x + 14;
  const barH = Math.min(gridHeight - tickSize, 200);
  const barY = top;
  const ticks: [number, string][] = [
    [barY, `${fmt(limit, 2)}`],
    [barY + barH / 2, '0'],
    [barY + barH, `−${fmt(limit, 2)}`],
  ];
  parts.push(
    `<defs><linearGradient id="adversarial-delta-scale" x1="0" y1="1" x2="0" y2="0">${DIVERGING.map((c, i) => `<stop offset="${((100 * i) / (DIVERGING.length - 1)).toFixed(2)}%" stop-color="${c}"/>`).join('')}</linearGradient></defs>`,
    `<text x="${barX}" y="${barY - 6}" font-size="${tickSize}" fill="${SUBTLE}">δ</text>`,
    `<rect x="${barX}" y="${barY}" width="${BAR_WIDTH}" height="${barH}" fill="url(#adversarial-delta-scale)" stroke="${SUBTLE}" stroke-width="0.5"/>`,
    ...ticks.map(
      ([ty, text]) =>
        `<line x1="${barX + BAR_WIDTH}" y1="${ty}" x2="${barX + BAR_WIDTH + 3}" y2="${ty}" stroke="${SUBTLE}" stroke-width="0.75"/>` +
        `<text x="${barX + BAR_WIDTH + 5}" y="${ty + tickSize * 0.35}" font-size="${tickSize}" fill="${SUBTLE}">${escapeXml(text)}</text>`,
    ),
  );
  const width = Math.ceil(barX + BAR_WIDTH + 5 + Math.max(...ticks.map(([, t]) => textWidth(t, tickSize))) + MARGIN);
  let height = top + gridHeight;
  const caption = adversarialImagesCaption(examples, limit);
  const lineHeight = tickSize + 3;
  const lines = wrapCaption(caption, width - 2 * MARGIN, tickSize);
  lines.forEach((line, i) => parts.push(`<text x="${MARGIN}" y="${height + 6 + tickSize + i * lineHeight}" font-size="${tickSize}" fill="${SUBTLE}">${escapeXml(line)}</text>`));
  height = Math.ceil(height + 6 + lines.length * lineHeight + MARGIN);
  return { svg: svgDocument(width, height, parts), width, height, limit, pixelScale };
}

/** The figure's caption: the attack, the scale, and what each model's attack achieved on these samples. */
export function adversarialImagesCaption(examples: AdversarialExamples, limit: number): string {
  const norm = examples.norm === 'l2' ? 'ℓ2' : 'ℓ∞';
  const scale = examples.picture?.channels === 3 ? `δ per channel as 0.5 + 0.5 · δ / L (0 is mid-grey), L = ${fmt(limit, 2)} = max |δ|` : `δ on one diverging scale centred on 0 (white) for every panel, saturating at ± L = ${fmt(limit, 2)} = max |δ|`;
  const fooled = examples.models.map((_, k) => fooledPhrase(examples, k)).join('; ');
  const cos = examples.models.length === 2 ? ` cos(δ after clean, δ final) per sample, median ${fmt(median(examples.indices.map((_, i) => cosine(rowOf(deltaOf(examples, examples.models[0]!), i, examples.inputDim), rowOf(deltaOf(examples, examples.models[1]!), i, examples.inputDim)))), 2)}.` : '';
  const [lo, hi] = inputRange(examples);
  const range = examples.dataRange ? `the data range [${fmt(lo, 3)}, ${fmt(hi, 3)}]` : `[${fmt(lo, 3)}, ${fmt(hi, 3)}], the range of the values shown (no data range: the attack was not clipped)`;
  return `${examples.attack} at ${norm} ε = ${fmt(examples.eps, 3)} on test samples ${examples.indices.join(', ')}, each model attacked white-box. Inputs in grey over ${range}; ${scale}. Predictions on x + δ in red where wrong. Misclassified by the attack: ${fooled}.${cos}`;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The run's `adversarial-images` figure; null when it has no adversarial pictures of images. */
export function adversarialImagesFigure(result: Pick<RunResult, 'adversarial'>): PictureFigure | null {
  const examples = result.adversarial;
  if (!examples?.picture || examples.indices.length === 0) return null;
  const doc = adversarialImagesDocument(examples);
  return {
    name: ADVERSARIAL_IMAGES_FIGURE,
    title: `Adversarial examples: the perturbation δ and x + δ per model (${examples.attack}, ε ${fmt(examples.eps, 3)})`,
    svg: doc.svg,
    size: { width: doc.width, height: doc.height },
  };
}
