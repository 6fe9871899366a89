/**
 * The .npy and .npz codecs: the header as numpy.save writes it, round trips of every dtype,
 * big-endian and Fortran-order files, versions 1.0 to 3.0, corrupt files refused with a
 * FileFormatError naming the file (and the .npz entry), and (with the Python that has NumPy: test/support/numpy.ts) files
 * exchanged with numpy.save, numpy.savez, numpy.savez_compressed and numpy.load.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { decodeNpy, encodeNpy, type NdArray } from '../../main/lab/formats/npy.ts';
import { decodeNpz, encodeNpz } from '../../main/lab/formats/npz.ts';
import { bytesOf } from '../support/bytes.ts';
import { numpy, python } from '../support/numpy.ts';
import { thrownBy } from '../support/thrown.ts';

const file = 'arrays.npy';

/** The FileFormatError `read` throws (failing the test if it throws anything else, or nothing). */
const formatError = (read: () => unknown) => thrownBy(FileFormatError, read);

/** An .npy file built by hand: any header text, version and data bytes. */
function npyBytes(header: string, data: Uint8Array, version = 1, align = 64): Uint8Array {
  const prelude = version === 1 ? 10 : 12;
  const unpadded = prelude + new TextEncoder().encode(header).length + 1;
  const text = new TextEncoder().encode(`${header}${' '.repeat((align - (unpadded % align)) % align)}\n`);
  const out = new Uint8Array(prelude + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prelude);
  out.set(data, prelude + text.length);
  return out;
}

/** Big-endian bytes of float64 values. */
function bigEndianF64(values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  values.forEach((v, i) => new DataView(out.buffer).setFloat64(8 * i, v, false));
  return out;
}

function numbers(data: ArrayLike<number | bigint>): number[] {
  return Array.from(data, (v) => Number(v));
}

