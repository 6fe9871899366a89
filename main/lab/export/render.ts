/**
 * Headless figure rendering with the same chart builders as the UI (shared/charts):
 *
 *   option ──renderSvg──▶ SVG (ECharts server-side rendering, text in Source Sans 3)
 *                          ├─renderPng──▶ PNG (resvg, the shipped TTFs only, 2× by default)
 *                          └─renderPdf──▶ PDF (pdfkit + svg-to-pdfkit, vector, font embedded)
 *
 * Sizes are CSS px at 96 dpi for SVG and PNG, and points (72 per inch) for the PDF, so a
 * `column` figure is 3.5 in wide everywhere and 12 px text prints at 9 pt. Exports never use
 * system fonts: a fresh machine has none, and a figure must look the same on every machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import PDFDocument from 'pdfkit';
import { paperInches, PX_PER_INCH, type PaperName } from '../../../shared/charts/common.ts';
import { FONT_FAMILY, fontFiles } from './fonts.ts';

/** A figure size in CSS px (96 per inch). */
export interface FigureSize {
  readonly width: number;
  readonly height: number;
}

export interface PaperSize {
  readonly inches: FigureSize;
  /** CSS px at 96 dpi: the SVG's size, and the PNG's at scale 1. */
  readonly px: FigureSize;
  /** PDF points at 72 per inch: the PDF page. */
  readonly pt: FigureSize;
}

const PT_PER_INCH = 72;

/** Rounded to 1/100 (2.6 in × 96 is 249.60000000000002 in floating point). */
const cents = (x: number) => Math.round(x * 100) / 100;

/** Paper sizes: column 3.5 × 2.6 in, columnTall 3.5 × 3.6 in, wide 7.0 × 3.0 in, wideTall 7.0 × 4.2 in, slide 10 × 5.625 in. */
export const paperSizes: Readonly<Record<PaperName, PaperSize>> = Object.fromEntries(
  Object.entries(paperInches).map(([name, inches]) => [
    name,
    {
      inches,
      px: { width: cents(inches.width * PX_PER_INCH), height: cents(inches.height * PX_PER_INCH) },
      pt: { width: cents(inches.width * PT_PER_INCH), height: cents(inches.height * PT_PER_INCH) },
    },
  ]),
) as Record<PaperName, PaperSize>;

/** A size given as a paper name or in CSS px. */
export type SizeSpec = PaperName | FigureSize;

/** The size in CSS px. */
export function sizePx(size: SizeSpec): FigureSize {
  if (typeof size === 'string') {
    const paper = paperSizes[size];
    if (!paper) throw new Error(`Unknown paper size "${size}": expected one of ${Object.keys(paperSizes).join(', ')}`);
    return paper.px;
  }
  if (!(size.width > 0) || !(size.height > 0) || !Number.isFinite(size.width) || !Number.isFinite(size.height)) {
    throw new Error(`A figure size needs a positive width and height in px, got ${size.width} x ${size.height}`);
  }
  return size;
}

/** The CSS font-family value the SVG carries (quoted: "3" alone is not a CSS identifier). */
const SVG_FONT = `'${FONT_FAMILY}'`;

/** A deep copy of the option with every fontFamily replaced by the shipped font. */
function withShippedFont(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withShippedFont);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = key === 'fontFamily' ? SVG_FONT : withShippedFont(v);
  return out;
}

// --- text measurement: ECharts lays text out with the real metrics of the font we ship -----------

let measureDoc: PDFKit.PDFDocument | null = null;

function installFontMetrics(): void {
  if (measureDoc) return;
  const fonts = fontFiles();
  const doc = new PDFDocument({ autoFirstPage: false });
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  measureDoc = doc;
  echarts.setPlatformAPI({
    measureText(text: string, font?: string) {
      const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);
      const bold = /\bbold(er)?\b|\b[6-9]00\b/.test(font ?? '');
      doc.font(bold ? 'bold' : 'regular').fontSize(size);
      return { width: doc.widthOfString(text ?? '') };
    },
  });
}

/**
 * The chart as an SVG document: ECharts server-side rendering at `size` (CSS px), no animation,
 * every text in Source Sans 3.
 */
export function renderSvg(option: EChartsOption, size: SizeSpec): string {
  const { width, height } = sizePx(size);
  installFontMetrics();
  const themed = withShippedFont(option) as EChartsOption;
  const textStyle = (themed.textStyle ?? {}) as Record<string, unknown>;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...themed, animation: false, textStyle: { ...textStyle, fontFamily: SVG_FONT } });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export interface PngOptions {
  /** Pixels per CSS px (default 2: 192 dpi, fit for print). */
  readonly scale?: number;
  /** Background (default white; the option's own background is drawn over it). */
  readonly background?: string;
}

