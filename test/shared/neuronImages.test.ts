/**
 * A run's hidden units as images, on a fabricated image run: the figure shows the end of the
 * clean phase beside the final snapshot at one scale, the roughness chart splits at the phase
 * boundary, and the figure set of an image run has these instead of the dictionary figures.
 */
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import {
  beforeAfterSnapshots,
  endOfCleanSnapshot,
  figureSet,
  initSnapshot,
  neuronGridLimit,
  NEURON_LIMIT_QUANTILE,
  neuronGridPixels,
  neuronImageSnapshots,
  neuronImagesFigure,
  pictureFigures,
  roughnessOverTraining,
  CLEAN,
  ROBUST,
  themes,
} from '../../shared/charts/index.ts';
import { textWidth } from '../../shared/charts/common.ts';
import type { InstrumentsEvent } from '../../shared/events.ts';
import { applyRunEvent, emptyRunData, runDataFromResult } from '../../renderer/viewLogic/runFromEvents.ts';
import { imageRun, roughnessOf } from '../fixtures/imageRun.ts';

const run = imageRun({ units: 16, cleanEpochs: 4, adversarialEpochs: 3, imagesEvery: 3 });

describe('neuron image snapshots', () => {
  it('finds init, the end of the clean phase and the final snapshot', () => {
    const snapshots = neuronImageSnapshots(run.result.instruments);
    // Every 3 epochs, and at each phase end: 0, 3, 4 (clean ends), 6, 7 (final).
    expect(snapshots.map((s) => s.globalEpoch)).toEqual([0, 3, 4, 6, 7]);
    expect(initSnapshot(snapshots)?.globalEpoch).toBe(0);
    expect(endOfCleanSnapshot(snapshots)?.globalEpoch).toBe(4);
    const pair = beforeAfterSnapshots(snapshots)!;
    expect([pair.before?.globalEpoch, pair.after.globalEpoch]).toEqual([4, 7]);
    expect(pair.after.phase).toBe('adversarial');
  });

  it('falls back to init vs final without a clean phase, and to one panel with one snapshot', () => {
    const adversarialOnly = neuronImageSnapshots(run.result.instruments).map((s) => (s.phase === 'clean' ? { ...s, phase: 'adversarial' as const } : s));
    const pair = beforeAfterSnapshots(adversarialOnly)!;
    expect([pair.before?.globalEpoch, pair.after.globalEpoch]).toEqual([0, 7]);
    expect(beforeAfterSnapshots(adversarialOnly.slice(0, 1))!.before).toBeNull();
    expect(beforeAfterSnapshots([])).toBeNull();
  });
});