const everyDtype: NdArray[] = [
  { dtype: '<f4', shape: [2, 3], data: new Float32Array([0.5, -1, NaN, Infinity, -0, 3.4e38]) },
  { dtype: '<f8', shape: [3], data: new Float64Array([Math.PI, Number.MIN_VALUE, -1e300]) },
  { dtype: '<i8', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
  { dtype: '<i4', shape: [2, 1, 2], data: new Int32Array([-(2 ** 31), 0, 1, 2 ** 31 - 1]) },
  { dtype: '<i2', shape: [2], data: new Int16Array([-32768, 32767]) },
  { dtype: '|i1', shape: [2], data: new Int8Array([-128, 127]) },
  { dtype: '|u1', shape: [3], data: new Uint8Array([0, 1, 255]) },
  { dtype: '<u2', shape: [1], data: new Uint16Array([65535]) },
  { dtype: '<u4', shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
  { dtype: '<u8', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
  { dtype: '|b1', shape: [2], data: new Uint8Array([1, 0]) },
  { dtype: '<f8', shape: [], data: new Float64Array([2.5]) },
  { dtype: '<f4', shape: [0, 3], data: new Float32Array(0) },
];

describe('npy layout and round trip', () => {
  it('writes the header numpy.save writes: v1.0, the dict, spaces and a newline to a 64-byte boundary', () => {
    const bytes = encodeNpy({ dtype: '<f4', shape: [2, 3], data: new Float32Array(6) });
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
    const length = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + length) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + length));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect(bytes.length).toBe(10 + length + 24);
    const oneDimension = encodeNpy({ dtype: '|u1', shape: [5], data: new Uint8Array(5) });
    expect(new TextDecoder().decode(oneDimension)).toContain("'shape': (5,), }");
    const scalar = encodeNpy({ dtype: '<f8', shape: [], data: new Float64Array(1) });
    expect(new TextDecoder().decode(scalar)).toContain("'shape': (), }");
  });

  it('round-trips every dtype, including scalars and empty arrays', () => {
    for (const array of everyDtype) {
      const back = decodeNpy(encodeNpy(array), file);
      expect(back.dtype).toBe(array.dtype);
      expect(back.shape).toEqual(array.shape);
      expect(back.data.constructor).toBe(array.data.constructor);
      expect(bytesOf(back.data)).toEqual(bytesOf(array.data));
    }
  });

  it('reads big-endian data into host order, normalising the dtype', () => {
    const f8 = decodeNpy(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", bigEndianF64([1.5, -2, Math.PI])), file);
    expect(f8.dtype).toBe('<f8');
    expect([...f8.data]).toEqual([1.5, -2, Math.PI]);
    const i4 = decodeNpy(npyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0])), file);
    expect(i4.dtype).toBe('<i4');
    expect([...i4.data]).toEqual([-2, 256]);
    const u1 = decodeNpy(npyBytes("{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", new Uint8Array([7])), file);
    expect(u1.dtype).toBe('|u1');
    const native = decodeNpy(npyBytes("{'descr': '=i2', 'fortran_order': False, 'shape': (1,), }", new Uint8Array([1, 2])), file);
    expect([native.dtype, ...native.data]).toEqual(['<i2', 0x0201]);
  });

  it('transposes Fortran-order data into C order', () => {
    // A 2×3×2 array a[i,j,k] = 100i + 10j + k, stored column-major: i varies fastest.
    const fortran: number[] = [];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortran.push(100 * i + 10 * j + k);
    const array = decodeNpy(npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 2), }", bytesOf(new Int32Array(fortran))), file);
    const c: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) c.push(100 * i + 10 * j + k);
    expect(array.shape).toEqual([2, 3, 2]);
    expect([...array.data]).toEqual(c);
    const bigEndianFortran = decodeNpy(npyBytes("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", bigEndianF64([1, 3, 2, 4])), file);
    expect([...bigEndianFortran.data]).toEqual([1, 2, 3, 4]);
  });

  it('reads versions 2.0 and 3.0, old 16-byte alignment, Python 2 longs and double quotes', () => {
    const data = bytesOf(new Float32Array([1, 2, 3, 4, 5, 6]));
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    expect([...decodeNpy(npyBytes(header, data, 2), file).data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...decodeNpy(npyBytes(header, data, 3), file).data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(decodeNpy(npyBytes(header, data, 1, 16), file).shape).toEqual([2, 3]);
    expect(decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L)}", data), file).shape).toEqual([2, 3]);
    expect(decodeNpy(npyBytes('{"shape": [2, 3], "fortran_order": False, "descr": "<f4"}', data), file).shape).toEqual([2, 3]);
  });

  it('reads without touching the bytes, and returns data that does not alias them', () => {
    const bytes = encodeNpy({ dtype: '<i4', shape: [2], data: new Int32Array([7, 8]) });
    const copy = bytes.slice();
    const array = decodeNpy(bytes, file);
    expect(bytes).toEqual(copy);
    bytes.fill(0, 64);
    expect([...array.data]).toEqual([7, 8]);
  });

  it('refuses to write what does not match its dtype or shape', () => {
    expect(formatError(() => encodeNpy({ dtype: '<f4', shape: [2], data: new Float64Array(2) }, 'out.npy')).message).toBe(
      "out.npy: the dtype is '<f4' but the data is a Float64Array, which holds a different element type",
    );
    expect(formatError(() => encodeNpy({ dtype: '<f4', shape: [2, 2], data: new Float32Array(3) })).message).toMatch(/shape \(2, 2\) has 4 elements but the data holds 3/);
    expect(formatError(() => encodeNpy({ dtype: '>f4' as '<f4', shape: [1], data: new Float32Array(1) })).message).toMatch(/cannot be written/);
    expect(formatError(() => encodeNpy({ dtype: '|b1', shape: [1], data: new Uint8Array([2]) })).message).toMatch(/holds 2 at element 0: expected 0 or 1/);
  });
});

