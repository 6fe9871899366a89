/**
 * Instruments of an image model's first layer, read as pictures (the paper, "Real
 * images"): each unit's weights are an image (an MLP neuron on MNIST is 28 x 28; a CNN filter is
 * k x k x 3), and purification shows as those pictures turning from noisy to clean strokes.
 *
 * Roughness of a unit w (an H x W x C image):
 *
 *   R(w) = sum_{c} sum_{neighbours p ~ q} |w_p,c - w_q,c|  /  (sqrt(H W C) ||w||_2),
 *
 * its total variation (horizontal and vertical neighbour differences) made scale-free. A constant
 * image has R = 0; i.i.d. Gaussian noise has E|w_p - w_q| = 2 sigma / sqrt(pi) over about 2 H W C
 * pairs and ||w|| = sigma sqrt(H W C), so R -> 4 / sqrt(pi) ~ 2.26: the init of every unit sits
 * there, a smooth stroke far below it.
 */
import type { InstrumentsEvent, LayerChange, NeuronImages, Phase } from '../../../shared/events.ts';
import type { FirstLayer, WeightLayer } from '../models/imageModel.ts';
import { distribution } from './snapshot.ts';

/** R(w) of every unit (see the file comment). */
export function roughness(layer: FirstLayer): Float64Array {
  const { units, height, width, channels, values } = layer;
  const size = height * width * channels;
  const out = new Float64Array(units);
  for (let u = 0; u < units; u++) {
    const base = u * size;
    let tv = 0;
    let energy = 0;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        for (let ch = 0; ch < channels; ch++) {
          const at = base + (r * width + c) * channels + ch;
          const v = values[at]!;
          energy += v * v;
          if (c + 1 < width) tv += Math.abs(values[at + channels]! - v);
          if (r + 1 < height) tv += Math.abs(values[at + width * channels]! - v);
        }
      }
    }
    out[u] = energy > 0 ? tv / (Math.sqrt(size) * Math.sqrt(energy)) : 0;
  }
  return out;
}

/** ||w_u|| of every unit. */
export function unitNorms(layer: FirstLayer): Float64Array {
  const size = layer.height * layer.width * layer.channels;
  const out = new Float64Array(layer.units);
  for (let u = 0; u < layer.units; u++) {
    let s = 0;
    for (let p = 0; p < size; p++) s += layer.values[u * size + p]! ** 2;
    out[u] = Math.sqrt(s);
  }
  return out;
}

/** The first `count` units as pictures, values rounded to float32 and 5 significant digits (the event travels as JSON). */
export function neuronImages(layer: FirstLayer, count: number): NeuronImages {
  const shown = Math.min(count, layer.units);
  const size = layer.height * layer.width * layer.channels;
  const values = Array.from(layer.values.subarray(0, shown * size), (v) => Number(Math.fround(v).toPrecision(5)));
  return { units: Array.from({ length: shown }, (_, i) => i), height: layer.height, width: layer.width, channels: layer.channels, values };
}

/** ||W - W0||_F / ||W0||_F for each weight layer. */
export function layerChanges(now: readonly WeightLayer[], init: readonly WeightLayer[]): LayerChange[] {
  return now.map((l, i) => {
    const w0 = init[i]!.values;
    let diff = 0;
    let base = 0;
    for (let j = 0; j < l.values.length; j++) {
      diff += (l.values[j]! - w0[j]!) ** 2;
      base += w0[j]! ** 2;
    }
    return { layer: l.layer, relativeChange: base > 0 ? Math.sqrt(diff / base) : Math.sqrt(diff) };
  });
}

/** One instruments event of an image model. */
export function pictureSnapshot(
  layer: FirstLayer,
  layers: readonly LayerChange[],
  options: { shownUnits: number; withImages: boolean; phase: Phase | 'init'; epoch: number; globalEpoch: number },
): InstrumentsEvent {
  return {
    type: 'instruments',
    phase: options.phase,
    epoch: options.epoch,
    globalEpoch: options.globalEpoch,
    mixtureRatio: null,
    participationRatio: null,
    coherence: null,
    coherentShare: null,
    weightNorm: distribution(unitNorms(layer)),
    coefficients: null,
    roughness: distribution(roughness(layer)),
    neuronImages: options.withImages ? neuronImages(layer, options.shownUnits) : null,
    layers,
  };
}
