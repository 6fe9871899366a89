/**
 * CIFAR-10's binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version":
 * data_batch_1.bin .. data_batch_5.bin, test_batch.bin). A batch is records and nothing else;
 * each record is 3073 bytes: the label (0..9), then the 32 x 32 image as three planes, 1024 red
 * bytes, 1024 green, 1024 blue, each plane row-major. The planes (CHW) are interleaved here into
 * channel-last pixels (HWC) scaled to [0, 1] by /255:
 *   images[((r * 32 + row) * 32 + col) * 3 + c] = record_r[1 + c * 1024 + row * 32 + col] / 255.
 */
import { FileFormatError } from '../fileFormatError.ts';
import { pixelOfByte, readDatasetBytes, type ImageSet } from './imageSet.ts';

/** The ten classes, in label order, as batches.meta.txt names them. */
export const cifar10ClassNames: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const side = 32;
const planeSize = side * side;
const imageSize = 3 * planeSize;
/** One label byte, then the image. */
const recordSize = 1 + imageSize;
/** CIFAR-100's records carry two label bytes (coarse, fine): named in the size error, since the two are easily mixed up. */
const cifar100RecordSize = 2 + imageSize;

/** The number of records in a batch, after checking its size and every label. */
function checkBatch(bytes: Uint8Array, name: string): number {
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    const over = bytes.length % recordSize;
    const whole = Math.floor(bytes.length / recordSize);
    const found = bytes.length === 0 ? 'an empty file' : `${bytes.length} bytes (${whole} record${whole === 1 ? '' : 's'} and ${over} bytes over)`;
    const hint = bytes.length > 0 && bytes.length % cifar100RecordSize === 0 ? `; it is a multiple of ${cifar100RecordSize}, the record size of CIFAR-100, which this does not read` : '';
    throw new FileFormatError(name, `expected a positive multiple of ${recordSize} bytes (CIFAR-10 records: 1 label byte and ${imageSize} pixel bytes), found ${found}${hint}`);
  }
  const n = bytes.length / recordSize;
  for (let r = 0; r < n; r++) {
    const label = bytes[r * recordSize]!;
    if (label >= cifar10ClassNames.length) throw new FileFormatError(name, `record ${r} has label ${label}, expected a class index below 10 (0..9)`);
  }
  return n;
}

/** Convert a checked batch's records into `images` and `labels`, starting at image `first`. */
function convertBatch(bytes: Uint8Array, images: Float32Array, labels: Uint8Array, first: number): void {
  const n = bytes.length / recordSize;
  for (let r = 0; r < n; r++) {
    const record = r * recordSize;
    labels[first + r] = bytes[record]!;
    const out = (first + r) * imageSize;
    for (let c = 0; c < 3; c++) {
      const plane = record + 1 + c * planeSize;
      for (let p = 0; p < planeSize; p++) images[out + 3 * p + c] = pixelOfByte[bytes[plane + p]!]!;
    }
  }
}

/** One batch's bytes as channel-last images in [0, 1] and their labels. `name` is the file, for messages. */
export function parseCifar10(bytes: Uint8Array, name: string): { images: Float32Array; labels: Uint8Array; n: number } {
  const n = checkBatch(bytes, name);
  const images = new Float32Array(n * imageSize);
  const labels = new Uint8Array(n);
  convertBatch(bytes, images, labels, 0);
  return { images, labels, n };
}

/**
 * Batches read from `paths` and concatenated in that order (the five training batches make the
 * 50,000-image training set, test_batch.bin the 10,000-image test set). Every file is read and
 * checked before the (large: 600 MB for the training set) output is allocated once.
 */
export function loadCifar10(paths: readonly string[]): ImageSet {
  if (paths.length === 0) throw new RangeError('loadCifar10: expected at least one batch file, got none');
  const batches = paths.map((path) => {
    const bytes = readDatasetBytes(path);
    return { bytes, n: checkBatch(bytes, path) };
  });
  const n = batches.reduce((sum, batch) => sum + batch.n, 0);
  const images = new Float32Array(n * imageSize);
  const labels = new Uint8Array(n);
  let first = 0;
  for (const batch of batches) {
    convertBatch(batch.bytes, images, labels, first);
    first += batch.n;
  }
  return { images, labels, n, height: side, width: side, channels: 3, classNames: cifar10ClassNames, source: paths.join(', ') };
}
