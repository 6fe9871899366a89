/**
 * The IDX format of the official MNIST files (http://yann.lecun.com/exdb/mnist/):
 *   a 4-byte big-endian magic number 0x0000TTDD: two zero bytes, the element type TT
 *     (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
 *     and the number of dimensions DD;
 *   DD sizes, each a 32-bit big-endian unsigned integer;
 *   the elements, row-major (last index fastest), nothing after them.
 * MNIST images are 0x00000803 [n, 28, 28], labels 0x00000801 [n]; only unsigned bytes are read,
 * since that is what MNIST (and its look-alikes, Fashion-MNIST, KMNIST) are. The files are
 * distributed gzipped: a file that starts with the gzip magic 1f 8b (which no IDX file can, its
 * first byte is 0) is gunzipped first, whatever its name, and its CRC-32 and length checked, since
 * inflating does not by itself notice flipped bits in stored pixels.
 */
import { gunzipSync } from 'fflate';
import { FileFormatError } from '../fileFormatError.ts';
import { pixelOfByte, readDatasetBytes, type ImageSet } from './imageSet.ts';

/** An IDX array: its sizes, outermost first, and its elements in row-major order. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/** What the caller needs an IDX file to be: how many dimensions, and what its values are called in messages. */
export interface IdxExpectation {
  readonly ndims: number;
  /** The plural noun for the outermost dimension: 'images', 'labels'. */
  readonly noun: string;
}

/** The images of an IDX images file, [n, height, width] unsigned bytes. */
export interface IdxImages {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly pixels: Uint8Array;
}

const unsignedByteType = 0x08;

const typeNames: Readonly<Record<number, string>> = {
  0x08: 'unsigned bytes',
  0x09: 'signed bytes',
  0x0b: '16-bit integers',
  0x0c: '32-bit integers',
  0x0d: '32-bit floats',
  0x0e: '64-bit floats',
};

const imagesExpected: IdxExpectation = { ndims: 3, noun: 'images' };
const labelsExpected: IdxExpectation = { ndims: 1, noun: 'labels' };

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function hex8(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

function dimensionsText(ndims: number): string {
  return `${ndims} dimension${ndims === 1 ? '' : 's'}`;
}

/** A magic number as it reads: "0x00000801 (unsigned bytes, 1 dimension)", or why it is no IDX magic at all. */
function magicText(magic: number): string {
  const type = (magic >>> 8) & 0xff;
  if (magic >>> 16 !== 0) return `${hex32(magic)} (not an IDX file: the first two bytes are not zero)`;
  return `${hex32(magic)} (${typeNames[type] ?? `unknown type ${hex8(type)}`}, ${dimensionsText(magic & 0xff)})`;
}

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum a gzip trailer holds. */
const crcTable: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The uncompressed bytes of a gzip file. The trailer's last 8 bytes are the CRC-32 and the length
 * (mod 2^32, little-endian) of the uncompressed data; both are checked, so a damaged file is an
 * error rather than wrong pixels. Deflate expands at most 1032-fold, so a trailer claiming more
 * is damage, refused before fflate allocates what it claims.
 */
function gunzipNamed(bytes: Uint8Array, name: string): Uint8Array {
  const damaged = (what: string) => new FileFormatError(name, `expected gzip-compressed IDX data, but ${what}: the file is truncated or corrupt`);
  if (bytes.length < 18) throw damaged(`the gzip stream is only ${bytes.length} bytes (a header and trailer alone take 18)`);
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const storedCrc = trailer.getUint32(0, true);
  const storedLength = trailer.getUint32(4, true);
  if (storedLength > 1032 * bytes.length) throw damaged(`its trailer claims ${storedLength} uncompressed bytes, more than deflate can make of ${bytes.length}`);
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes);
  } catch (error) {
    throw damaged(`gunzip failed (${(error as Error).message})`);
  }
  if (out.length % 2 ** 32 !== storedLength) throw damaged(`it inflates to ${out.length} bytes where its trailer says ${storedLength}`);
  const actualCrc = crc32(out);
  if (actualCrc !== storedCrc) throw damaged(`the CRC-32 of the inflated data is ${hex32(actualCrc)} where its trailer says ${hex32(storedCrc)}`);
  return out;
}

/**
 * Parse an IDX file's bytes (gzipped or plain). `name` is the file as the user knows it, for
 * messages. With `expected`, the magic number must be exactly that of an unsigned-byte array with
 * `expected.ndims` dimensions; without it, any unsigned-byte array with at least one dimension is read.
 */
