/**
 * Element kinds shared by the binary tensor formats (safetensors, .npy): how many bytes each
 * takes, which typed array holds it, and copying elements between file bytes (stored in either
 * byte order) and host-order typed arrays.
 */

/** Numeric element kinds, named as NumPy's type codes: f4 = float32, i8 = int64, u1 = uint8, ... */
export type ElementKind = 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8';

/** The typed arrays that hold one element kind each. */
export type ElementArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

const arrayOf = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
} as const;

/** Bytes per element of each kind. */
export const elementSize: Readonly<Record<ElementKind, number>> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8 };

/** True on every host Node runs on today; checked rather than assumed, so big-endian hosts stay correct. */
export const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether `data` is the typed array that holds elements of `kind` (a Float64Array for 'f8', ...).
 * @param data a typed array
 * @param kind the element kind it should hold
 */
export function holdsKind(data: ElementArray, kind: ElementKind): boolean {
  return data instanceof arrayOf[kind];
}

/**
 * Reverse the bytes of every `size`-byte element of `view` in place: converts between byte orders.
 * @param view the bytes, a whole number of elements
 * @param size bytes per element (1 is a no-op)
 */
function swapBytes(view: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let at = 0; at + size <= view.length; at += size) view.subarray(at, at + size).reverse();
}

/**
 * Copy `count` elements of `kind` that start at `bytes[begin]` into a new host-order typed array.
 * Copying (not viewing) makes the result aligned whatever the file offset and independent of `bytes`.
 * The caller has checked that `begin + count * elementSize[kind] <= bytes.length`.
 * @param bytes the file
 * @param begin byte offset of the first element
 * @param count number of elements
 * @param kind element kind
 * @param littleEndian the byte order of the stored elements
 */
export function elementsFromBytes(bytes: Uint8Array, begin: number, count: number, kind: ElementKind, littleEndian: boolean): ElementArray {
  const size = elementSize[kind];
  const end = begin + count * size;
  if (!Number.isSafeInteger(end) || begin < 0 || end > bytes.length) {
    throw new RangeError(`elementsFromBytes: bytes ${begin}..${end} are outside the ${bytes.length}-byte buffer`);
  }
  const out = new arrayOf[kind](count);
  const image = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  image.set(bytes.subarray(begin, end));
  if (littleEndian !== hostIsLittleEndian) swapBytes(image, size);
  return out;
}

/**
 * Write the elements of `data` into `out` at `offset`, little-endian (the order of both formats).
 * The caller has checked that `offset + data.byteLength <= out.length`.
 * @param data the elements, in host order
 * @param out the file being built
 * @param offset byte offset of the first element in `out`
 */
export function writeLittleEndian(data: ElementArray, out: Uint8Array, offset: number): void {
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  if (!hostIsLittleEndian) swapBytes(out.subarray(offset, offset + data.byteLength), data.BYTES_PER_ELEMENT);
}

/**
 * The number of elements of an array of this shape (the product of its dimensions; 1 for a
 * scalar), or undefined when a dimension is not a non-negative integer or the product is too
 * large to count exactly.
 * @param shape the dimensions
 */
export function elementCount(shape: readonly unknown[]): number | undefined {
  let count = 1;
  for (const dimension of shape) {
    if (typeof dimension !== 'number' || !Number.isSafeInteger(dimension) || dimension < 0) return undefined;
    count *= dimension;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}
