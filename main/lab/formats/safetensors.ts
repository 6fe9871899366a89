/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian u64 N, then N bytes
 * of UTF-8 JSON header `{"__metadata__": {string: string}, "<name>": {"dtype", "shape",
 * "data_offsets": [begin, end]}}`, then the data buffer. Offsets count from the first byte after
 * the header; the tensors tile the buffer exactly (no overlap, no gap, nothing after), and every
 * tensor is stored little-endian in C (row-major) order.
 */
import { FileFormatError } from '../../engine/fileFormatError.ts';
import { elementCount, elementsFromBytes, holdsKind, writeLittleEndian, type ElementKind } from './elements.ts';

/** The element types this module knows. The format has more (U16, U32, U64, F8_*): they are refused by name. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** The typed arrays that hold a tensor's elements (BOOL and U8 both in a Uint8Array). */
export type SafetensorsData = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** One tensor: its element type, its shape, and its elements in row-major order. */
export interface NamedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

/** A whole file: its tensors by name and its free-form string metadata. */
export interface SafetensorsFile {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  /** Bytes per element in the file. */
  readonly size: number;
  /** Position in the reference implementation's Dtype enum, which is in increasing alignment. */
  readonly rank: number;
  /** How the elements are held in memory; undefined for the 16-bit floats, which are widened to F32 on reading. */
  readonly kind: ElementKind | undefined;
}

const dtypeInfo: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  BOOL: { size: 1, rank: 0, kind: 'u1' },
  U8: { size: 1, rank: 1, kind: 'u1' },
  I8: { size: 1, rank: 2, kind: 'i1' },
  I16: { size: 2, rank: 5, kind: 'i2' },
  F16: { size: 2, rank: 7, kind: undefined },
  BF16: { size: 2, rank: 8, kind: undefined },
  I32: { size: 4, rank: 9, kind: 'i4' },
  F32: { size: 4, rank: 11, kind: 'f4' },
  F64: { size: 8, rank: 12, kind: 'f8' },
  I64: { size: 8, rank: 13, kind: 'i8' },
};

/** Which typed array each dtype's data must be, for the writer's error messages. */
const tensorArrayName: Readonly<Record<SafetensorsDtype, string>> = {
  F64: 'Float64Array',
  F32: 'Float32Array',
  F16: 'Float32Array',
  BF16: 'Float32Array',
  I64: 'BigInt64Array',
  I32: 'Int32Array',
  I16: 'Int16Array',
  I8: 'Int8Array',
  U8: 'Uint8Array',
  BOOL: 'Uint8Array',
};

