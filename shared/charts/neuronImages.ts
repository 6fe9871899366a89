/**
 * A run's hidden neurons as images, before and after purification: which snapshots to show, how
 * to name them, and the run's `neuron-images` figure (the one the CLI and the export route
 * write; the live panel picks its own snapshots with the same helpers).
 *
 * The figure puts the snapshot that ends the clean phase (w_clean) beside the final one
 * (w_robust), the same units in the same places and ONE colour scale for both, so a weight that
 * looks stronger is stronger: L = the 99.5th percentile of |w| over both panels (the largest half
 * percent saturate; with L = max |w| a few extreme weights would leave every picture pale). Clean training leaves dense, blotchy mixtures in the
 * neurons; adversarial fine-tuning strips them down to strokes. A run without a clean phase
 * (clean-only, or adversarial from scratch) shows its initialisation beside the final snapshot.
 * With `learned`, each panel shows w − w0 (w0: the initialisation snapshot): what training added.
 */
import type { InstrumentsEvent, NeuronImages } from '../events.ts';
import type { RunResult } from '../result.ts';
import { NEURON_LIMIT_QUANTILE, neuronGridDocument, neuronGridLimit, type NeuronGridPanel } from './neuronGrid.ts';
import { themes } from './palette.ts';

/** A snapshot that carries neuron images. */
export interface NeuronImageSnapshot {
  readonly globalEpoch: number;
  readonly phase: InstrumentsEvent['phase'];
  readonly images: NeuronImages;
}

/** A figure drawn as a finished SVG document (raster panels), not from an ECharts option. */
export interface PictureFigure {
  /** File-safe: [a-z0-9-] only. */
  readonly name: string;
  readonly title: string;
  readonly svg: string;
  /** The document's size in CSS px (96 per inch). */
  readonly size: { readonly width: number; readonly height: number };
}

export const NEURON_IMAGES_FIGURE = 'neuron-images';

/** Why a run has no neuron-images figure (for the error a request for it gets). */
export const NEURON_IMAGES_MISSING = 'only runs on image tasks (MNIST, CIFAR-10) record their hidden units as images';

/** The snapshots that carry neuron images, in epoch order. */
export function neuronImageSnapshots(instruments: readonly InstrumentsEvent[]): NeuronImageSnapshot[] {
  const out: NeuronImageSnapshot[] = [];
  for (const s of instruments) if (s.neuronImages) out.push({ globalEpoch: s.globalEpoch, phase: s.phase, images: s.neuronImages });
  return out.sort((a, b) => a.globalEpoch - b.globalEpoch);
}

/** The initialisation snapshot (w0), if recorded. */
export function initSnapshot(snapshots: readonly NeuronImageSnapshot[]): NeuronImageSnapshot | null {
  return snapshots.find((s) => s.phase === 'init' || s.globalEpoch === 0) ?? null;
}

/** The snapshot that ends the clean phase: the last one of phase 'clean'; null when there is none. */
export function endOfCleanSnapshot(snapshots: readonly NeuronImageSnapshot[]): NeuronImageSnapshot | null {
  let last: NeuronImageSnapshot | null = null;
  for (const s of snapshots) if (s.phase === 'clean') last = s;
  return last;
}

/** "initialisation (epoch 0)", "after clean training (epoch 30)", "after adversarial training (epoch 60)". */
export function snapshotLabel(s: Pick<NeuronImageSnapshot, 'phase' | 'globalEpoch'>): string {
  if (s.phase === 'init') return `initialisation (epoch ${s.globalEpoch})`;
  if (s.phase === 'clean') return `after clean training (epoch ${s.globalEpoch})`;
  return `after adversarial training (epoch ${s.globalEpoch})`;
}

/** The pair the figure shows: the end of the clean phase (else the first snapshot) and the last. */
export function beforeAfterSnapshots(snapshots: readonly NeuronImageSnapshot[]): { before: NeuronImageSnapshot | null; after: NeuronImageSnapshot } | null {
  const after = snapshots[snapshots.length - 1];
  if (!after) return null;
  const clean = endOfCleanSnapshot(snapshots);
  const before = clean && clean !== after ? clean : snapshots.length > 1 ? (snapshots[0] as NeuronImageSnapshot) : null;
  return { before, after };
}

/** "64 hidden units as 28 × 28 images", "32 first-layer filters, 5 × 5 RGB". */
export function unitsPhrase(images: NeuronImages): string {
  const n = images.units.length;
  return images.channels === 3
    ? `${n} first-layer filters (${images.height} × ${images.width} RGB)`
    : `${n} hidden units as ${images.height} × ${images.width} images`;
}

/** The caption of a neuron-images figure; `quantile` < 1 when L is that quantile of |w| (else the largest). */
export function neuronImagesCaption(images: NeuronImages, learned: boolean, limit: number, panels: number, quantile = 1): string {
  const what = learned ? 'The learned part w − w₀ (w₀: the initialisation) of the first-layer weights of' : 'First-layer weights of';
  const place = panels > 1 ? ', each unit in the same place in both panels' : '';
  const both = panels > 1 ? ' over both panels' : '';
  const which = quantile < 1 ? `, the ${Number((100 * quantile).toPrecision(3))}th percentile of |${learned ? 'w − w₀' : 'w'}|${both}` : `, the largest |${learned ? 'w − w₀' : 'w'}|${both}`;
  const scale =
    images.channels === 3
      ? `Colour = 0.5 + 0.5 · w / L per channel, clipped; L = ${Number(limit.toPrecision(2))}${which}.`
      : `One diverging scale centred on 0 (white)${panels > 1 ? ' for both panels' : ''}, saturating at ± ${Number(limit.toPrecision(2))}${which}.`;
  return `${what} ${unitsPhrase(images)}${place}. ${scale}`;
}

/**
 * The `neuron-images` figure of a run: after clean training | final, one shared scale; null when
 * the run recorded no neuron images (sparse-coding runs) or, with `learned`, no initialisation.
 */
export function neuronImagesFigure(result: Pick<RunResult, 'instruments'>, options: { learned?: boolean } = {}): PictureFigure | null {
  const snapshots = neuronImageSnapshots(result.instruments);
  const pair = beforeAfterSnapshots(snapshots);
  if (!pair) return null;
  const w0 = options.learned ? initSnapshot(snapshots) : null;
  if (options.learned && !w0) return null;
  const shown = [pair.before, pair.after].filter((s): s is NeuronImageSnapshot => s !== null);
  const panels: NeuronGridPanel[] = shown.map((s) => ({
    title: snapshotLabel(s),
    images: s.images,
    subtract: w0?.images,
    // The title names the phase in words, in the foreground: a phase has no hue (palette.ts).
    color: themes.light.text,
  }));
  const limit = neuronGridLimit(panels, NEURON_LIMIT_QUANTILE);
  const doc = neuronGridDocument(panels, {
    limit,
    caption: neuronImagesCaption(pair.after.images, w0 !== null, limit, panels.length, NEURON_LIMIT_QUANTILE),
    ...(pair.after.images.channels === 1 ? { barLabel: w0 ? 'w − w₀' : 'w' } : {}),
  });
  return {
    name: NEURON_IMAGES_FIGURE,
    title: shown.length > 1 ? 'Hidden neurons as images, after clean training vs after adversarial fine-tuning' : 'Hidden neurons as images',
    svg: doc.svg,
    size: { width: doc.width, height: doc.height },
  };
}