export function parseIdx(bytes: Uint8Array, name: string, expected?: IdxExpectation): IdxArray {
  const gzipped = isGzip(bytes);
  const raw = gzipped ? gunzipNamed(bytes, name) : bytes;
  const found = (length: number) => `found ${length}${gzipped ? ' after gunzip' : ''}`;
  if (raw.length < 4) throw new FileFormatError(name, `expected at least the 4-byte IDX magic number, ${found(raw.length)} bytes`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >>> 8) & 0xff;
  const ndims = magic & 0xff;
  if (expected !== undefined) {
    const wanted = (unsignedByteType << 8) | expected.ndims;
    if (magic !== wanted)
      throw new FileFormatError(name, `expected the IDX magic number ${hex32(wanted)} (unsigned bytes, ${dimensionsText(expected.ndims)}: ${expected.noun}), found ${magicText(magic)}`);
  } else {
    if (magic >>> 16 !== 0) throw new FileFormatError(name, `expected an IDX magic number 0x0000TTDD (two zero bytes, a type byte, a dimension count), found ${magicText(magic)}`);
    if (type !== unsignedByteType)
      throw new FileFormatError(name, `expected the IDX type byte 0x08 (unsigned bytes), found ${hex8(type)} (${typeNames[type] ?? 'not an IDX type'}): only unsigned-byte files are read`);
    if (ndims === 0) throw new FileFormatError(name, `expected at least 1 dimension in the IDX magic number, found ${magicText(magic)}`);
  }
  const header = 4 + 4 * ndims;
  if (raw.length < header) throw new FileFormatError(name, `expected a ${header}-byte IDX header (the magic number and ${ndims} sizes), ${found(raw.length)} bytes`);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  // Each size is below 2^32, so with the 3 dimensions of images the product is exact (below 2^53)
  // for any file that could exist; a larger claimed product is refused as truncated anyway.
  const count = dims.reduce((a, b) => a * b, 1);
  const total = header + count;
  if (raw.length !== total) {
    const what = `expected ${total} bytes for ${dims.join(' x ')} ${expected?.noun ?? 'values'}, ${found(raw.length)}`;
    const why = raw.length < total ? 'the file is truncated' : `${raw.length - total} bytes follow the data`;
    throw new FileFormatError(name, `${what}: ${why}`);
  }
  // A plain Uint8Array view (not a Buffer, which readFileSync gives), sharing the file's memory.
  return { dims, data: new Uint8Array(raw.buffer, raw.byteOffset + header, count) };
}

/** The images of an IDX images file (magic 0x00000803), plain or gzipped. */
export function readIdxImages(path: string): IdxImages {
  const { dims, data } = parseIdx(readDatasetBytes(path), path, imagesExpected);
  const [n, height, width] = dims as [number, number, number];
  if (height === 0 || width === 0) throw new FileFormatError(path, `expected images of at least 1 x 1 pixels, found ${height} x ${width}`);
  return { n, height, width, pixels: data };
}

/** The labels of an IDX labels file (magic 0x00000801), plain or gzipped. */
export function readIdxLabels(path: string): Uint8Array {
  return parseIdx(readDatasetBytes(path), path, labelsExpected).data;
}

/**
 * An images file and its labels file as one ImageSet: one label per image, each a class index
 * below `classCount`, pixels scaled from bytes to [0, 1] by /255. Classes are named '0', '1', ...
 * as MNIST's digits are.
 */
export function loadIdxDataset(files: { images: string; labels: string }, classCount = 10): ImageSet {
  if (!Number.isInteger(classCount) || classCount < 1 || classCount > 256)
    throw new RangeError(`loadIdxDataset: classCount must be an integer from 1 to 256 (labels are bytes), got ${classCount}`);
  const images = readIdxImages(files.images);
  const labels = readIdxLabels(files.labels);
  if (images.n === 0) throw new FileFormatError(files.images, 'expected at least one image, found none');
  if (labels.length !== images.n)
    throw new FileFormatError(files.labels, `expected one label for each of the ${images.n} images in ${files.images}, found ${labels.length} labels`);
  for (let i = 0; i < labels.length; i++)
    if (labels[i]! >= classCount)
      throw new FileFormatError(files.labels, `label ${i} is ${labels[i]}, expected a class index below ${classCount} (0..${classCount - 1})`);
  const pixels = new Float32Array(images.pixels.length);
  for (let k = 0; k < pixels.length; k++) pixels[k] = pixelOfByte[images.pixels[k]!]!;
  return {
    images: pixels,
    labels: Uint8Array.from(labels),
    n: images.n,
    height: images.height,
    width: images.width,
    channels: 1,
    classNames: Array.from({ length: classCount }, (_, c) => String(c)),
    source: `${files.images} and ${files.labels}`,
  };
}