/** The SVG as a PNG, drawn by resvg with the shipped fonts only (never system fonts). */
export function renderPng(svg: string, options: PngOptions = {}): Uint8Array {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`PNG scale must be a positive number, got ${scale}`);
  const fonts = fontFiles();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: options.background ?? '#FFFFFF',
    font: { fontFiles: [...fonts.all], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
  });
  return new Uint8Array(resvg.render().asPng());
}

type SvgToPdf = (
  doc: PDFKit.PDFDocument,
  svg: string,
  x: number,
  y: number,
  options: {
    width?: number;
    height?: number;
    preserveAspectRatio?: string;
    assumePt?: boolean;
    fontCallback?: (family: string, bold: boolean, italic: boolean, fontOptions: { fauxBold?: boolean; fauxItalic?: boolean }) => string;
    warningCallback?: (message: string) => void;
  },
) => void;

const requireCjs = createRequire(import.meta.url);

/**
 * The SVG as a one-page vector PDF whose page is the figure (size in CSS px → points, 72/96),
 * with Source Sans 3 embedded (every font family in the SVG maps to it).
 */
export async function renderPdf(svg: string, size: SizeSpec): Promise<Uint8Array> {
  const px = sizePx(size);
  const pt = { width: cents((px.width * PT_PER_INCH) / PX_PER_INCH), height: cents((px.height * PT_PER_INCH) / PX_PER_INCH) };
  const fonts = fontFiles();
  const svgToPdf = requireCjs('svg-to-pdfkit') as SvgToPdf;
  const doc = new PDFDocument({
    size: [pt.width, pt.height],
    margin: 0,
    autoFirstPage: true,
    info: { Title: 'Purification Lab figure', Creator: 'Purification Lab' },
  });
  const registered = {
    regular: 'SourceSans3-Regular',
    bold: 'SourceSans3-Bold',
    italic: 'SourceSans3-It',
    boldItalic: 'SourceSans3-BoldIt',
  };
  doc.registerFont(registered.regular, fonts.regular);
  doc.registerFont(registered.bold, fonts.bold);
  doc.registerFont(registered.italic, fonts.italic);
  doc.registerFont(registered.boldItalic, fonts.boldItalic);
  const chunks: Buffer[] = [];
  const done = new Promise<Uint8Array>((resolveDone, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolveDone(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
  });
  svgToPdf(doc, svg, 0, 0, {
    width: pt.width,
    height: pt.height,
    preserveAspectRatio: 'xMidYMid meet',
    fontCallback: (_family, bold, italic) =>
      bold && italic ? registered.boldItalic : bold ? registered.bold : italic ? registered.italic : registered.regular,
    // ECharts' SVG uses nothing svg-to-pdfkit lacks (checked on every figure); stay quiet.
    warningCallback: () => undefined,
  });
  doc.end();
  return done;
}

/**
 * A file-safe name: only [A-Za-z0-9._-] (anything else becomes '-'), no '..', no leading dots, at most
 * 120 characters, never empty. Path separators cannot survive, so a file never lands outside its
 * directory.
 */
export function sanitizeName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.\-]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 120)
    .replace(/[.-]+$/, '');
  return cleaned.length > 0 ? cleaned : 'figure';
}

export type ExportFormat = 'svg' | 'png' | 'pdf';

/**
 * Render the chart and write `<dir>/<name>.<ext>` for each format (the directory is created).
 * The name is sanitised first (see sanitizeName): an export never writes outside `dir`.
 * @returns the paths written, in the order of `formats`.
 */
export async function exportFigure(
  option: EChartsOption,
  dir: string,
  name: string,
  formats: readonly ExportFormat[],
  size: SizeSpec,
  png: PngOptions = {},
): Promise<string[]> {
  return exportSvgDocument(renderSvg(option, size), dir, name, formats, size, png);
}

/**
 * Write a finished SVG document (a picture figure, e.g. the hidden units as images) as
 * `<dir>/<name>.<ext>` for each format, exactly as exportFigure writes a chart's SVG.
 * @returns the paths written, in the order of `formats`.
 */
export async function exportSvgDocument(
  svg: string,
  dir: string,
  name: string,
  formats: readonly ExportFormat[],
  size: SizeSpec,
  png: PngOptions = {},
): Promise<string[]> {
  const base = sanitizeName(name);
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const written: string[] = [];
  for (const format of new Set(formats)) {
    const path = join(root, `${base}.${format}`);
    if (!path.startsWith(root + sep)) throw new Error(`refusing to write outside ${root}: ${path}`);
    let bytes: string | Uint8Array;
    if (format === 'svg') bytes = svg;
    else if (format === 'png') bytes = renderPng(svg, png);
    else if (format === 'pdf') bytes = await renderPdf(svg, size);
    else throw new Error(`Unknown export format "${String(format)}": expected svg, png or pdf`);
    writeFileSync(path, bytes);
    written.push(path);
  }
  return written;
}
