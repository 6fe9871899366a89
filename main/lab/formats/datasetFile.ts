/**
 * Datasets on disk, as named tensors in a .safetensors or .npz file: `x` [n, d] the examples,
 * `y` [n] the labels, and for synthetic data both `M` [d, D] (the dictionary, one atom per
 * column) and `wstar` [D] (the teacher). Reading checks every shape against n and d and every
 * label, and names the tensor at fault; writing goes through a temporary file and a rename, so
 * an interrupted write never leaves half a file under the real name.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { ElementArray } from './elements.ts';
import { FileFormatError } from '../../engine/fileFormatError.ts';
import { requireFinite } from './finiteValues.ts';
import { readInputFile } from './inputFile.ts';
import { decodeNpz, encodeNpz } from './npz.ts';
import { decodeSafetensors, encodeSafetensors } from './safetensors.ts';

/** A dataset in memory. Matrices are row-major. */
export interface DatasetFile {
  /** The examples, [n, d] row-major. */
  x: Float32Array;
  /** The labels, [n]: ±1 when `labelKind` is 'binary', class indices 0..classes-1 otherwise. */
  y: Float32Array;
  n: number;
  d: number;
  labelKind: 'binary' | 'classes';
  /** 2 for binary labels; for class indices, max + 1 when read from a file. */
  classes: number;
  /** The synthetic-data dictionary M, [d, D] row-major (column j is atom j). */
  dictionary?: Float64Array;
  /** The teacher w*, [D]. */
  teacher?: Float32Array;
  /** D, the number of atoms (columns of M, entries of w*). */
  atoms?: number;
}

type Container = 'safetensors' | 'npz';

/** Class indices are stored as float32 in `y`, which counts integers exactly only up to 2^24. */
const maxClassIndex = 2 ** 24 - 1;

/** The container a path asks for, by its extension. */
function containerOf(path: string): Container {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.npz')) return 'npz';
  throw new FileFormatError(path, 'a dataset file must be named *.safetensors or *.npz (the extension chooses the format)');
}

/** A tensor as either container gives it: its shape, its elements, and its dtype's name for messages. */
interface StoredTensor {
  shape: number[];
  data: ElementArray;
  dtype: string;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Elements as float64, BigInt ones included (exact up to 2^53, which any label or feature is within). */
function asFloat64(data: ElementArray): Float64Array {
  if (data instanceof Float64Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, (value) => Number(value));
  return new Float64Array(data);
}

/** Elements as float32 (rounded to nearest), BigInt ones included. */
function asFloat32(data: ElementArray): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (value) => Number(value));
  return new Float32Array(data);
}


/**
 * Decide the label kind. Every label in {-1, +1}: binary. Otherwise every label must be a class
 * index (an integer 0, 1, 2, ...), and the class count is the largest + 1. The first label that
 * fits neither reading is named, with its index.
 */
function readLabels(y: Float64Array, file: string): { labelKind: 'binary' | 'classes'; classes: number } {
  let firstMinusOne = -1;
  let firstNotPlusMinusOne = -1;
  let largest = 0;
  for (let i = 0; i < y.length; i++) {
    const value = y[i]!;
    if (value === -1) {
      if (firstMinusOne < 0) firstMinusOne = i;
      continue;
    }
    if (!Number.isInteger(value) || value < 0) {
      throw new FileFormatError(file, `y[${i}] = ${value}: a label must be -1 or +1 (binary) or a class index 0, 1, 2, ...`);
    }
    if (value > maxClassIndex) throw new FileFormatError(file, `y[${i}] = ${value}: class indices above ${maxClassIndex} cannot be held exactly`);
    if (value !== 1 && firstNotPlusMinusOne < 0) firstNotPlusMinusOne = i;
    largest = Math.max(largest, value);
  }
  if (firstNotPlusMinusOne < 0) return { labelKind: 'binary', classes: 2 };
  if (firstMinusOne >= 0) {
    throw new FileFormatError(
      file,
      `y[${firstNotPlusMinusOne}] = ${y[firstNotPlusMinusOne]} but y[${firstMinusOne}] = -1: labels are either all -1/+1 (binary) or all class indices 0..C-1, not a mix`,
    );
  }
  return { labelKind: 'classes', classes: largest + 1 };
}

/** The tensors of a dataset file, whichever container holds them. */
function storedTensors(bytes: Uint8Array, file: string): Map<string, StoredTensor> {
  if (containerOf(file) === 'safetensors') {
    const { tensors } = decodeSafetensors(bytes, file);
    return new Map(Object.entries(tensors).map(([name, t]) => [name, { shape: t.shape, data: t.data, dtype: t.dtype }]));
  }
  const arrays = decodeNpz(bytes, file);
  return new Map(Object.entries(arrays).map(([name, a]) => [name, { shape: a.shape, data: a.data, dtype: a.dtype }]));
}