describe('npy corruption', () => {
  const valid = encodeNpy({ dtype: '<f8', shape: [4, 5], data: Float64Array.from({ length: 20 }, (_, i) => i / 3) });
  const read = (bytes: Uint8Array) => formatError(() => decodeNpy(bytes, file)).message;
  const withHeader = (header: string, data = new Uint8Array(8)) => read(npyBytes(header, data));

  it('refuses a file cut anywhere, saying where', () => {
    for (const cut of [0, 5, 9, 10, 40, 127, 128, 129, valid.length - 1]) {
      expect(read(valid.subarray(0, cut)).startsWith(`${file}: `), `cut at ${cut}`).toBe(true);
    }
    expect(read(valid.subarray(0, 5))).toBe(`${file}: the file has 5 bytes, too few for an .npy header (at least 10; truncated or empty?)`);
    expect(read(valid.subarray(0, 40))).toBe(`${file}: the header length field says 118 bytes but only 30 bytes follow it (truncated?)`);
    expect(read(valid.subarray(0, valid.length - 1))).toBe(
      `${file}: the header says <f8 with shape (4, 5), so 20 × 8 = 160 bytes of data, but the file has 159 bytes after the header (truncated?)`,
    );
  });

  it('refuses a wrong magic, an unknown version and trailing bytes', () => {
    expect(read(new TextEncoder().encode('PK\x03\x04 this is a zip'))).toMatch(/does not start with the \.npy magic/);
    const v9 = valid.slice();
    v9[6] = 9;
    expect(read(v9)).toBe(`${file}: .npy format version 9.0 is not supported: expected 1.0, 2.0 or 3.0`);
    expect(read(new Uint8Array([...valid, 0, 0]))).toMatch(/2 bytes after the 160 bytes of data that shape \(4, 5\) needs/);
  });

  it('refuses headers that are not the expected dict', () => {
    expect(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)")).toMatch(/is not a Python dict literal: expected "}" at character/);
    expect(withHeader("['descr', '<f8']")).toMatch(/expected a dict with 'descr', 'fortran_order' and 'shape'/);
    expect(withHeader("{'descr': '<f8', 'shape': (1,), }")).toMatch(/the header dict lacks 'fortran_order': expected exactly/);
    expect(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}")).toMatch(/has unexpected 'extra'/);
    expect(withHeader("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }")).toMatch(/'fortran_order' is 0: expected True or False/);
    expect(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }")).toMatch(/'shape' is \[-1\]: expected a tuple of non-negative integers/);
    expect(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': 8, }")).toMatch(/'shape' is 8/);
    expect(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), } junk")).toMatch(/unexpected "junk" after the dict/);
    expect(withHeader("{'descr': '<f8, 'fortran_order': False}")).toMatch(/not a Python dict literal/);
    expect(withHeader("{'descr': os.system('x')}")).toMatch(/unexpected name os/);
  });

  it('refuses hostile headers: deep nesting and absurd lengths', () => {
    const deep = `{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(40_000)}1${')'.repeat(40_000)}}`;
    expect(read(npyBytes(deep, new Uint8Array(8), 2))).toMatch(/not a Python dict literal: more than 32 nested brackets at character/);
    const huge = valid.slice();
    huge[6] = 2;
    new DataView(huge.buffer).setUint32(8, 4_000_000_000, true);
    expect(read(huge)).toMatch(/the header length field says 4000000000 bytes but only \d+ bytes follow it \(truncated\?\)/);
    const long = npyBytes(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }${' '.repeat(200_000)}`, new Uint8Array(8), 2);
    expect(read(long)).toMatch(/the header length field says \d+ bytes: more than the 100000 any real header needs/);
  });

  it('refuses unsupported dtypes by name', () => {
    expect(withHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }")).toBe(
      `${file}: the dtype '<c8' is not supported: expected one of <f4 <f8 <i8 <i4 <i2 |i1 |u1 <u2 <u4 <u8 |b1 (or their '>' big-endian forms)`,
    );
    expect(withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }")).toMatch(/object array \(pickled Python objects\)/);
    expect(withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")).toMatch(/structured array/);
    expect(withHeader("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }")).toMatch(/has no byte order, but f4 has more than one byte/);
    expect(withHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }")).toMatch(/'<f2' is not supported/);
  });

  it('refuses bool bytes other than 0 and 1', () => {
    expect(withHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([0, 5]))).toMatch(/holds the byte 5 at element 1: expected 0 or 1/);
  });

  it('never throws anything but a FileFormatError, whatever the damage', () => {
    let seed = 99;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let refused = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = valid.slice(0, trial % 5 === 0 ? Math.floor(random() * valid.length) : valid.length);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        const at = Math.floor(random() * Math.min(bytes.length, random() < 0.8 ? 128 : bytes.length));
        if (bytes.length > 0) bytes[at] = Math.floor(random() * 256);
      }
      try {
        decodeNpy(bytes, file);
      } catch (error) {
        expect(error).toBeInstanceOf(FileFormatError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
  });
});

describe('npz', () => {
  const arrays: Record<string, NdArray> = {
    x: { dtype: '<f4', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    y: { dtype: '<i8', shape: [2], data: new BigInt64Array([-1n, 1n]) },
    'nested/name': { dtype: '|u1', shape: [1], data: new Uint8Array([9]) },
  };
  const npz = 'data.npz';

  it('round-trips arrays through a stored zip, deterministically', () => {
    const bytes = encodeNpz(arrays);
    expect(encodeNpz(arrays)).toEqual(bytes);
    const back = decodeNpz(bytes, npz);
    expect(Object.keys(back).sort()).toEqual(Object.keys(arrays).sort());
    for (const [name, array] of Object.entries(arrays)) {
      expect(back[name]!.shape).toEqual(array.shape);
      expect(bytesOf(back[name]!.data)).toEqual(bytesOf(array.data));
    }
    // Stored, not deflated: each entry's .npy bytes appear verbatim in the archive.
    const npy = encodeNpy(arrays.x!);
    expect(Buffer.from(bytes).indexOf(Buffer.from(npy))).toBeGreaterThan(0);
  });

  it('reads deflated entries and skips directory entries', () => {
    const bytes = zipSync({ 'a.npy': [encodeNpy(arrays.x!), { level: 9 }], dir: {} });
    expect(Object.keys(decodeNpz(bytes, npz))).toEqual(['a']);
    expect(decodeNpz(zipSync({}), npz)).toEqual({});
  });

  it('refuses a corrupt or truncated zip, naming the file', () => {
    const bytes = encodeNpz(arrays);
    expect(formatError(() => decodeNpz(new TextEncoder().encode('definitely not a zip archive, just some text'), npz)).message).toMatch(
      /^data\.npz: not a valid \.npz \(zip\) archive: .*before any entry was reached \(truncated or corrupt\?\)$/,
    );
    for (const cut of [0, 10, 100, bytes.length - 30, bytes.length - 1]) {
      expect(formatError(() => decodeNpz(bytes.subarray(0, cut), npz)).file).toBe(npz);
    }
  });

  it('names the entry whose .npy is bad, or that is not an array', () => {
    const bad = zipSync({ 'good.npy': encodeNpy(arrays.x!), 'bad.npy': new Uint8Array([0x93, ...new TextEncoder().encode('NUMPY garbage')]) });
    expect(formatError(() => decodeNpz(bad, npz)).message).toBe(`${npz}: entry "bad.npy": .npy format version 32.103 is not supported: expected 1.0, 2.0 or 3.0`);
    const cut = zipSync({ 'cut.npy': encodeNpy(arrays.x!).subarray(0, 128 + 5) });
    expect(formatError(() => decodeNpz(cut, npz)).message).toMatch(/^data\.npz: entry "cut\.npy": the header says <f4 with shape \(2, 2\).*\(truncated\?\)$/);
    const other = zipSync({ 'readme.txt': new Uint8Array(3) });
    expect(formatError(() => decodeNpz(other, npz)).message).toBe(`${npz}: entry "readme.txt" is not an array: an .npz archive holds only <name>.npy entries`);
  });

  it('names the entry whose compressed data is corrupt', () => {
    const big: NdArray = { dtype: '<f8', shape: [500], data: Float64Array.from({ length: 500 }, (_, i) => Math.sin(i)) };
    const bytes = zipSync({ 'x.npy': [encodeNpy(big), { level: 9 }] });
    for (let at = 60; at < 200; at += 7) bytes[at] = bytes[at]! ^ 0x5a;
    const error = formatError(() => decodeNpz(bytes, npz));
    expect(error.message).toMatch(/^data\.npz: (not a valid \.npz \(zip\) archive: .*the last entry reached was "x\.npy"|entry "x\.npy": )/);
  });

  it('never throws anything but a FileFormatError, whatever the damage', () => {
    const valid = encodeNpz(arrays);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 1000; trial++) {
      const bytes = valid.slice(0, trial % 4 === 0 ? Math.floor(random() * valid.length) : valid.length);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        if (bytes.length > 0) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      try {
        decodeNpz(bytes, npz);
      } catch (error) {
        expect(error).toBeInstanceOf(FileFormatError);
      }
    }
  });

  it('refuses to write an array with an empty name or a bad array, naming it', () => {
    expect(formatError(() => encodeNpz({ '': arrays.x! }, 'out.npz')).message).toMatch(/^out\.npz: an array has an empty name/);
    expect(formatError(() => encodeNpz({ w: { dtype: '<f4', shape: [3], data: new Float32Array(2) } }, 'out.npz')).message).toBe(
      'out.npz: array "w": the shape (3,) has 3 elements but the data holds 2',
    );
  });
});

describe.skipIf(numpy.skip)('npy and npz against NumPy', () => {
  beforeAll(() => numpy.require());

  it('reads what numpy.save, numpy.savez and numpy.savez_compressed write, with exact values and shapes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-npy-'));
    const script = `
import json, os, sys, numpy as np
d = sys.argv[1]
arrays = {
    'f32': (np.arange(12, dtype=np.float32).reshape(3, 4) / 7).astype(np.float32),
    'f64': np.linspace(-1, 1, 12).reshape(2, 3, 2) / 3,
    'labels': np.array([-1, 1, 1, -1, 2**40], dtype=np.int64),
    'big_f8': np.array([1.5, -2.0, np.pi, 1e-300], dtype='>f8'),
    'big_i4': np.array([-2, 256, 2**31 - 1], dtype='>i4'),
    'fortran': np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)),
    'flags': np.array([True, False, True]),
    'bytes': np.array([0, 200, 255], dtype=np.uint8),
    'i8': np.array([-128, 127], dtype=np.int8),
    'i16': np.array([-300, 300], dtype=np.int16),
    'u16': np.array([65535], dtype=np.uint16),
    'u32': np.array([2**32 - 1], dtype=np.uint32),
    'u64': np.array([2**53], dtype=np.uint64),
    'scalar': np.array(2.5),
    'empty': np.zeros((0, 3), dtype=np.float32),
}
expected = {}
for name, a in arrays.items():
    np.save(os.path.join(d, name + '.npy'), a)
    expected[name] = {'descr': a.dtype.newbyteorder('<').str, 'shape': list(a.shape), 'values': np.ascontiguousarray(a).ravel().tolist()}
for version in [(2, 0), (3, 0)]:
    with open(os.path.join(d, 'v%d.npy' % version[0]), 'wb') as f:
        np.lib.format.write_array(f, arrays['f64'], version=version)
np.savez(os.path.join(d, 'plain.npz'), x=arrays['f32'], y=arrays['labels'])
np.savez_compressed(os.path.join(d, 'packed.npz'), x=arrays['f32'], y=arrays['labels'], M=arrays['f64'])
assert np.load(os.path.join(d, 'fortran.npy')).flags.f_contiguous
print(json.dumps(expected))
`;
    const expected = JSON.parse(python(script, dir)) as Record<string, { descr: string; shape: number[]; values: (number | boolean)[] }>;
    for (const [name, want] of Object.entries(expected)) {
      const array = decodeNpy(readFileSync(join(dir, `${name}.npy`)), `${name}.npy`);
      expect(array.dtype, name).toBe(want.descr);
      expect(array.shape, name).toEqual(want.shape);
      expect(numbers(array.data), name).toEqual(want.values.map(Number));
    }
    for (const version of ['v2', 'v3']) {
      const array = decodeNpy(readFileSync(join(dir, `${version}.npy`)), version);
      expect(array.shape).toEqual([2, 3, 2]);
      expect(numbers(array.data)).toEqual(expected.f64!.values);
    }
    for (const archive of ['plain.npz', 'packed.npz']) {
      const read = decodeNpz(readFileSync(join(dir, archive)), archive);
      expect(numbers(read.x!.data)).toEqual(expected.f32!.values);
      expect(read.x!.shape).toEqual([3, 4]);
      expect(read.y!.data).toBeInstanceOf(BigInt64Array);
      expect(numbers(read.y!.data)).toEqual(expected.labels!.values);
    }
    expect(numbers(decodeNpz(readFileSync(join(dir, 'packed.npz')), 'packed.npz').M!.data)).toEqual(expected.f64!.values);
  });

  it('writes .npy and .npz files that numpy.load reads exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-npy-'));
    const finite = everyDtype.filter((a) => a.dtype !== '<f4' || a.shape.length !== 2 || a.shape[0] !== 2);
    finite.forEach((array, i) => writeFileSync(join(dir, `a${i}.npy`), encodeNpy(array)));
    writeFileSync(join(dir, 'all.npz'), encodeNpz(Object.fromEntries(finite.map((array, i) => [`a${i}`, array]))));
    const script = `
import json, os, sys, numpy as np
d, count = sys.argv[1], int(sys.argv[2])
def describe(a):
    return {'descr': a.dtype.str, 'shape': list(a.shape), 'values': [str(v) for v in a.ravel().tolist()], 'c': bool(a.flags.c_contiguous)}
single = [describe(np.load(os.path.join(d, 'a%d.npy' % i), allow_pickle=False)) for i in range(count)]
with np.load(os.path.join(d, 'all.npz'), allow_pickle=False) as z:
    archive = {name: describe(z[name]) for name in z.files}
print(json.dumps({'single': single, 'archive': archive}))
`;
    const read = JSON.parse(python(script, dir, String(finite.length))) as {
      single: { descr: string; shape: number[]; values: string[]; c: boolean }[];
      archive: Record<string, { descr: string; shape: number[]; values: string[] }>;
    };
    const asPython = (array: NdArray) =>
      Array.from(array.data as ArrayLike<number | bigint>, (v) => {
        if (array.dtype === '|b1') return v ? 'True' : 'False';
        if (typeof v === 'bigint') return v.toString();
        if (array.dtype === '<f4' || array.dtype === '<f8') return Object.is(v, -0) ? '-0.0' : null; // compared as numbers
        return String(v);
      });
    finite.forEach((array, i) => {
      for (const got of [read.single[i]!, read.archive[`a${i}`]!]) {
        expect(got.descr, `a${i}`).toBe(array.dtype);
        expect(got.shape, `a${i}`).toEqual(array.shape);
        const want = asPython(array);
        got.values.forEach((value, k) => {
          if (want[k] === null) expect(Number(value), `a${i}[${k}]`).toBe(Number(array.data[k]));
          else expect(value, `a${i}[${k}]`).toBe(want[k]);
        });
      }
      expect(read.single[i]!.c).toBe(true);
    });
  });
});