const knownDtypes = 'F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL';
/** Valid in the format, not supported here: named so the error says "unsupported", not "unknown". */
const otherFormatDtypes = new Set(['U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/** The reference reader's limit: a larger header is a corrupt length field, not a real header. */
const maxHeaderBytes = 100_000_000;

function isDtype(value: string): value is SafetensorsDtype {
  return Object.hasOwn(dtypeInfo, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short phrase for a JSON value in an error message ("the number 3", "an array", ...). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `the array ${preview(value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${preview(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

/** A name or string for a message: quoted, escaped (a corrupt header can hold control characters) and clipped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** JSON for a message, clipped; a value nested too deeply to stringify (JSON.parse allows any depth) is summarised. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    return '[...] (nested too deeply to show)';
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Widen IEEE half-precision bit patterns to float32 bit patterns, exactly (subnormals, ±0, ±inf and NaN payloads kept). */
function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  let exponent = (half >> 10) & 0x1f;
  let fraction = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (fraction << 13)) >>> 0;
  if (exponent === 0) {
    if (fraction === 0) return sign >>> 0;
    // A subnormal half is a normal float: shift the fraction up to its leading 1.
    exponent = 1;
    while ((fraction & 0x400) === 0) {
      fraction <<= 1;
      exponent -= 1;
    }
    fraction &= 0x3ff;
  }
  return (sign | ((exponent + 112) << 23) | (fraction << 13)) >>> 0;
}

/** Read `count` 16-bit floats (F16, or BF16 = the top half of a float32) into a Float32Array. */
function widenHalves(bytes: Uint8Array, begin: number, count: number, dtype: 'F16' | 'BF16'): Float32Array {
  const halves = elementsFromBytes(bytes, begin, count, 'u2', true) as Uint16Array;
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) {
    const half = halves[i]!;
    bits[i] = dtype === 'BF16' ? (half << 16) >>> 0 : halfToFloatBits(half);
  }
  return out;
}

/** The index of the first byte that is neither 0 nor 1, or -1. */
function firstNonBoolean(data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) if (data[i]! > 1) return i;
  return -1;
}

/** Compare names as the reference does (Rust String order = UTF-8 byte order). */
function compareUtf8(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Serialise tensors to safetensors bytes. As in the reference writer, tensors are laid out by
 * descending dtype alignment (I64, F64, F32, I32, I16, I8, U8, BOOL), then by name (UTF-8 byte
 * order), and the header lists them in that order after `__metadata__` (omitted when there is
 * none); the header is padded with spaces to a multiple of 8 bytes, so the data starts 8-byte
 * aligned and every tensor starts at a multiple of its element size.
 * @param tensors tensors by name; `data.length` must equal the product of `shape`, and `data` must
 *   be the typed array of its dtype (F32 Float32Array, F64 Float64Array, I64 BigInt64Array,
 *   I32 Int32Array, I16 Int16Array, I8 Int8Array, U8 and BOOL Uint8Array). F16/BF16 cannot be written.
 * @param metadata free-form string pairs stored under `__metadata__` (keys sorted)
 * @param file names the output in errors (the path it is for, when there is one)
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>, file = 'safetensors output'): Uint8Array {
  const encoder = new TextEncoder();
  const entries = Object.entries(tensors).map(([name, tensor]) => {
    if (name === '__metadata__') throw new FileFormatError(file, 'a tensor cannot be named "__metadata__": the header keeps that key for the metadata');
    const info = isDtype(tensor.dtype) ? dtypeInfo[tensor.dtype] : undefined;
    if (!info) throw new FileFormatError(file, `tensor ${quote(name)} has dtype ${String(tensor.dtype)}: expected one of ${knownDtypes}`);
    if (info.kind === undefined) throw new FileFormatError(file, `tensor ${quote(name)} is ${tensor.dtype}: 16-bit floats are read but not written here; convert to F32`);
    if (!holdsKind(tensor.data, info.kind)) {
      throw new FileFormatError(file, `tensor ${quote(name)} is ${tensor.dtype} but its data is a ${tensor.data.constructor.name}: ${tensor.dtype} needs a ${tensorArrayName[tensor.dtype]}`);
    }
    const count = elementCount(tensor.shape);
    if (count === undefined) throw new FileFormatError(file, `tensor ${quote(name)} has shape ${preview(tensor.shape)}: expected a list of non-negative integers`);
    if (count !== tensor.data.length) {
      throw new FileFormatError(file, `tensor ${quote(name)} has shape ${shapeText(tensor.shape)} = ${count} elements but its data holds ${tensor.data.length}`);
    }
    if (tensor.dtype === 'BOOL') {
      const bad = firstNonBoolean(tensor.data as Uint8Array);
      if (bad >= 0) throw new FileFormatError(file, `BOOL tensor ${quote(name)} holds ${tensor.data[bad]} at element ${bad}: expected 0 or 1`);
    }
    return { name, utf8: encoder.encode(name), tensor, info };
  });
  entries.sort((a, b) => b.info.rank - a.info.rank || compareUtf8(a.utf8, b.utf8));

  // Built by hand, not with JSON.stringify on an object: JS objects put integer-like keys
  // ("0", "12") first, which would break the promised key order.
  const parts: string[] = [];
  const metadataKeys = Object.keys(metadata ?? {}).sort();
  if (metadata && metadataKeys.length > 0) {
    for (const key of metadataKeys) {
      if (typeof metadata[key] !== 'string') throw new FileFormatError(file, `metadata ${quote(key)} is ${describe(metadata[key])}: metadata values must be strings`);
    }
    parts.push(`"__metadata__":{${metadataKeys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(metadata[key])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor } of entries) {
    const begin = offset;
    offset += tensor.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: tensor.dtype, shape: tensor.shape, data_offsets: [begin, offset] })}`);
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerSize = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerSize + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerSize), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerSize);
  let at = 8 + headerSize;
  for (const { tensor } of entries) {
    writeLittleEndian(tensor.data, out, at);
    at += tensor.data.byteLength;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

/** Check one header entry against the format; `dataBytes` is the size of the data buffer. */
function readHeaderEntry(name: string, value: unknown, dataBytes: number, file: string): HeaderEntry {
  const where = `tensor ${quote(name)}`;
  if (!isRecord(value)) throw new FileFormatError(file, `the header entry for ${where} is ${describe(value)}: expected {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`);
  const missing = ['dtype', 'shape', 'data_offsets'].filter((key) => !Object.hasOwn(value, key));
  if (missing.length > 0) throw new FileFormatError(file, `${where} lacks ${missing.map((key) => `${quote(key)}`).join(' and ')}: each tensor needs "dtype", "shape" and "data_offsets"`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new FileFormatError(file, `${where} has dtype ${describe(dtype)}: expected a string such as "F32"`);
  if (!isDtype(dtype)) {
    const why = otherFormatDtypes.has(dtype) ? 'is a safetensors dtype this reader does not support' : 'is not a safetensors dtype';
    throw new FileFormatError(file, `${where} has dtype ${quote(dtype)}, which ${why}: expected one of ${knownDtypes}`);
  }
  if (!Array.isArray(shape)) throw new FileFormatError(file, `${where} has shape ${describe(shape)}: expected a list of non-negative integers`);
  const count = elementCount(shape);
  if (count === undefined) {
    throw new FileFormatError(file, `${where} has shape ${preview(shape)}: expected a list of non-negative integers whose product is at most 2^53`);
  }
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !valid(offsets[0]) || !valid(offsets[1])) {
    throw new FileFormatError(file, `${where} has data_offsets ${describe(offsets)}: expected [begin, end], two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new FileFormatError(file, `${where} has data_offsets [${begin}, ${end}]: the end is before the begin`);
  const size = dtypeInfo[dtype].size;
  const bytes = count * size;
  if (bytes !== end - begin) {
    throw new FileFormatError(
      file,
      `${where} is ${dtype} with shape ${shapeText(shape as number[])}, so it needs ${count} × ${size} = ${bytes} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
    );
  }
  if (end > dataBytes) {
    throw new FileFormatError(file, `the header says ${where} ends at byte ${end} but the file has ${dataBytes} bytes of data (truncated?)`);
  }
  return { name, dtype, shape: [...(shape as number[])], count, begin, end };
}

/** Read `__metadata__`: null (as the reference allows) or an object of strings. */
function readMetadata(value: unknown, file: string): Record<string, string> {
  if (value === null) return {};
  if (!isRecord(value)) throw new FileFormatError(file, `__metadata__ is ${describe(value)}: expected an object of string values`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw new FileFormatError(file, `__metadata__ ${quote(key)} is ${describe(entry)}: metadata values must be strings`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/**
 * Parse and validate safetensors bytes. Every check is made before the bytes are used: the
 * header length fits the file, the header is UTF-8 JSON with an object at the top, metadata
 * values are strings, dtypes are known, each tensor's shape product × dtype size equals
 * end − begin, and the tensors tile the data buffer exactly. F16 and BF16 tensors come back
 * widened (exactly) to F32: their `dtype` says 'F32' because it describes `data`.
 * @param bytes the whole file
 * @param file names the file in errors
 * @returns the tensors (in file order) and the metadata ({} when there is none)
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  if (bytes.length < 8) {
    throw new FileFormatError(file, `the file has ${bytes.length} bytes, fewer than the 8-byte header length that starts every safetensors file (truncated or empty?)`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  const available = bytes.length - 8;
  if (declared > BigInt(available)) {
    throw new FileFormatError(file, `the first 8 bytes say the JSON header is ${declared} bytes long but only ${available} bytes follow them (truncated, or not a safetensors file?)`);
  }
  const headerSize = Number(declared);
  if (headerSize > maxHeaderBytes) throw new FileFormatError(file, `the header is ${headerSize} bytes long: more than the ${maxHeaderBytes}-byte limit of safetensors readers`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerSize));
  } catch {
    throw new FileFormatError(file, `the ${headerSize}-byte header is not valid UTF-8 (not a safetensors file?)`);
  }
  if (!text.startsWith('{')) throw new FileFormatError(file, `the header starts with ${quote(text.slice(0, 16))}: expected a JSON object, "{...}" (not a safetensors file?)`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `the header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(header)) throw new FileFormatError(file, `the header is ${describe(header)}: expected a JSON object`);

  const dataStart = 8 + headerSize;
  const dataBytes = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') metadata = readMetadata(value, file);
    else entries.push(readHeaderEntry(name, value, dataBytes, file));
  }

  // Tile check in offset order (empty tensors first at a shared offset): each tensor must begin
  // exactly where the previous one ended, and the last must end at the end of the file.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered && previous) {
      throw new FileFormatError(
        file,
        `tensors ${quote(previous.name)} (bytes ${previous.begin}..${previous.end}) and ${quote(entry.name)} (bytes ${entry.begin}..${entry.end}) overlap: tensors must not share bytes`,
      );
    }
    if (entry.begin > covered) {
      throw new FileFormatError(file, `no tensor covers data bytes ${covered}..${entry.begin} (a gap before ${quote(entry.name)}): the tensors must fill the data buffer contiguously`);
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataBytes) {
    throw new FileFormatError(file, `the tensors cover ${covered} bytes of data but ${dataBytes} bytes follow the header: ${dataBytes - covered} trailing bytes that belong to no tensor`);
  }

  const tensors = entries.map((entry): [string, NamedTensor] => {
    const begin = dataStart + entry.begin;
    if (entry.dtype === 'F16' || entry.dtype === 'BF16') {
      return [entry.name, { dtype: 'F32', shape: entry.shape, data: widenHalves(bytes, begin, entry.count, entry.dtype) }];
    }
    const data = elementsFromBytes(bytes, begin, entry.count, dtypeInfo[entry.dtype].kind!, true) as SafetensorsData;
    if (entry.dtype === 'BOOL') {
      const bad = firstNonBoolean(data as Uint8Array);
      if (bad >= 0) throw new FileFormatError(file, `BOOL tensor ${quote(entry.name)} holds the byte ${data[bad]} at element ${bad}: expected 0 or 1`);
    }
    return [entry.name, { dtype: entry.dtype, shape: entry.shape, data }];
  });
  // fromEntries defines own properties, so even a tensor named "__proto__" stays a tensor.
  return { tensors: Object.fromEntries(tensors), metadata };
}