/** A tensor's elements must be numbers: bool is a flag, not a feature or a label. */
function requireNumeric(name: string, tensor: StoredTensor, file: string): void {
  if (tensor.dtype === 'BOOL' || tensor.dtype === '|b1') throw new FileFormatError(file, `${name} is a bool tensor: expected a float or integer dtype`);
}

/**
 * Read a dataset from the bytes of a .safetensors or .npz file (the extension of `file` picks
 * the container). `x` [n, d] (n, d ≥ 1, any numeric dtype, finite, converted to float32) and
 * `y` [n] are required; `M` [d, D] and `wstar` [D] (1 ≤ D ≤ d) are optional but come together.
 * Other tensors are ignored. Labels: all in {-1, +1} is binary; otherwise class indices 0..C-1
 * with C = max + 1.
 * @param bytes the whole file
 * @param file its path: picks the container and names the file in errors
 */
export function decodeDatasetBytes(bytes: Uint8Array, file: string): DatasetFile {
  const tensors = storedTensors(bytes, file);
  const names = [...tensors.keys()].map((name) => JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name));
  const found = names.length === 0 ? 'it has no tensors' : `it has ${names.slice(0, 10).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`;
  const x = tensors.get('x');
  const y = tensors.get('y');
  if (!x || !y) throw new FileFormatError(file, `no tensor "${x ? 'y' : 'x'}": a dataset needs x [n, d] and y [n] (${found})`);
  requireNumeric('x', x, file);
  requireNumeric('y', y, file);

  const [n, d] = x.shape;
  if (x.shape.length !== 2 || n === undefined || d === undefined) throw new FileFormatError(file, `x has shape ${shapeText(x.shape)}: expected [n, d], two dimensions`);
  if (n < 1 || d < 1) throw new FileFormatError(file, `x has shape ${shapeText(x.shape)}: a dataset needs at least one example (n) and one feature (d)`);
  if (y.shape.length !== 1 || y.shape[0] !== n) throw new FileFormatError(file, `y has shape ${shapeText(y.shape)}: expected [${n}] to match x`);

  const xs = asFloat32(x.data);
  requireFinite('x', xs, x.shape, file, x.data);
  const labels = asFloat64(y.data);
  const { labelKind, classes } = readLabels(labels, file);
  const dataset: DatasetFile = { x: xs, y: Float32Array.from(labels), n, d, labelKind, classes };

  const dictionary = tensors.get('M');
  const teacher = tensors.get('wstar');
  if (!dictionary !== !teacher) {
    const [has, lacks] = dictionary ? ['M', 'wstar'] : ['wstar', 'M'];
    throw new FileFormatError(file, `the file has ${has} but no ${lacks}: the synthetic-data dictionary M and teacher wstar come together (both or neither)`);
  }
  if (dictionary && teacher) {
    requireNumeric('M', dictionary, file);
    requireNumeric('wstar', teacher, file);
    const [rows, atoms] = dictionary.shape;
    if (dictionary.shape.length !== 2 || rows !== d || atoms === undefined) {
      throw new FileFormatError(file, `M has shape ${shapeText(dictionary.shape)}: expected [${d}, D] to match x (d = ${d})`);
    }
    if (atoms < 1 || atoms > d) throw new FileFormatError(file, `M has shape ${shapeText(dictionary.shape)}: the number of atoms D = ${atoms} must be between 1 and d = ${d}`);
    if (teacher.shape.length !== 1 || teacher.shape[0] !== atoms) throw new FileFormatError(file, `wstar has shape ${shapeText(teacher.shape)}: expected [${atoms}] to match M`);
    const m = asFloat64(dictionary.data);
    requireFinite('M', m, dictionary.shape, file);
    const w = asFloat32(teacher.data);
    requireFinite('wstar', w, teacher.shape, file, teacher.data);
    dataset.dictionary = m;
    dataset.teacher = w;
    dataset.atoms = atoms;
  }
  return dataset;
}

/**
 * Read a dataset file (sync; nothing on disk is changed). See decodeDatasetBytes for the layout.
 * @param path a *.safetensors or *.npz file
 */
export function readDatasetFile(path: string): DatasetFile {
  containerOf(path);
  const bytes = readInputFile(path, 'the dataset');
  return decodeDatasetBytes(bytes, path);
}

