/**
 * Hidden units as pictures, pixel by pixel: the diverging scale's ends and centre land where the
 * weights say, tiles sit at their grid cells with the gaps between them, w − w0 is drawn when
 * asked, RGB filters map to 0.5 + 0.5 w / L, and the SVG embeds exactly these pixels (decoded
 * back from its data URI) and draws them without smoothing through resvg, the PNG export path.
 */
import { Resvg } from '@resvg/resvg-js';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { fontFiles } from '../../main/lab/export/fonts.ts';
import { NEURON_GAP_COLOR, divergingRgb, neuronGridDocument, neuronGridHit, neuronGridLimit, neuronGridPixels, neuronGridSvg } from '../../shared/charts/neuronGrid.ts';
import { DIVERGING } from '../../shared/charts/palette.ts';
import type { NeuronImages } from '../../shared/events.ts';

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const NEGATIVE = rgb(DIVERGING[0]!);
const NEUTRAL = rgb(DIVERGING[(DIVERGING.length - 1) / 2]!);
const POSITIVE = rgb(DIVERGING[DIVERGING.length - 1]!);
const GAP = rgb(NEURON_GAP_COLOR);

function pixel(p: { width: number; rgba: Uint8ClampedArray }, x: number, y: number): number[] {
  const at = 4 * (y * p.width + x);
  return Array.from(p.rgba.subarray(at, at + 3));
}

