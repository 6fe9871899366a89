/**
 * Dataset files: both containers round-trip, label kinds are told apart, every shape mismatch
 * and bad label is refused naming the tensor (and the index), and writes are atomic: no temp
 * file is left behind, and a failed write leaves the previous file intact.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDatasetBytes, readDatasetFile, writeDatasetFile, type DatasetFile } from '../../main/lab/formats/datasetFile.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { decodeNpz, encodeNpz } from '../../main/lab/formats/npz.ts';
import type { NdArray } from '../../main/lab/formats/npy.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../main/lab/formats/safetensors.ts';
import { numpy, python } from '../support/numpy.ts';
import { thrownBy } from '../support/thrown.ts';

/** The FileFormatError `action` throws (failing the test if it throws anything else, or nothing). */
const formatError = (action: () => unknown) => thrownBy(FileFormatError, action);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lab-dataset-'));
}

/** A small synthetic dataset: n examples in d dimensions, optionally with a D-atom dictionary and teacher. */
function dataset(n: number, d: number, labelKind: 'binary' | 'classes', atoms?: number): DatasetFile {
  const x = Float32Array.from({ length: n * d }, (_, k) => Math.sin(k) * 3);
  const y = Float32Array.from({ length: n }, (_, i) => (labelKind === 'binary' ? (i % 3 === 0 ? -1 : 1) : i % 4));
  const data: DatasetFile = { x, y, n, d, labelKind, classes: labelKind === 'binary' ? 2 : 4 };
  if (atoms !== undefined) {
    data.dictionary = Float64Array.from({ length: d * atoms }, (_, k) => Math.cos(k) / Math.sqrt(d));
    data.teacher = Float32Array.from({ length: atoms }, (_, j) => (j % 2 === 0 ? 1 : -1) / Math.sqrt(atoms));
    data.atoms = atoms;
  }
  return data;
}

/** A safetensors dataset file made of these tensors (float32 unless a typed array says otherwise). */
function safetensorsWith(tensors: Record<string, NamedTensor>): Uint8Array {
  return encodeSafetensors(tensors);
}

