/**
 * Headless figure export: the same builders as the UI, drawn to SVG (ECharts SSR), PNG (resvg,
 * shipped fonts only) and PDF (pdfkit + svg-to-pdfkit, font embedded), and file names that can
 * never leave the export directory.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { fontFiles, FONT_FAMILY } from '../../main/lab/export/fonts.ts';
import { exportFigure, paperSizes, renderPdf, renderPng, renderSvg, sanitizeName } from '../../main/lab/export/render.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { accuracyOverTraining, accuracyNames, BOUNDARY_LABEL, figureSet, type Figure } from '../../shared/charts/index.ts';
import { accuracyOverlay } from '../../shared/charts/runOverlay.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import { imageRun } from '../fixtures/imageRun.ts';

let result: RunResult;
let figures: Figure[];

beforeAll(async () => {
  const config = resolveExperiment({
    task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
    model: { kind: 'two-layer', width: 16 },
    train: { cleanEpochs: 3, adversarialEpochs: 2 },
    eval: { testSize: 200 },
  });
  result = await runInProcess(config, { backend: 'wasm' });
  figures = figureSet(result, { static: true });
});

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the IHDR chunk (the first chunk, right after the signature). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Decode an 8-bit RGBA, non-interlaced PNG (what resvg writes) to its pixels. */
function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const { width, height } = pngSize(png);
  expect(png[24]).toBe(8); // bit depth
  const colorType = png[25] as number;
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  expect(channels).toBeGreaterThan(0);
  expect(png[28]).toBe(0); // not interlaced
  const idat: Uint8Array[] = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? (cur[i - channels] as number) : 0;
      const b = prev[i] as number;
      const c = i >= channels ? (prev[i - channels] as number) : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = ((line[i] as number) + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 4; ch++) pixels[(y * width + x) * 4 + ch] = ch < channels ? (cur[x * channels + ch] as number) : 255;
    }
    prev = cur;
  }
  return { width, height, pixels };
}

/** Share of pixels that differ from white. */
function inkShare(pixels: Uint8Array): number {
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if ((pixels[i] as number) < 245 || (pixels[i + 1] as number) < 245 || (pixels[i + 2] as number) < 245) ink++;
  }
  return ink / (pixels.length / 4);
}

function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
}

describe('fonts', () => {
  it('finds the Source Sans 3 TTFs of the source-sans package', () => {
    const fonts = fontFiles();
    expect(FONT_FAMILY).toBe('Source Sans 3');
    expect(fonts.all.length).toBeGreaterThanOrEqual(4);
    for (const path of fonts.all) {
      expect(path).toMatch(/source-sans[\\/]TTF[\\/]SourceSans3-[A-Za-z]+\.ttf$/);
      expect(existsSync(path)).toBe(true);
    }
  });
});

describe('paper sizes', () => {
  it('are in CSS px at 96 dpi and in points at 72 dpi', () => {
    expect(paperSizes.column.px).toEqual({ width: 336, height: 249.6 });
    expect(paperSizes.column.pt).toEqual({ width: 252, height: 187.2 });
    expect(paperSizes.wide.px).toEqual({ width: 672, height: 288 });
    expect(paperSizes.wide.pt).toEqual({ width: 504, height: 216 });
  });
});