/** Grey units of h x w, unit k's values from f(k, y, x). */
function grey(units: number, h: number, w: number, f: (k: number, y: number, x: number) => number): NeuronImages {
  const values: number[] = [];
  for (let k = 0; k < units; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values.push(f(k, y, x));
  return { units: Array.from({ length: units }, (_, k) => 10 + k), height: h, width: w, channels: 1, values };
}

describe('neuronGridPixels', () => {
  it('puts the scale’s ends at +L and −L and its white centre at 0, framed by the gap', () => {
    const L = 0.5;
    // One 3 x 3 unit: +L at (row 0, col 1), −L at (row 2, col 0), 0 elsewhere.
    const images = grey(1, 3, 3, (_, y, x) => (y === 0 && x === 1 ? L : y === 2 && x === 0 ? -L : 0));
    const p = neuronGridPixels(images, { limit: L });
    expect([p.width, p.height]).toEqual([5, 5]);
    expect(p.limit).toBe(L);
    expect(pixel(p, 1 + 1, 1 + 0)).toEqual(POSITIVE);
    expect(pixel(p, 1 + 0, 1 + 2)).toEqual(NEGATIVE);
    for (const [x, y] of [[0, 0], [2, 1], [1, 1], [2, 2]] as const) expect(pixel(p, 1 + x, 1 + y)).toEqual(NEUTRAL);
    for (let i = 0; i < 5; i++) {
      for (const [x, y] of [[i, 0], [i, 4], [0, i], [4, i]] as const) expect(pixel(p, x, y)).toEqual(GAP);
    }
    expect(GAP).not.toEqual(NEUTRAL);
    // Opaque everywhere.
    for (let i = 3; i < p.rgba.length; i += 4) expect(p.rgba[i]).toBe(255);
  });

  it('saturates beyond ±L and is centred on 0 (w and −w mirror the scale)', () => {
    const images = grey(1, 1, 4, (_, __, x) => [2, -3, 0.25, -0.25][x]!);
    const p = neuronGridPixels(images, { limit: 1, gap: 0 });
    expect(pixel(p, 0, 0)).toEqual(POSITIVE);
    expect(pixel(p, 1, 0)).toEqual(NEGATIVE);
    expect(pixel(p, 2, 0)).toEqual(divergingRgb(0.25, 1));
    // The nine stops span [−L, L]: a quarter of L is one stop up from the centre, DIVERGING[5].
    expect(pixel(p, 2, 0)).toEqual(rgb(DIVERGING[5]!));
    expect(pixel(p, 3, 0)).toEqual(rgb(DIVERGING[3]!));
  });

  it('defaults the limit to max |value|', () => {
    const images = grey(2, 1, 2, (k, _, x) => [[0.2, -0.5], [0.1, 0.3]][k]![x]!);
    const p = neuronGridPixels(images);
    expect(p.limit).toBe(0.5);
    expect(pixel(p, 2, 1)).toEqual(NEGATIVE); // unit 0, x = 1
    expect(neuronGridPixels(grey(1, 2, 2, () => 0)).limit).toBe(1); // all zeros: any scale
  });

  it('places unit k at row ⌊k / columns⌋, column k mod columns, scaled, with gaps and empty cells grey', () => {
    const L = 1;
    // Five 2 x 2 units, unit k uniform at a value that identifies it.
    const level = (k: number) => -1 + (2 * k) / 4; // −1, −0.5, 0, 0.5, 1
    const images = grey(5, 2, 2, (k) => level(k));
    const p = neuronGridPixels(images, { columns: 3, limit: L, gap: 1, scale: 2 });
    expect([p.columns, p.rows]).toEqual([3, 2]);
    expect(p.tile).toEqual({ width: 4, height: 4 });
    expect([p.width, p.height]).toEqual([3 * 4 + 4, 2 * 4 + 3]);
    for (let k = 0; k < 5; k++) {
      const x0 = 1 + (k % 3) * 5;
      const y0 = 1 + Math.floor(k / 3) * 5;
      const expected = divergingRgb(level(k), L);
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) expect(pixel(p, x0 + dx, y0 + dy), `unit ${k}`).toEqual([...expected]);
      expect(pixel(p, x0 - 1, y0)).toEqual(GAP);
      expect(pixel(p, x0 + 4, y0 + 3)).toEqual(GAP);
    }
    // The sixth cell (row 1, column 2) is empty.
    for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) expect(pixel(p, 11 + dx, 6 + dy)).toEqual(GAP);
    // And back: pixel → unit and weight.
    expect(neuronGridHit(p, 1 + 5 + 3, 1 + 5 + 2)).toEqual({ unit: 4, row: 1, column: 1 });
    expect(neuronGridHit(p, 0, 3)).toBeNull(); // the frame
    expect(neuronGridHit(p, 5, 3)).toBeNull(); // between tiles
    expect(neuronGridHit(p, 12, 7)).toBeNull(); // the empty cell
  });

  it('draws w − w0 when asked, and refuses a w0 of other units or shape', () => {
    const w = grey(1, 1, 3, (_, __, x) => [0.5, 0.2, -0.1][x]!);
    const w0 = grey(1, 1, 3, (_, __, x) => [0.5, -0.3, -0.1][x]!);
    const p = neuronGridPixels(w, { subtract: w0, gap: 0 });
    expect(p.limit).toBeCloseTo(0.5, 12); // max |w − w0| = |0.2 − (−0.3)|
    expect(pixel(p, 0, 0)).toEqual(NEUTRAL);
    expect(pixel(p, 1, 0)).toEqual(POSITIVE);
    expect(pixel(p, 2, 0)).toEqual(NEUTRAL);
    expect(() => neuronGridPixels(w, { subtract: { ...w0, units: [99] } })).toThrow(/other units or shape/);
    expect(() => neuronGridPixels(w, { subtract: grey(1, 3, 1, () => 0) })).toThrow(/other units or shape/);
    expect(() => neuronGridPixels({ ...w, values: [1, 2] })).toThrow(/need 3 values, got 2/);
    expect(() => neuronGridPixels({ ...w, channels: 2 })).toThrow(/1 channel\) or RGB/);
  });

  it('maps RGB filters to 0.5 + 0.5 w / L per channel, clipped', () => {
    const images: NeuronImages = { units: [3], height: 1, width: 2, channels: 3, values: [1, -1, 0, 0.5, -0.5, 4] };
    const p = neuronGridPixels(images, { limit: 1, gap: 0 });
    expect(pixel(p, 0, 0)).toEqual([255, 0, 128]);
    expect(pixel(p, 1, 0)).toEqual([191, 64, 255]);
    expect(neuronGridPixels(images).limit).toBe(4);
  });
});