/** Check a dataset before writing it, so a file is never written that reading would refuse. */
function checkDataset(data: DatasetFile, path: string): void {
  const { n, d } = data;
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(d) || n < 1 || d < 1) throw new FileFormatError(path, `n = ${n} and d = ${d}: both must be positive integers`);
  if (data.x.length !== n * d) throw new FileFormatError(path, `x holds ${data.x.length} values: expected n × d = ${n} × ${d} = ${n * d}`);
  if (data.y.length !== n) throw new FileFormatError(path, `y holds ${data.y.length} labels: expected n = ${n}`);
  requireFinite('x', data.x, [n, d], path);
  for (let i = 0; i < n; i++) {
    const label = data.y[i]!;
    const ok = data.labelKind === 'binary' ? label === 1 || label === -1 : Number.isInteger(label) && label >= 0 && label < data.classes;
    if (!ok) {
      const expected = data.labelKind === 'binary' ? '-1 or +1 (labelKind is binary)' : `a class index 0..${data.classes - 1} (labelKind is classes, classes = ${data.classes})`;
      throw new FileFormatError(path, `y[${i}] = ${label}: expected ${expected}`);
    }
  }
  if (data.labelKind === 'classes' && !(Number.isSafeInteger(data.classes) && data.classes >= 1 && data.classes <= maxClassIndex + 1)) {
    throw new FileFormatError(path, `classes = ${data.classes}: expected an integer from 1 to ${maxClassIndex + 1}`);
  }
  if (!data.dictionary !== !data.teacher) {
    throw new FileFormatError(path, `the dataset has ${data.dictionary ? 'a dictionary but no teacher' : 'a teacher but no dictionary'}: M and wstar are written together or not at all`);
  }
  if (data.dictionary && data.teacher) {
    const atoms = data.atoms ?? data.teacher.length;
    if (data.teacher.length !== atoms) throw new FileFormatError(path, `the teacher holds ${data.teacher.length} values but atoms = ${atoms}`);
    if (atoms < 1 || atoms > d) throw new FileFormatError(path, `atoms = ${atoms}: the number of atoms D must be between 1 and d = ${d}`);
    if (data.dictionary.length !== d * atoms) throw new FileFormatError(path, `the dictionary holds ${data.dictionary.length} values: expected d × D = ${d} × ${atoms} = ${d * atoms}`);
    requireFinite('M', data.dictionary, [d, atoms], path);
    requireFinite('wstar', data.teacher, [atoms], path);
  }
}

/** Write all of `bytes` to a new file at `temporary`, flushed to the disk before it is renamed into place. */
function writeDurably(temporary: string, bytes: Uint8Array): void {
  const fd = openSync(temporary, 'w');
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write a dataset as a .safetensors or .npz file (chosen by the extension): `x` F32 [n, d],
 * `y` F32 [n] for binary labels (so ±1 reads back as ±1) or I32 [n] for class indices, and with
 * a dictionary `M` F64 [d, D] and `wstar` F32 [D]. The bytes go to `<path>.tmp-<pid>` first,
 * flushed, then renamed over `path` (atomic on one file system): a failed or interrupted write
 * leaves any previous file intact. Reading infers `classes` as max label + 1.
 * @param path a *.safetensors or *.npz path
 * @param data the dataset; checked first (lengths, labels against labelKind, finite values)
 */
export function writeDatasetFile(path: string, data: DatasetFile): void {
  const container = containerOf(path);
  checkDataset(data, path);
  const { n, d } = data;
  const labels = data.labelKind === 'binary' ? data.y : Int32Array.from(data.y);
  const atoms = data.teacher?.length ?? 0;
  let bytes: Uint8Array;
  if (container === 'safetensors') {
    bytes = encodeSafetensors(
      {
        x: { dtype: 'F32', shape: [n, d], data: data.x },
        y: { dtype: labels instanceof Int32Array ? 'I32' : 'F32', shape: [n], data: labels },
        ...(data.dictionary && data.teacher
          ? { M: { dtype: 'F64', shape: [d, atoms], data: data.dictionary }, wstar: { dtype: 'F32', shape: [atoms], data: data.teacher } }
          : {}),
      },
      undefined,
      path,
    );
  } else {
    bytes = encodeNpz(
      {
        x: { dtype: '<f4', shape: [n, d], data: data.x },
        y: { dtype: labels instanceof Int32Array ? '<i4' : '<f4', shape: [n], data: labels },
        ...(data.dictionary && data.teacher
          ? { M: { dtype: '<f8', shape: [d, atoms], data: data.dictionary }, wstar: { dtype: '<f4', shape: [atoms], data: data.teacher } }
          : {}),
      },
      path,
    );
  }

  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeDurably(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or not ours to remove (a directory in the way): either way nothing to undo.
    }
    throw new FileFormatError(path, `cannot write the dataset: ${(error as Error).message}; any previous file at this path is unchanged`);
  }
}