describe('renderSvg', () => {
  it('draws axis names and legend entries as text, in Source Sans 3', () => {
    const svg = renderSvg(accuracyOverTraining(result, { static: true }), 'column');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/width="336" height="249.6"/);
    const all = texts(svg);
    expect(all).toContain('epoch');
    expect(all).toContain('accuracy (fraction)');
    const names = accuracyNames(result);
    expect(all).toContain(names.clean);
    expect(all).toContain(names.robust);
    expect(all).toContain(names.mixture);
    expect(all).toContain('clean → adversarial');
    expect(svg).toContain("font-family:'Source Sans 3'");
    expect(svg).not.toMatch(/font-family:[^;"]*(sans-serif|Microsoft YaHei)/);
  });

  it('renders every figure of the set', () => {
    for (const f of figures) {
      const svg = renderSvg(f.option, f.size);
      expect(svg.startsWith('<svg'), f.name).toBe(true);
      expect(texts(svg).length, f.name).toBeGreaterThan(5);
    }
  });
});

/**
 * The phase-boundary label's x extent in a rendered SVG, and the plot's (the x axis line, the
 * longest horizontal line): the label's width measured as ECharts measured it, in the shipped font.
 */
function boundaryLabelExtent(svg: string): { label: [number, number]; plot: [number, number] } {
  const text = new RegExp(`<text[^>]*text-anchor="(start|middle|end)"[^>]*transform="translate\\(([\\d.-]+) [\\d.-]+\\)"[^>]*>${BOUNDARY_LABEL}</text>`).exec(svg);
  expect(text, 'the boundary label').not.toBeNull();
  const [, anchor, at] = text!;
  const size = Number(/font-size:(\d+(?:\.\d+)?)px/.exec(text![0])![1]);
  const width = new PDFDocument({ autoFirstPage: false }).registerFont('regular', fontFiles().regular).font('regular').fontSize(size).widthOfString(BOUNDARY_LABEL);
  const x = Number(at);
  const label: [number, number] = anchor === 'end' ? [x - width, x] : anchor === 'start' ? [x, x + width] : [x - width / 2, x + width / 2];
  const lines = [...svg.matchAll(/<path d="M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)"/g)].filter((m) => m[2] === m[4]).map((m) => [Number(m[1]), Number(m[3])].sort((a, b) => a - b) as [number, number]);
  const plot = lines.reduce((a, b) => (b[1] - b[0] > a[1] - a[0] ? b : a));
  return { label, plot };
}

describe('the phase-boundary label', () => {
  it('lies inside the plot for a boundary near either end of the epoch axis, in the run figures and the comparison', () => {
    const long = imageRun({ units: 4, cleanEpochs: 150, adversarialEpochs: 10, imagesEvery: 10 }).result;
    const short = imageRun({ units: 4, cleanEpochs: 4, adversarialEpochs: 156, imagesEvery: 10 }).result;
    const cases: [string, Parameters<typeof renderSvg>[0]][] = [];
    for (const [name, run] of [['150 of 160', long], ['4 of 160', short]] as const) {
      for (const f of figureSet(run, { static: true }).filter((f) => f.name === 'neuron-roughness' || f.name === 'accuracy-over-training')) cases.push([`${f.name}, ${name}`, f.option]);
      cases.push([`comparison, ${name}`, accuracyOverlay([{ name: 'run', metrics: run.metrics, instruments: run.instruments, evaluations: run.evaluations }], ['clean'], { static: true })]);
    }
    expect(cases.length).toBe(6);
    for (const [name, option] of cases) {
      const { label, plot } = boundaryLabelExtent(renderSvg(option, 'column'));
      expect(label[0], `${name}: the label starts inside the plot ${plot.join('..')}`).toBeGreaterThanOrEqual(plot[0]);
      expect(label[1], `${name}: the label ends inside the plot ${plot.join('..')}`).toBeLessThanOrEqual(plot[1]);
    }
  });
});

describe('renderPng', () => {
  it('writes a PNG of the figure size × scale that is not blank', () => {
    const svg = renderSvg(accuracyOverTraining(result, { static: true }), { width: 400, height: 300 });
    const png = renderPng(svg);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual({ width: 800, height: 600 }); // 2× by default
    const { pixels } = decodePng(png);
    expect(inkShare(pixels)).toBeGreaterThan(0.03);
    expect(pngSize(renderPng(svg, { scale: 1 }))).toEqual({ width: 400, height: 300 });
    // resvg's own pixels agree that there is a drawing
    expect(inkShare(new Resvg(svg).render().pixels)).toBeGreaterThan(0.02);
  });

  it('draws text with the shipped font and never with system fonts', () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="28" style="font-size:24px;font-family:'Source Sans 3';">Purified</text></svg>`;
    const { pixels } = decodePng(renderPng(svg, { scale: 1 }));
    expect(inkShare(pixels)).toBeGreaterThan(0.03);
    // A family nobody has still draws, in the default family (the shipped font): no system lookup.
    const other = svg.replace("'Source Sans 3'", 'NoSuchFont');
    expect(inkShare(decodePng(renderPng(other, { scale: 1 })).pixels)).toBeGreaterThan(0.03);
  });

  it('a paper-size figure is that many inches at 192 dpi', () => {
    const f = figures.find((x) => x.name === 'mixture-accumulation')!;
    const { width, height } = pngSize(renderPng(renderSvg(f.option, 'column')));
    expect(width).toBe(672);
    expect(Math.abs(height - 499.2)).toBeLessThanOrEqual(1);
  });
});

describe('renderPdf', () => {
  it('writes one page of the figure size with Source Sans 3 embedded', async () => {
    const svg = renderSvg(accuracyOverTraining(result, { static: true }), 'column');
    const pdf = await renderPdf(svg, 'column');
    const text = Buffer.from(pdf).toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.match(/\/Type \/Page\b(?!s)/g)).toHaveLength(1);
    expect(text).toMatch(/\/MediaBox \[0 0 252 187\.2\]/);
    expect(text).toMatch(/\/FontName \/[A-Z]{6}\+SourceSans3-Regular/);
    expect(text).toMatch(/\/FontFile2 /); // the TrueType program itself, not just its name
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
  });
});

describe('exportFigure', () => {
  it('writes <dir>/<name>.<ext> for each format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-export-'));
    const f = figures[0]!;
    const written = await exportFigure(f.option, dir, f.name, ['svg', 'png', 'pdf'], f.size);
    expect(written).toEqual(['svg', 'png', 'pdf'].map((ext) => join(dir, `${f.name}.${ext}`)));
    expect(readFileSync(written[0]!, 'utf8').startsWith('<svg')).toBe(true);
    expect([...readFileSync(written[1]!).subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(readFileSync(written[2]!, 'latin1').startsWith('%PDF-')).toBe(true);
  });

  it('sanitises names so nothing is written outside the directory', async () => {
    expect(sanitizeName('../../etc/passwd')).toBe('etc-passwd');
    expect(sanitizeName('..\\..\\windows\\system32')).toBe('windows-system32');
    expect(sanitizeName('/abs/path')).toBe('abs-path');
    expect(sanitizeName('.hidden')).toBe('hidden');
    expect(sanitizeName('...')).toBe('figure');
    expect(sanitizeName('')).toBe('figure');
    expect(sanitizeName('mixture ratio (ε = 0.3)')).toBe('mixture-ratio-0.3');
    expect(sanitizeName('accuracy-over-training')).toBe('accuracy-over-training');
    for (const name of ['../../etc/passwd', 'a/../../b', '..', '/etc/x', 'C:\\x', 'x\u0000y']) {
      const s = sanitizeName(name);
      expect(s).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
      expect(s).not.toContain('..');
    }

    const parent = mkdtempSync(join(tmpdir(), 'lab-export-'));
    const dir = join(parent, 'a', 'b');
    const written = await exportFigure(figures[0]!.option, dir, '../../etc/passwd', ['svg'], 'column');
    expect(written).toEqual([join(dir, 'etc-passwd.svg')]);
    expect(readdirSync(dir)).toEqual(['etc-passwd.svg']);
    expect(readdirSync(parent)).toEqual(['a']);
    expect(readdirSync(dirname(dir))).toEqual(['b']);
  });
});
