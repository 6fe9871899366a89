/**
 * NumPy's .npy format, versions 1.0, 2.0 and 3.0: the magic `\x93NUMPY`, two version bytes, the
 * header length (u16 little-endian in 1.0, u32 in 2.0/3.0), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and ended by
 * '\n' so the data starts aligned (64 bytes today, 16 in old files: any is accepted), then the
 * elements. Fortran-order files are accepted and transposed into C (row-major) order on reading.
 */
import { FileFormatError } from '../../engine/fileFormatError.ts';
import { elementCount, elementSize, elementsFromBytes, holdsKind, writeLittleEndian, type ElementArray, type ElementKind } from './elements.ts';

/** The dtypes this module reads, as NumPy descr strings normalised to little-endian ('|' for one-byte types). */
export type NpyDescr = '<f4' | '<f8' | '<i8' | '<i4' | '<i2' | '|i1' | '|u1' | '<u2' | '<u4' | '<u8' | '|b1';

/** An n-dimensional array: its dtype, its shape, and its elements in C (row-major) order, host byte order. */
export interface NdArray {
  dtype: NpyDescr;
  shape: number[];
  data: ElementArray;
}

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Each descr's element kind; '|b1' (bool) is held as bytes 0/1 in a Uint8Array. */
const kindOf: Readonly<Record<NpyDescr, ElementKind>> = {
  '<f4': 'f4',
  '<f8': 'f8',
  '<i8': 'i8',
  '<i4': 'i4',
  '<i2': 'i2',
  '|i1': 'i1',
  '|u1': 'u1',
  '<u2': 'u2',
  '<u4': 'u4',
  '<u8': 'u8',
  '|b1': 'u1',
};

const supported = Object.keys(kindOf).join(' ');

function isDescr(value: string): value is NpyDescr {
  return Object.hasOwn(kindOf, value);
}

/** A Python literal as it appears in an .npy header: tuples and lists both become arrays. */
type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

const maxNesting = 32;

/** Like numpy.load's max_header_size safety limit (10000), with room to spare: a longer header is damage, not data. */
const maxHeaderLength = 100_000;

/**
 * A recursive-descent reader for the Python literals NumPy writes (dicts with string keys,
 * tuples, lists, strings, integers, True/False/None): enough for every real header, and strict
 * enough that anything else is a clear error rather than a guess.
 */
class PyLiteralReader {
  private at = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  /** Read one literal that must be the whole text (trailing spaces and the newline allowed). */
  whole(): PyValue {
    const value = this.value();
    this.skipSpace();
    if (this.at < this.text.length) this.fail(`unexpected ${JSON.stringify(this.text.slice(this.at, this.at + 10).trimEnd())} after the dict`);
    return value;
  }

  private fail(what: string): never {
    const shown = this.text.length > 120 ? `${this.text.slice(0, 117)}...` : this.text;
    throw new FileFormatError(this.file, `the header ${JSON.stringify(shown.trimEnd())} is not a Python dict literal: ${what} at character ${this.at}`);
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private value(): PyValue {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === undefined) this.fail('the text ends where a value was expected');
    if (c === '{' || c === '(' || c === '[') {
      // A real header nests two levels; the bound keeps a hostile one from overflowing the stack.
      if (++this.depth > maxNesting) this.fail(`more than ${maxNesting} nested brackets`);
      const value = c === '{' ? this.dict() : this.sequence(c === '(' ? ')' : ']');
      this.depth -= 1;
      return value;
    }
    if (c === "'" || c === '"') return this.string();
    const word = this.match(/[A-Za-z_]\w*/y);
    if (word !== undefined) {
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      this.fail(`unexpected name ${word.length > 20 ? `${word.slice(0, 17)}...` : word}`);
    }
    // Integers, with Python 2's long suffix (old files write shapes as (3L, 4L)).
    const number = this.match(/[+-]?\d+[lL]?/y);
    if (number === undefined) this.fail(`unexpected ${JSON.stringify(c)}`);
    return Number(number.replace(/[lL]$/, ''));
  }