describe('neuronGridSvg', () => {
  const clean = grey(6, 4, 4, (k, y, x) => Math.sin(k + 3 * y + x) * 0.3);
  const robust = grey(6, 4, 4, (k, y, x) => (x === k % 4 ? 0.6 : 0) - (y === 0 ? 0.1 : 0));

  function embedded(svg: string): { width: number; height: number; data: Uint8Array; channels: number }[] {
    return [...svg.matchAll(/href="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => {
      const png = decode(Buffer.from(m[1]!, 'base64'));
      return { width: png.width, height: png.height, data: png.data as Uint8Array, channels: png.channels };
    });
  }

  it('is a standalone SVG: the titles, a pixelated PNG per panel, the colour bar and the caption', () => {
    const svg = neuronGridSvg(
      [
        { title: 'after clean training (epoch 8)', images: clean },
        { title: 'final <robust> & co', images: robust },
      ],
      { caption: 'One scale for both panels.' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('after clean training (epoch 8)');
    expect(svg).toContain('final &lt;robust&gt; &amp; co');
    expect(svg.match(/<image /g)).toHaveLength(2);
    expect(svg).toContain('image-rendering:pixelated');
    expect(svg).toContain("font-family=\"&apos;Source Sans 3&apos;");
    expect(svg).toContain('One scale for both panels.');
    const limit = neuronGridLimit([{ images: clean }, { images: robust }]);
    expect(limit).toBe(0.6);
    for (const label of ['0.6', '0', '−0.6']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('<linearGradient');
    // Well-formed: resvg parses it (it refuses malformed XML).
    expect(() => new Resvg(svg)).not.toThrow();
  });

  it('embeds exactly the pixels of neuronGridPixels, at one shared limit', () => {
    const doc = neuronGridDocument([
      { title: 'clean', images: clean },
      { title: 'robust', images: robust },
    ]);
    const pngs = embedded(doc.svg);
    expect(pngs).toHaveLength(2);
    [clean, robust].forEach((images, i) => {
      // 4 x 4 tiles are replicated to 12 x 12 in the PNG, so the gap stays thin beside them.
      expect(doc.pixelScale).toBe(3);
      const p = neuronGridPixels(images, { limit: doc.limit, scale: doc.pixelScale });
      const png = pngs[i]!;
      expect([png.width, png.height, png.channels]).toEqual([p.width, p.height, 3]);
      const rgbOnly = Array.from(p.rgba).filter((_, j) => j % 4 !== 3);
      expect(Array.from(png.data)).toEqual(rgbOnly);
    });
  });

  it('scales to a quantile of |w| on request, and then marks the bar’s ends as saturated', () => {
    const images = grey(1, 10, 10, (_, y, x) => (y === 0 && x === 0 ? 10 : ((y * 10 + x) % 7) / 10 - 0.3));
    expect(neuronGridLimit([{ images }])).toBe(10);
    const q = neuronGridLimit([{ images }], 0.95);
    expect(q).toBeCloseTo(0.3, 12);
    const saturated = neuronGridSvg([{ title: 'one outlier', images }], { limit: q });
    expect(saturated).toContain('>≥ 0.3</text>');
    expect(saturated).toContain('>≤ −0.3</text>');
    expect(neuronGridSvg([{ title: 'all in range', images }])).toContain('>10</text>');
  });

  it('leaves the colour bar out for RGB filters', () => {
    const filters: NeuronImages = { units: [0, 1], height: 2, width: 2, channels: 3, values: Array.from({ length: 24 }, (_, i) => Math.cos(i)) };
    const svg = neuronGridSvg([{ title: 'filters', images: filters }]);
    expect(svg).not.toContain('<linearGradient');
    expect(embedded(svg)).toHaveLength(1);
  });

  it('is drawn by resvg (the PNG export) without smoothing: each weight a block of its exact colour', () => {
    const images = grey(4, 6, 6, (k, y, x) => ((x + y + k) % 2 === 0 ? 0.5 : -0.5));
    const doc = neuronGridDocument([{ title: 'checkerboard', images }], { scale: 3 });
    expect(doc.pixelScale).toBe(2);
    const grid = neuronGridPixels(images, { limit: doc.limit, scale: doc.pixelScale });
    const zoom = 2;
    const fonts = fontFiles();
    const png = decode(new Resvg(doc.svg, { fitTo: { mode: 'zoom', value: zoom }, font: { fontFiles: [...fonts.all], loadSystemFonts: false } }).render().asPng());
    expect(png.width).toBe(doc.width * zoom);
    // Find the image's top-left corner: the <image> element's x and y.
    const at = /<image x="([\d.]+)" y="([\d.]+)"/.exec(doc.svg)!;
    const [ix, iy] = [Number(at[1]), Number(at[2])];
    const per = 3 * zoom; // device pixels per image pixel
    for (const [gx, gy] of [[1, 1], [2, 1], [3, 4], [8, 9], [0, 0], [7, 7]] as const) {
      const expected = pixel(grid, gx, gy);
      // Every device pixel of the block, edges included: nearest-neighbour, no blending.
      for (const [dx, dy] of [[0, 0], [per - 1, 0], [0, per - 1], [per - 1, per - 1], [per >> 1, per >> 1]] as const) {
        const x = Math.round(ix * zoom) + gx * per + dx;
        const y = Math.round(iy * zoom) + gy * per + dy;
        const i = (y * png.width + x) * png.channels;
        expect(Array.from(png.data.subarray(i, i + 3)), `image pixel (${gx}, ${gy}) + (${dx}, ${dy})`).toEqual(expected);
      }
    }
  });
});
