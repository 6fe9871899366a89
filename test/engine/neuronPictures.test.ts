/**
 * The picture instruments on constructed weights whose answers are known: the roughness of a
 * constant image (0), of a single step edge (one neighbour difference per row), of Gaussian noise
 * (4/sqrt(pi) ~ 2.26 as the image grows), per channel for RGB; per-layer relative change; the
 * shown units' pictures.
 */
import { describe, expect, it } from 'vitest';
import { layerChanges, neuronImages, roughness, unitNorms } from '../../main/engine/instruments/neuronPictures.ts';
import { RandomStream } from '../../main/engine/random.ts';

const layer = (units: number, height: number, width: number, channels: number, values: Float32Array) => ({ units, height, width, channels, values });

describe('roughness', () => {
  it('is 0 for a constant picture and scale-free', () => {
    const r = roughness(layer(2, 4, 5, 1, Float32Array.from({ length: 40 }, (_, i) => (i < 20 ? 0.7 : -3))));
    expect(Array.from(r)).toEqual([0, 0]);
  });

  it('counts one jump per row for a vertical edge: R = H |jump| / (sqrt(HW) ||w||)', () => {
    // 4 x 6 picture: left half 0, right half 1. Each row has one jump of 1; no vertical differences.
    const v = Float32Array.from({ length: 24 }, (_, i) => (i % 6 >= 3 ? 1 : 0));
    const expected = 4 / (Math.sqrt(24) * Math.sqrt(12));
    expect(roughness(layer(1, 4, 6, 1, v))[0]).toBeCloseTo(expected, 12);
    // Scaling the weights does not change it.
    expect(roughness(layer(1, 4, 6, 1, v.map((x) => -5 * x)))[0]).toBeCloseTo(expected, 12);
  });

  it('of i.i.d. Gaussian noise tends to 4/sqrt(pi)', () => {
    const rng = RandomStream.derive(0, 'roughness');
    const v = new Float32Array(200 * 200);
    rng.fillNormal(v);
    expect(roughness(layer(1, 200, 200, 1, v))[0]).toBeCloseTo(4 / Math.sqrt(Math.PI), 1);
  });

  it('compares neighbours within each channel of an RGB tile', () => {
    // 2 x 2 x 3: red constant, green constant, blue a checkerboard of +-1 (4 differences of 2).
    const v = new Float32Array(12);
    for (let p = 0; p < 4; p++) {
      v[p * 3] = 1;
      v[p * 3 + 1] = -1;
      v[p * 3 + 2] = p === 0 || p === 3 ? 1 : -1;
    }
    expect(roughness(layer(1, 2, 2, 3, v))[0]).toBeCloseTo(8 / (Math.sqrt(12) * Math.sqrt(12)), 12);
    expect(unitNorms(layer(1, 2, 2, 3, v))[0]).toBeCloseTo(Math.sqrt(12), 12);
  });
});

describe('the other picture instruments', () => {
  it('relative change per layer is ||W - W0|| / ||W0||', () => {
    const w0 = { layer: 'a', rows: 1, cols: 2, values: Float32Array.from([3, 4]) };
    const w = { layer: 'a', rows: 1, cols: 2, values: Float32Array.from([3, 4 + 2.5]) };
    expect(layerChanges([w], [w0])).toEqual([{ layer: 'a', relativeChange: 0.5 }]);
  });

  it('the shown pictures are the first units, as stored, in display order', () => {
    const values = Float32Array.from({ length: 3 * 4 }, (_, i) => i + 0.123456789);
    const images = neuronImages(layer(3, 2, 2, 1, values), 2);
    expect(images.units).toEqual([0, 1]);
    expect(images.values).toHaveLength(8);
    expect(images.values[5]).toBeCloseTo(5.1235, 4);
    expect(neuronImages(layer(3, 2, 2, 1, values), 10).units).toEqual([0, 1, 2]);
  });
});