/** The caption's lines: the figure's last texts, each [match, x, font size, text]. */
function captionLines(svg: string): RegExpMatchArray[] {
  const texts = [...svg.matchAll(/<text x="(\d+)" y="[\d.]+" font-size="(\d+)" fill="[^"]+">([^<]+)<\/text>/g)];
  const first = texts.findIndex((m) => /^(First-layer|The learned part)/.test(m[3]!));
  return texts.slice(first);
}

describe('the neuron-images figure', () => {
  it('puts after-clean-training and final side by side at one limit, titled with the phase in words, in the foreground (a phase has no hue)', () => {
    const figure = neuronImagesFigure(run.result)!;
    expect(figure.name).toBe('neuron-images');
    expect(figure.svg).toMatch(new RegExp(`fill="${themes.light.text}">after clean training \\(epoch 4\\)</text>`));
    expect(figure.svg).toMatch(new RegExp(`fill="${themes.light.text}">after adversarial training \\(epoch 7\\)</text>`));
    expect(figure.svg).not.toContain(CLEAN);
    expect(figure.svg).not.toContain(ROBUST);
    expect(figure.svg).toContain('16 hidden units as 28 × 28 images');
    expect(figure.size.width).toBeGreaterThan(300);
    const snapshots = neuronImageSnapshots(run.result.instruments);
    const clean = snapshots.find((s) => s.globalEpoch === 4)!.images;
    const final = snapshots.find((s) => s.globalEpoch === 7)!.images;
    const limit = neuronGridLimit([{ images: clean }, { images: final }], NEURON_LIMIT_QUANTILE);
    expect(limit).toBeLessThan(neuronGridLimit([{ images: clean }, { images: final }]));
    expect(figure.svg.includes(`>≥ ${Number(limit.toPrecision(2))}</text>`)).toBe(true);
    expect(captionLines(figure.svg).map((m) => m[3]).join(' ')).toContain('the 99.5th percentile of |w|');
    const pngs = [...figure.svg.matchAll(/base64,([A-Za-z0-9+/=]+)"/g)].map((m) => decode(Buffer.from(m[1]!, 'base64')));
    expect(pngs).toHaveLength(2);
    [clean, final].forEach((images, i) => {
      const expected = neuronGridPixels(images, { limit });
      expect(Array.from(pngs[i]!.data)).toEqual(Array.from(expected.rgba).filter((_, j) => j % 4 !== 3));
    });
  });

  it('draws w − w0 with `learned`', () => {
    const learned = neuronImagesFigure(run.result, { learned: true })!;
    expect(learned.svg).toContain('w − w₀');
    const snapshots = neuronImageSnapshots(run.result.instruments);
    const w0 = initSnapshot(snapshots)!.images;
    const final = snapshots[snapshots.length - 1]!.images;
    const clean = endOfCleanSnapshot(snapshots)!.images;
    const limit = neuronGridLimit([{ images: clean, subtract: w0 }, { images: final, subtract: w0 }], NEURON_LIMIT_QUANTILE);
    const png = decode(Buffer.from([...learned.svg.matchAll(/base64,([A-Za-z0-9+/=]+)"/g)][1]![1]!, 'base64'));
    const expected = neuronGridPixels(final, { limit, subtract: w0 });
    expect(Array.from(png.data)).toEqual(Array.from(expected.rgba).filter((_, j) => j % 4 !== 3));
  });

  it('wraps its caption inside the figure in a fallback face too (an <img> cannot reach Source Sans 3)', () => {
    // One panel of one snapshot, as a weights file's evaluation shows it: the narrowest figure.
    const figure = neuronImagesFigure({ instruments: run.result.instruments.slice(0, 1) })!;
    const caption = captionLines(figure.svg);
    expect(caption.map((m) => m[3]).join(' ')).toBe(
      'First-layer weights of 16 hidden units as 28 × 28 images. One diverging scale centred on 0 (white), saturating at ± ' +
        `${/saturating at ± ([\d.]+)/.exec(figure.svg)![1]}, the 99.5th percentile of |w|.`,
    );
    // DejaVu Sans, Linux's sans-serif, draws this text 1.24 times as wide as Source Sans 3
    // (measured with fontkit on DejaVuSans.ttf); each line must end inside the right margin.
    for (const [, x, size, line] of caption) expect(Number(x) + 1.24 * textWidth(line!.replace(/&[a-z]+;/g, '&'), Number(size))).toBeLessThanOrEqual(figure.size.width - Number(x));
  });

  it('is absent from runs without neuron images', () => {
    const sparse = { ...run.result, instruments: run.result.instruments.map((s): InstrumentsEvent => ({ ...s, neuronImages: null })) };
    expect(neuronImagesFigure(sparse)).toBeNull();
    expect(pictureFigures(sparse)).toEqual([]);
    expect(pictureFigures(run.result).map((f) => f.name)).toEqual(['neuron-images']);
  });
});

describe('roughness over training', () => {
  it('draws the median and quartiles in one colour, the adversarial phase shaded from the boundary', () => {
    const option = roughnessOverTraining(run.result, { static: true });
    const series = option.series as { id?: string; data?: unknown[]; color?: string; markLine?: { data: { xAxis: number }[] }; markArea?: { data: unknown } }[];
    const median = series.find((s) => s.id === 'roughness-median')!;
    expect(median.color).toBe(themes.light.text);
    expect(median.data).toHaveLength(8); // epochs 0..7
    expect(series.find((s) => s.markLine)?.markLine?.data).toEqual([{ xAxis: 4 }]);
    expect(series.find((s) => s.id === 'adversarial-phase-0')?.markArea?.data).toEqual([[{ xAxis: 4 }, { xAxis: 7 }]]);
    expect(series.some((s) => s.id === 'roughness-quartiles-width')).toBe(true);
    // The fixture's story: noise is rough, strokes are smooth.
    const medianAt = (e: number) => run.result.instruments[e]!.roughness!.summary.median;
    expect(medianAt(0)).toBeGreaterThan(medianAt(4));
    expect(medianAt(4)).toBeGreaterThan(medianAt(7));
  });

  it('the fixture’s roughness is total variation over √pixels ‖w‖', () => {
    const flat = new Float64Array(28 * 28).fill(1);
    expect(roughnessOf(flat)).toBe(0);
    const stripe = Float64Array.from({ length: 28 * 28 }, (_, p) => (p % 28) % 2);
    // 27 horizontal jumps of 1 per row, 28 rows; ||w|| = sqrt(14 * 28).
    expect(roughnessOf(stripe)).toBeCloseTo((27 * 28) / (28 * Math.sqrt(14 * 28)), 12);
  });
});

describe('the figure set of an image run', () => {
  it('has accuracy, roughness and robust curves, and none of the dictionary figures', () => {
    const names = figureSet(run.result).map((f) => f.name);
    expect(names).toEqual(['accuracy-over-training', 'neuron-roughness', 'robust-accuracy-final', 'robust-accuracy-comparison']);
  });

  it('leaves the NaN mixture-direction accuracy out of the accuracy chart', () => {
    const accuracy = figureSet(run.result).find((f) => f.name === 'accuracy-over-training')!.option;
    const ids = (accuracy.series as { id?: string }[]).map((s) => s.id);
    expect(ids).toContain('clean-accuracy');
    expect(ids).not.toContain('mixture-direction-accuracy');
    expect(JSON.stringify(accuracy)).not.toMatch(/mixture direction/);
  });
});

describe('a live image run in the view', () => {
  it('moves the neuron-images revision only when a snapshot with images arrives (the panel redraws on it)', () => {
    const data = emptyRunData();
    const seen: number[] = [];
    for (const event of run.events) {
      const before = data.revisions.neuronImages;
      applyRunEvent(data, event);
      if (data.revisions.neuronImages !== before) seen.push((event as InstrumentsEvent).globalEpoch);
    }
    expect(seen).toEqual([0, 3, 4, 6, 7]);
    expect(data.revisions.instruments).toBe(8); // roughness: every epoch
    expect(runDataFromResult(run.result, run.config).revisions.neuronImages).toBe(5);
  });
});