  /** Consume and return the text `sticky` (a /y regex) matches here, if it does; sticky, so no copying of the rest. */
  private match(sticky: RegExp): string | undefined {
    sticky.lastIndex = this.at;
    const found = sticky.exec(this.text)?.[0];
    if (found !== undefined) this.at += found.length;
    return found;
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.at] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.at++;
  }

  /** Is the next non-space character `char`? Consumes it if so. */
  private accept(char: string): boolean {
    this.skipSpace();
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private dict(): Map<string, PyValue> {
    this.expect('{');
    const entries = new Map<string, PyValue>();
    while (!this.accept('}')) {
      const key = this.value();
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      this.expect(':');
      entries.set(key, this.value());
      if (!this.accept(',')) {
        this.expect('}');
        break;
      }
    }
    return entries;
  }

  /** A tuple or list; `(x)` without a comma is just x, as in Python. */
  private sequence(close: ')' | ']'): PyValue {
    this.at++;
    const items: PyValue[] = [];
    let sawComma = false;
    while (!this.accept(close)) {
      items.push(this.value());
      if (this.accept(',')) sawComma = true;
      else {
        this.expect(close);
        break;
      }
    }
    return close === ')' && items.length === 1 && !sawComma ? items[0]! : items;
  }

  private string(): string {
    const quote = this.text[this.at]!;
    let out = '';
    for (this.at++; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!;
      if (c === quote) {
        this.at++;
        return out;
      }
      if (c === '\\') {
        this.at++;
        const next = this.text[this.at];
        if (next === undefined) break;
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else out += c;
    }
    this.fail('a string that is never closed');
  }
}

/** Read an .npy 'descr' into its normalised name and byte order. */
function readDescr(descr: PyValue, file: string): { descr: NpyDescr; littleEndian: boolean } {
  if (Array.isArray(descr)) throw new FileFormatError(file, `the dtype is a list of fields (a structured array): only plain numeric arrays are supported (${supported})`);
  if (typeof descr !== 'string') throw new FileFormatError(file, `'descr' is ${JSON.stringify(descr)}: expected a dtype string such as '<f4'`);
  if (/^[<>=|]?O/.test(descr)) throw new FileFormatError(file, `the dtype '${descr}' is an object array (pickled Python objects): only numeric arrays are supported (${supported})`);
  const parts = /^([<>=|]?)([fiub])(\d+)$/.exec(descr);
  const order = parts?.[1] ?? '';
  const code = parts ? `${parts[2]}${parts[3]}` : '';
  const normalised = code.endsWith('1') && code.length === 2 ? `|${code}` : `<${code}`;
  if (!parts || !isDescr(normalised)) throw new FileFormatError(file, `the dtype '${descr}' is not supported: expected one of ${supported} (or their '>' big-endian forms)`);
  if (order === '|' && normalised.startsWith('<')) throw new FileFormatError(file, `the dtype '${descr}' has no byte order, but ${code} has more than one byte: expected '<${code}' or '>${code}'`);
  return { descr: normalised, littleEndian: order !== '>' };
}

/**
 * Reorder the elements of a Fortran-order (column-major) array into C order, byte-wise so one
 * routine serves every element size. Element (i0, ..., ik) sits at Σ i_j · s_j with s_0 = 1,
 * s_j = s_{j-1} · shape_{j-1} in the source, and at its row-major position in the result.
 */
function fortranToC(source: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const out = new Uint8Array(source.length);
  const count = source.length / size;
  const rank = shape.length;
  const stride: number[] = [];
  for (let axis = 0, s = 1; axis < rank; s *= shape[axis]!, axis++) stride.push(s);
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let to = 0; to < count; to++) {
    for (let b = 0; b < size; b++) out[to * size + b] = source[from * size + b]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]! += 1;
      from += stride[axis]!;
      if (index[axis]! < shape[axis]!) break;
      from -= stride[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** A shape as Python writes the tuple: (), (5,), (2, 3). */
function tupleText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Parse and validate .npy bytes (versions 1.0, 2.0, 3.0). Checked before use: the magic, the
 * version, the header length against the file, the header as a dict with exactly 'descr',
 * 'fortran_order' and 'shape', a supported dtype, and data of exactly shape product × item size
 * bytes. Big-endian data is converted to host order; Fortran-order data is transposed to C order.
 * @param bytes the whole file
 * @param file names the file in errors
 * @returns the array, its dtype normalised to little-endian ('>i4' reads as '<i4')
 */
export function decodeNpy(bytes: Uint8Array, file: string): NdArray {
  if (bytes.length < 10) throw new FileFormatError(file, `the file has ${bytes.length} bytes, too few for an .npy header (at least 10; truncated or empty?)`);
  if (!magic.every((byte, i) => bytes[i] === byte)) throw new FileFormatError(file, 'the file does not start with the .npy magic "\\x93NUMPY" (not an .npy file?)');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) throw new FileFormatError(file, `.npy format version ${major}.${minor} is not supported: expected 1.0, 2.0 or 3.0`);
  const prelude = major === 1 ? 10 : 12;
  if (bytes.length < prelude) throw new FileFormatError(file, `the file has ${bytes.length} bytes, too few for a version ${major}.0 .npy header (${prelude}; truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (prelude + headerLength > bytes.length) {
    throw new FileFormatError(file, `the header length field says ${headerLength} bytes but only ${bytes.length - prelude} bytes follow it (truncated?)`);
  }
  if (headerLength > maxHeaderLength) throw new FileFormatError(file, `the header length field says ${headerLength} bytes: more than the ${maxHeaderLength} any real header needs (corrupt?)`);
  const headerBytes = bytes.subarray(prelude, prelude + headerLength);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      throw new FileFormatError(file, 'the version 3.0 header is not valid UTF-8');
    }
  } else {
    // Versions 1.0 and 2.0 are latin-1: one byte, one character.
    text = Array.from(headerBytes, (byte) => String.fromCharCode(byte)).join('');
  }

  const header = new PyLiteralReader(text, file).whole();
  if (!(header instanceof Map)) throw new FileFormatError(file, `the header is ${JSON.stringify(text.trim())}: expected a dict with 'descr', 'fortran_order' and 'shape'`);
  const keys = [...header.keys()];
  const missing = ['descr', 'fortran_order', 'shape'].filter((key) => !header.has(key));
  const extra = keys.filter((key) => !['descr', 'fortran_order', 'shape'].includes(key));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [missing.length > 0 ? `lacks ${missing.map((k) => `'${k}'`).join(', ')}` : '', extra.length > 0 ? `has unexpected ${extra.map((k) => `'${k}'`).join(', ')}` : ''];
    throw new FileFormatError(file, `the header dict ${problems.filter(Boolean).join(' and ')}: expected exactly 'descr', 'fortran_order' and 'shape'`);
  }
  const { descr, littleEndian } = readDescr(header.get('descr')!, file);
  const fortranOrder = header.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw new FileFormatError(file, `'fortran_order' is ${JSON.stringify(fortranOrder)}: expected True or False`);
  const shapeValue = header.get('shape');
  const count = Array.isArray(shapeValue) ? elementCount(shapeValue) : undefined;
  if (!Array.isArray(shapeValue) || count === undefined) {
    throw new FileFormatError(file, `'shape' is ${JSON.stringify(shapeValue)}: expected a tuple of non-negative integers whose product is at most 2^53`);
  }
  const shape = shapeValue as number[];
  const kind = kindOf[descr];
  const size = elementSize[kind];
  const dataBytes = count * size;
  const dataStart = prelude + headerLength;
  const available = bytes.length - dataStart;
  if (!Number.isSafeInteger(dataBytes) || available < dataBytes) {
    throw new FileFormatError(
      file,
      `the header says ${descr} with shape ${tupleText(shape)}, so ${count} × ${size} = ${dataBytes} bytes of data, but the file has ${available} bytes after the header (truncated?)`,
    );
  }
  if (available > dataBytes) {
    throw new FileFormatError(file, `the file has ${available - dataBytes} bytes after the ${dataBytes} bytes of data that shape ${tupleText(shape)} needs (several arrays saved into one file?)`);
  }

  let source = bytes;
  let begin = dataStart;
  if (fortranOrder && shape.length > 1) {
    source = fortranToC(bytes.subarray(dataStart, dataStart + dataBytes), shape, size);
    begin = 0;
  }
  const data = elementsFromBytes(source, begin, count, kind, littleEndian);
  if (descr === '|b1') {
    const bad = (data as Uint8Array).findIndex((byte) => byte > 1);
    if (bad >= 0) throw new FileFormatError(file, `the bool array holds the byte ${data[bad]} at element ${bad}: expected 0 or 1`);
  }
  return { dtype: descr, shape: [...shape], data };
}

/**
 * Serialise an array as a version 1.0 .npy file, as numpy.save does: the header is
 * `{'descr': ..., 'fortran_order': False, 'shape': (...), }`, padded with spaces and a final '\n'
 * so the data starts at a multiple of 64 bytes; the elements follow little-endian in C order.
 * @param array the array; `data` must be the typed array of its dtype ('<f4' Float32Array,
 *   '<f8' Float64Array, '<i4' Int32Array, '<i8' BigInt64Array, '|u1' and '|b1' Uint8Array, ...)
 *   and hold exactly the product of `shape` elements
 * @param file names the output in errors (the path it is for, when there is one)
 */
export function encodeNpy(array: NdArray, file = 'npy output'): Uint8Array {
  if (!isDescr(array.dtype)) throw new FileFormatError(file, `the dtype ${JSON.stringify(array.dtype)} cannot be written: expected one of ${supported}`);
  const kind = kindOf[array.dtype];
  if (!holdsKind(array.data, kind)) {
    throw new FileFormatError(file, `the dtype is '${array.dtype}' but the data is a ${array.data.constructor.name}, which holds a different element type`);
  }
  const count = elementCount(array.shape);
  if (count === undefined) throw new FileFormatError(file, `the shape ${JSON.stringify(array.shape)} is not a list of non-negative integers`);
  if (count !== array.data.length) throw new FileFormatError(file, `the shape ${tupleText(array.shape)} has ${count} elements but the data holds ${array.data.length}`);
  if (array.dtype === '|b1') {
    const bad = (array.data as Uint8Array).findIndex((byte) => byte > 1);
    if (bad >= 0) throw new FileFormatError(file, `the bool array holds ${array.data[bad]} at element ${bad}: expected 0 or 1`);
  }
  const dict = `{'descr': '${array.dtype}', 'fortran_order': False, 'shape': ${tupleText(array.shape)}, }`;
  const unpadded = 10 + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 0xffff) throw new FileFormatError(file, `the header would be ${header.length} bytes: more than a version 1.0 file can hold (65535)`);

  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(magic, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  writeLittleEndian(array.data, out, 10 + header.length);
  return out;
}