const f32 = (shape: number[], values?: number[]): NamedTensor => ({
  dtype: 'F32',
  shape,
  data: values ? new Float32Array(values) : new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

describe('dataset files round-trip', () => {
  for (const extension of ['safetensors', 'npz'] as const) {
    it(`writes and reads a binary dataset with a dictionary and teacher as .${extension}`, () => {
      const path = join(tempDir(), `synthetic.${extension}`);
      const data = dataset(50, 12, 'binary', 5);
      writeDatasetFile(path, data);
      const back = readDatasetFile(path);
      expect(back).toEqual(data);
      expect(back.x).toBeInstanceOf(Float32Array);
      expect(back.dictionary).toBeInstanceOf(Float64Array);
    });

    it(`writes and reads class labels as .${extension}, stored as int32`, () => {
      const path = join(tempDir(), `classes.${extension}`);
      const data = dataset(20, 3, 'classes');
      writeDatasetFile(path, data);
      const back = readDatasetFile(path);
      expect(back).toEqual(data);
      expect(back.dictionary).toBeUndefined();
      expect('teacher' in back).toBe(false);
    });
  }

  it('stores x F32, y F32 (binary) or I32 (classes), M F64 and wstar F32', () => {
    const dir = tempDir();
    writeDatasetFile(join(dir, 'b.safetensors'), dataset(4, 3, 'binary', 2));
    const binary = decodeSafetensors(readFileSync(join(dir, 'b.safetensors')), 'b.safetensors').tensors;
    expect(Object.fromEntries(Object.entries(binary).map(([name, t]) => [name, [t.dtype, ...t.shape]]))).toEqual({
      x: ['F32', 4, 3],
      y: ['F32', 4],
      M: ['F64', 3, 2],
      wstar: ['F32', 2],
    });
    writeDatasetFile(join(dir, 'c.npz'), dataset(4, 3, 'classes', 2));
    const classes = decodeNpz(readFileSync(join(dir, 'c.npz')), 'c.npz');
    expect(Object.fromEntries(Object.entries(classes).map(([name, a]) => [name, [a.dtype, ...a.shape]]))).toEqual({
      x: ['<f4', 4, 3],
      y: ['<i4', 4],
      M: ['<f8', 3, 2],
      wstar: ['<f4', 2],
    });
  });

  it.skipIf(numpy.skip)('writes an .npz that numpy.load reads with the promised dtypes', () => {
    const path = join(tempDir(), 'data.npz');
    writeDatasetFile(path, dataset(6, 4, 'classes', 3));
    const read = python("import sys, numpy as np\nz = np.load(sys.argv[1])\nprint(' '.join(f'{k}:{z[k].dtype}:{z[k].shape}' for k in sorted(z.files)))", path);
    expect(read.trim()).toBe('M:float64:(4, 3) wstar:float32:(3,) x:float32:(6, 4) y:int32:(6,)');
  });
});

describe('reading datasets', () => {
  it('converts any numeric dtype of x and y, and ignores other tensors', () => {
    const bytes = safetensorsWith({
      x: { dtype: 'F64', shape: [3, 2], data: new Float64Array([0.5, 1, 2, 3, 4, 1e-3]) },
      y: { dtype: 'I64', shape: [3], data: new BigInt64Array([0n, 2n, 1n]) },
      extra: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) },
    });
    const data = decodeDatasetBytes(bytes, 'd.safetensors');
    expect([...data.x]).toEqual([...new Float32Array([0.5, 1, 2, 3, 4, 1e-3])]);
    expect(data).toMatchObject({ n: 3, d: 2, labelKind: 'classes', classes: 3 });
    expect([...data.y]).toEqual([0, 2, 1]);
    const integers = encodeNpz({
      x: { dtype: '|u1', shape: [2, 2], data: new Uint8Array([0, 255, 3, 4]) },
      y: { dtype: '<f8', shape: [2], data: new Float64Array([1, -1]) },
    });
    const fromNpz = decodeDatasetBytes(integers, 'd.npz');
    expect([...fromNpz.x]).toEqual([0, 255, 3, 4]);
    expect(fromNpz).toMatchObject({ labelKind: 'binary', classes: 2 });
  });

  it('tells the label kinds apart: ±1 is binary, 0..C-1 is classes with C = max + 1', () => {
    const labels = (values: number[]) => decodeDatasetBytes(safetensorsWith({ x: f32([values.length, 1]), y: f32([values.length], values) }), 'l.safetensors');
    expect(labels([1, -1, -1, 1])).toMatchObject({ labelKind: 'binary', classes: 2 });
    expect(labels([1, 1])).toMatchObject({ labelKind: 'binary', classes: 2 });
    expect(labels([0, 1, 1])).toMatchObject({ labelKind: 'classes', classes: 2 });
    expect(labels([0, 9, 3])).toMatchObject({ labelKind: 'classes', classes: 10 });
    expect(labels([2])).toMatchObject({ labelKind: 'classes', classes: 3 });
  });

  it('names the first bad label and its index', () => {
    const bad = (values: number[]) =>
      formatError(() => decodeDatasetBytes(safetensorsWith({ x: f32([values.length, 2]), y: f32([values.length], values) }), 'bad.safetensors')).message;
    expect(bad([0, 1, 0.5, 2])).toBe('bad.safetensors: y[2] = 0.5: a label must be -1 or +1 (binary) or a class index 0, 1, 2, ...');
    expect(bad([1, NaN])).toBe('bad.safetensors: y[1] = NaN: a label must be -1 or +1 (binary) or a class index 0, 1, 2, ...');
    expect(bad([1, -1, -2])).toMatch(/^bad\.safetensors: y\[2\] = -2: a label must be/);
    expect(bad([-1, 2, 1])).toBe('bad.safetensors: y[1] = 2 but y[0] = -1: labels are either all -1/+1 (binary) or all class indices 0..C-1, not a mix');
    expect(bad([0, 1, -1])).toMatch(/y\[0\] = 0 but y\[2\] = -1/);
    expect(bad([Infinity])).toMatch(/y\[0\] = Infinity/);
    expect(bad([2 ** 25])).toMatch(/y\[0\] = 33554432: class indices above 16777215 cannot be held exactly/);
  });

  it('names the tensor whose shape does not fit, and what was expected', () => {
    const file = 'shapes.safetensors';
    const read = (tensors: Record<string, NamedTensor>) => formatError(() => decodeDatasetBytes(safetensorsWith(tensors), file)).message;
    expect(read({ x: f32([100, 4]), y: f32([99]) })).toBe(`${file}: y has shape [99]: expected [100] to match x`);
    expect(read({ x: f32([100, 4]), y: f32([100, 1]) })).toBe(`${file}: y has shape [100, 1]: expected [100] to match x`);
    expect(read({ x: f32([12]), y: f32([12]) })).toBe(`${file}: x has shape [12]: expected [n, d], two dimensions`);
    expect(read({ x: f32([2, 3, 2]), y: f32([2]) })).toMatch(/x has shape \[2, 3, 2\]: expected \[n, d\]/);
    expect(read({ x: f32([0, 3]), y: f32([0]) })).toMatch(/x has shape \[0, 3\]: a dataset needs at least one example \(n\) and one feature \(d\)/);
    expect(read({ x: f32([3, 0]), y: f32([3]) })).toMatch(/x has shape \[3, 0\]/);
    expect(read({ y: f32([3]) })).toBe(`${file}: no tensor "x": a dataset needs x [n, d] and y [n] (it has "y")`);
    expect(read({ x: f32([3, 2]) })).toBe(`${file}: no tensor "y": a dataset needs x [n, d] and y [n] (it has "x")`);
    expect(read({})).toMatch(/no tensor "x": .*\(it has no tensors\)/);
    const base = { x: f32([3, 4]), y: f32([3], [1, -1, 1]) };
    expect(read({ ...base, M: { dtype: 'F64', shape: [5, 2], data: new Float64Array(10) }, wstar: f32([2]) })).toBe(`${file}: M has shape [5, 2]: expected [4, D] to match x (d = 4)`);
    expect(read({ ...base, M: { dtype: 'F64', shape: [4, 5], data: new Float64Array(20) }, wstar: f32([5]) })).toBe(
      `${file}: M has shape [4, 5]: the number of atoms D = 5 must be between 1 and d = 4`,
    );
    expect(read({ ...base, M: { dtype: 'F64', shape: [4, 0], data: new Float64Array(0) }, wstar: f32([0]) })).toMatch(/D = 0 must be between 1 and d = 4/);
    expect(read({ ...base, M: { dtype: 'F64', shape: [8], data: new Float64Array(8) }, wstar: f32([2]) })).toMatch(/M has shape \[8\]: expected \[4, D\]/);
    expect(read({ ...base, M: { dtype: 'F64', shape: [4, 2], data: new Float64Array(8) }, wstar: f32([3]) })).toBe(`${file}: wstar has shape [3]: expected [2] to match M`);
    expect(read({ ...base, M: { dtype: 'F64', shape: [4, 2], data: new Float64Array(8) } })).toBe(
      `${file}: the file has M but no wstar: the synthetic-data dictionary M and teacher wstar come together (both or neither)`,
    );
    expect(read({ ...base, wstar: f32([2]) })).toMatch(/the file has wstar but no M/);
  });

  it('refuses bool tensors and values that are not finite, naming the entry', () => {
    const file = 'values.safetensors';
    const read = (tensors: Record<string, NamedTensor>) => formatError(() => decodeDatasetBytes(safetensorsWith(tensors), file)).message;
    expect(read({ x: { dtype: 'BOOL', shape: [1, 1], data: new Uint8Array([1]) }, y: f32([1], [1]) })).toBe(`${file}: x is a bool tensor: expected a float or integer dtype`);
    expect(read({ x: f32([2, 3], [0, 0, 0, 0, NaN, 0]), y: f32([2], [1, 1]) })).toBe(`${file}: x[1, 1] is NaN: every entry of x must be a finite number`);
    expect(read({ x: { dtype: 'F64', shape: [1, 2], data: new Float64Array([1, 1e300]) }, y: f32([1], [1]) })).toBe(
      `${file}: x[0, 1] = 1e+300 does not fit in float32 (largest about 3.4e38)`,
    );
    const base = { x: f32([1, 2]), y: f32([1], [1]) };
    expect(read({ ...base, M: { dtype: 'F64', shape: [2, 1], data: new Float64Array([1, Infinity]) }, wstar: f32([1]) })).toMatch(/M\[1, 0\] is Infinity/);
    expect(read({ ...base, M: { dtype: 'F64', shape: [2, 1], data: new Float64Array(2) }, wstar: f32([1], [NaN]) })).toMatch(/wstar\[0\] is NaN/);
  });

  it('chooses the container by extension and passes on container errors', () => {
    const bytes = safetensorsWith({ x: f32([1, 1]), y: f32([1], [1]) });
    expect(formatError(() => decodeDatasetBytes(bytes, 'data.csv')).message).toBe('data.csv: a dataset file must be named *.safetensors or *.npz (the extension chooses the format)');
    expect(formatError(() => readDatasetFile('/nowhere/data.h5')).message).toMatch(/^\/nowhere\/data\.h5: a dataset file must be named \*\.safetensors or \*\.npz/);
    expect(decodeDatasetBytes(bytes, 'DATA.SafeTensors').n).toBe(1);
    expect(formatError(() => decodeDatasetBytes(bytes, 'data.npz')).message).toMatch(/^data\.npz: not a valid \.npz \(zip\) archive/);
    expect(formatError(() => decodeDatasetBytes(bytes.subarray(0, bytes.length - 1), 'cut.safetensors')).message).toMatch(/^cut\.safetensors: .*\(truncated\?\)$/);
    const npzArrays: Record<string, NdArray> = { x: { dtype: '<f4', shape: [2, 2], data: new Float32Array(4) }, y: { dtype: '<f4', shape: [3], data: new Float32Array([1, 1, 1]) } };
    expect(formatError(() => decodeDatasetBytes(encodeNpz(npzArrays), 'data.npz')).message).toBe('data.npz: y has shape [3]: expected [2] to match x');
  });

  it('reports a missing file by name, and reading changes nothing on disk', () => {
    const dir = tempDir();
    expect(formatError(() => readDatasetFile(join(dir, 'absent.npz'))).message).toBe(`${join(dir, 'absent.npz')}: cannot read the dataset: no such file`);
    const path = join(dir, 'kept.safetensors');
    writeDatasetFile(path, dataset(5, 2, 'binary'));
    const before = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    readDatasetFile(path);
    expect(readFileSync(path)).toEqual(before);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(readdirSync(dir).sort()).toEqual(['kept.safetensors']);
  });
});

describe('writing datasets', () => {
  it('leaves no temporary file after a successful write, and replaces the old file whole', () => {
    const dir = tempDir();
    const path = join(dir, 'data.npz');
    writeDatasetFile(path, dataset(10, 3, 'binary'));
    writeDatasetFile(path, dataset(7, 2, 'classes', 1));
    expect(readdirSync(dir)).toEqual(['data.npz']);
    expect(readDatasetFile(path)).toMatchObject({ n: 7, d: 2, labelKind: 'classes', atoms: 1 });
  });

  it('leaves the previous file intact when the temporary file cannot be written', () => {
    const dir = tempDir();
    const path = join(dir, 'data.safetensors');
    writeDatasetFile(path, dataset(10, 3, 'binary'));
    const before = readFileSync(path);
    mkdirSync(`${path}.tmp-${process.pid}`); // something in the way of the temporary file
    const error = formatError(() => writeDatasetFile(path, dataset(4, 4, 'classes')));
    expect(error.file).toBe(path);
    expect(error.message).toMatch(/^.*data\.safetensors: cannot write the dataset: .*; any previous file at this path is unchanged$/);
    expect(readFileSync(path)).toEqual(before);
    expect(statSync(`${path}.tmp-${process.pid}`).isDirectory()).toBe(true); // not ours: left alone
  });

  it('removes its temporary file when the rename fails', () => {
    const dir = tempDir();
    const path = join(dir, 'taken.npz');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'a directory is in the way');
    const error = formatError(() => writeDatasetFile(path, dataset(3, 2, 'binary')));
    expect(error.message).toMatch(/cannot write the dataset: .*rename/);
    expect(readdirSync(dir)).toEqual(['taken.npz']);
    expect(readdirSync(path)).toEqual(['inside']);
  });

  it('checks the dataset before writing, so a refused write touches nothing', () => {
    const dir = tempDir();
    const path = join(dir, 'data.safetensors');
    writeDatasetFile(path, dataset(10, 3, 'binary'));
    const before = readFileSync(path);
    const refuse = (change: (data: DatasetFile) => void) => {
      const data = dataset(6, 3, 'binary', 2);
      change(data);
      return formatError(() => writeDatasetFile(path, data)).message;
    };
    expect(refuse((data) => (data.y[4] = 0))).toBe(`${path}: y[4] = 0: expected -1 or +1 (labelKind is binary)`);
    expect(refuse((data) => Object.assign(data, { labelKind: 'classes', classes: 1 }))).toMatch(/y\[0\] = -1: expected a class index 0\.\.0 \(labelKind is classes, classes = 1\)/);
    expect(refuse((data) => (data.x = new Float32Array(17)))).toBe(`${path}: x holds 17 values: expected n × d = 6 × 3 = 18`);
    expect(refuse((data) => (data.y = new Float32Array(5)))).toBe(`${path}: y holds 5 labels: expected n = 6`);
    expect(refuse((data) => (data.x[7] = NaN))).toBe(`${path}: x[2, 1] is NaN: every entry of x must be a finite number`);
    expect(refuse((data) => delete data.teacher)).toMatch(/has a dictionary but no teacher: M and wstar are written together or not at all/);
    expect(refuse((data) => (data.atoms = 3))).toMatch(/the teacher holds 2 values but atoms = 3/);
    expect(refuse((data) => (data.dictionary = new Float64Array(5)))).toMatch(/the dictionary holds 5 values: expected d × D = 3 × 2 = 6/);
    expect(refuse((data) => (data.n = 0))).toMatch(/n = 0 and d = 3: both must be positive integers/);
    expect(formatError(() => writeDatasetFile(join(dir, 'data.json'), dataset(2, 2, 'binary'))).message).toMatch(/must be named \*\.safetensors or \*\.npz/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['data.safetensors']);
  });
});
