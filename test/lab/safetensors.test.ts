/**
 * The safetensors codec against the format: the byte layout read back by hand, round trips of
 * every writable dtype, every kind of corruption refused with a FileFormatError that names the file
 * and the problem, and (with the Python that has NumPy) files exchanged with an independent reader and
 * writer made of struct + json + numpy.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../main/lab/formats/safetensors.ts';
import { bytesOf } from '../support/bytes.ts';
import { numpy, python } from '../support/numpy.ts';
import { thrownBy } from '../support/thrown.ts';

const file = 'weights.safetensors';

/** The FileFormatError `read` throws (failing the test if it throws anything else, or nothing). */
const formatError = (read: () => unknown) => thrownBy(FileFormatError, read);

/** A file built by hand from header text and data bytes, padded like the reference writer. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  const json = new TextEncoder().encode(header);
  const size = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = new Uint8Array(8 + size + data.length).fill(0x20, 8, 8 + size);
  new DataView(out.buffer).setBigUint64(0, BigInt(size), true);
  out.set(json, 8);
  out.set(data, 8 + size);
  return out;
}

function headerOf(bytes: Uint8Array): { size: number; text: string } {
  const size = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { size, text: new TextDecoder().decode(bytes.subarray(8, 8 + size)) };
}

describe('safetensors layout', () => {
  it('matches the reference serialiser byte for byte', () => {
    const single = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // already a multiple of 8: no padding
    expect(headerOf(single)).toEqual({ size: 64, text: header });
    expect(single.subarray(72)).toEqual(bytesOf(new Float32Array([0, 1, 2, 3, 4, 5])));

    const empty = encodeSafetensors({});
    expect([...empty]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}      ')]);
    const withMetadata = encodeSafetensors({}, { framework: 'pt' });
    expect(headerOf(withMetadata)).toEqual({ size: 40, text: '{"__metadata__":{"framework":"pt"}}     ' });
  });

  it('has an 8-byte-aligned header, contiguous aligned offsets in reference order, and little-endian data', () => {
    const tensors: Record<string, NamedTensor> = {
      b: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, 1e-30, -7]) },
      a: { dtype: 'F32', shape: [3], data: new Float32Array([0.1, 0.2, 0.3]) },
      d: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      c: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 2n ** 40n + 1n]) },
      f: { dtype: 'I32', shape: [2], data: new Int32Array([-5, 2 ** 31 - 1]) },
      e: { dtype: 'F64', shape: [1], data: new Float64Array([Math.PI]) },
      '10': { dtype: 'U8', shape: [1], data: new Uint8Array([9]) },
    };
    const bytes = encodeSafetensors(tensors, { zeta: 'last', alpha: 'first' });
    const { size, text } = headerOf(bytes);
    expect((8 + size) % 8).toBe(0);
    expect(text.trimEnd().length).toBeLessThanOrEqual(size);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    // Keys in the raw text, in order: metadata first (its keys sorted), then by descending
    // alignment (I64, F64, F32, I32, U8) and by name within a dtype, "10" included.
    const keys = [...text.matchAll(/"([^"]+)":\{/g)].map((m) => m[1]);
    expect(keys).toEqual(['__metadata__', 'c', 'e', 'a', 'b', 'f', '10', 'd']);
    expect(text.indexOf('"alpha"')).toBeLessThan(text.indexOf('"zeta"'));

    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    expect(header.__metadata__).toEqual({ alpha: 'first', zeta: 'last' });
    const data = bytes.subarray(8 + size);
    let at = 0;
    for (const name of keys.slice(1) as string[]) {
      const entry = header[name]!;
      const tensor = tensors[name]!;
      const [begin, end] = entry.data_offsets;
      expect(begin, name).toBe(at);
      expect(begin % tensor.data.BYTES_PER_ELEMENT, `${name} is aligned`).toBe(0);
      expect(entry.dtype).toBe(tensor.dtype);
      expect(entry.shape).toEqual(tensor.shape);
      const view = new DataView(data.buffer, data.byteOffset + begin, end - begin);
      const read = Array.from({ length: tensor.data.length }, (_, i) => {
        switch (tensor.dtype) {
          case 'F32':
            return view.getFloat32(4 * i, true);
          case 'F64':
            return view.getFloat64(8 * i, true);
          case 'I64':
            return view.getBigInt64(8 * i, true);
          case 'I32':
            return view.getInt32(4 * i, true);
          default:
            return view.getUint8(i);
        }
      });
      expect(read, name).toEqual([...tensor.data]);
      at = end;
    }
    expect(at).toBe(data.length);
  });

  it('round-trips every writable dtype, odd shapes, special values and metadata', () => {
    const tensors: Record<string, NamedTensor> = {
      f64: { dtype: 'F64', shape: [2, 2], data: new Float64Array([Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE]) },
      f32: { dtype: 'F32', shape: [2, 1, 2], data: new Float32Array([NaN, Infinity, -Infinity, 1 / 3]) },
      i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]) },
      i32: { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
      i16: { dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) },
      i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
      u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
      flags: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      scalar: { dtype: 'F64', shape: [], data: new Float64Array([2.5]) },
    };
    const metadata = { format: 'pt', note: 'ünïcødé "quoted"\n', '0': 'integer-like key' };
    const { tensors: back, metadata: metaBack } = decodeSafetensors(encodeSafetensors(tensors, metadata), file);
    expect(metaBack).toEqual(metadata);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(back[name]!.dtype, name).toBe(tensor.dtype);
      expect(back[name]!.shape, name).toEqual(tensor.shape);
      expect(back[name]!.data.constructor, name).toBe(tensor.data.constructor);
      expect(bytesOf(back[name]!.data), name).toEqual(bytesOf(tensor.data));
    }
  });

  it('writes subarray views (non-zero byteOffset) correctly and leaves the input alone', () => {
    const whole = new Float32Array([9, 1, 2, 3, 9]);
    const bytes = encodeSafetensors({ v: { dtype: 'F32', shape: [3], data: whole.subarray(1, 4) } });
    expect([...decodeSafetensors(bytes, file).tensors.v!.data]).toEqual([1, 2, 3]);
    expect([...whole]).toEqual([9, 1, 2, 3, 9]);
  });

  it('reads without touching the bytes, and returns data that does not alias them', () => {
    const bytes = encodeSafetensors({ v: { dtype: 'I32', shape: [2], data: new Int32Array([7, 8]) } });
    const copy = bytes.slice();
    const { tensors } = decodeSafetensors(bytes, file);
    expect(bytes).toEqual(copy);
    bytes.fill(0, 16);
    expect([...tensors.v!.data]).toEqual([7, 8]);
  });

  it('reads a file whose header is not padded and whose tensors are in any order', () => {
    const data = new Uint8Array([...bytesOf(new Int32Array([5])), 1, 2]);
    const bytes = rawFile('{"u":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"i":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"__metadata__":null}', data, false);
    const { tensors, metadata } = decodeSafetensors(bytes, file);
    expect(metadata).toEqual({});
    expect([...tensors.i!.data]).toEqual([5]);
    expect([...tensors.u!.data]).toEqual([1, 2]);
    // A Node Buffer at an odd offset in a shared pool reads the same.
    const pooled = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    expect([...decodeSafetensors(pooled, file).tensors.i!.data]).toEqual([5]);
  });

  it('widens F16 and BF16 to float32 exactly (subnormals, infinities, signed zero, NaN)', () => {
    const halves = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00];
    const halfValues = [1, -2, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, -0, 0.333251953125, NaN];
    const brains = [0x3f80, 0xc040, 0x7f80, 0x3dcc, 0x0001];
    const brainBits = new Uint32Array(brains.map((b) => b << 16));
    const bytes = rawFile(
      '{"h":{"dtype":"F16","shape":[10],"data_offsets":[0,20]},"b":{"dtype":"BF16","shape":[5],"data_offsets":[20,30]}}',
      new Uint8Array([...bytesOf(new Uint16Array(halves)), ...bytesOf(new Uint16Array(brains))]),
    );
    const { tensors } = decodeSafetensors(bytes, file);
    expect(tensors.h!.dtype).toBe('F32');
    expect(tensors.h!.data).toBeInstanceOf(Float32Array);
    expect([...tensors.h!.data]).toEqual(halfValues);
    expect(Object.is(tensors.h!.data[7], -0)).toBe(true);
    expect(new Uint32Array(tensors.b!.data.buffer)).toEqual(brainBits);
  });

  it('refuses to write what it cannot write faithfully', () => {
    const write = (tensor: NamedTensor, name = 't') => formatError(() => encodeSafetensors({ [name]: tensor }, undefined, 'out.safetensors'));
    expect(write({ dtype: 'F32', shape: [2], data: new Float64Array(2) }).message).toBe(
      'out.safetensors: tensor "t" is F32 but its data is a Float64Array: F32 needs a Float32Array',
    );
    expect(write({ dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }).message).toMatch(/shape \[2, 2\] = 4 elements but its data holds 3/);
    expect(write({ dtype: 'F32', shape: [-1], data: new Float32Array(0) }).message).toMatch(/non-negative integers/);
    expect(write({ dtype: 'F16', shape: [1], data: new Float32Array(1) }).message).toMatch(/convert to F32/);
    expect(write({ dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 2]) }).message).toMatch(/holds 2 at element 1: expected 0 or 1/);
    expect(write({ dtype: 'U8', shape: [1], data: new Uint8Array(1) }, '__metadata__').message).toMatch(/cannot be named "__metadata__"/);
    expect(write({ dtype: 'Q8' as 'U8', shape: [1], data: new Uint8Array(1) }).message).toMatch(/dtype Q8: expected one of/);
    expect(formatError(() => encodeSafetensors({}, { n: 3 as unknown as string })).message).toMatch(/metadata "n" is the number 3: metadata values must be strings/);
  });
});

describe('safetensors corruption', () => {
  const valid = encodeSafetensors(
    {
      W: { dtype: 'F32', shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => i) },
      b: { dtype: 'I64', shape: [4], data: new BigInt64Array([1n, 2n, 3n, 4n]) },
    },
    { epoch: '3' },
  );
  const headerSize = headerOf(valid).size;

  it('refuses a file cut anywhere, saying where', () => {
    const messages = [0, 3, 7, 8, 9, 8 + headerSize / 2, 8 + headerSize, 8 + headerSize + 1, valid.length - 1].map(
      (cut) => formatError(() => decodeSafetensors(valid.subarray(0, cut), file)).message,
    );
    for (const message of messages) expect(message.startsWith(`${file}: `)).toBe(true);
    expect(messages[0]).toBe(`${file}: the file has 0 bytes, fewer than the 8-byte header length that starts every safetensors file (truncated or empty?)`);
    expect(messages[4]).toBe(`${file}: the first 8 bytes say the JSON header is ${headerSize} bytes long but only 1 bytes follow them (truncated, or not a safetensors file?)`);
    // Cut in the data: the header is intact and the last tensor (F32 "W", laid out after I64 "b") runs past the end.
    expect(messages[8]).toBe(`${file}: the header says tensor "W" ends at byte 160 but the file has 159 bytes of data (truncated?)`);
  });

  it('refuses a header length larger than the file, or absurd', () => {
    const bytes = valid.slice();
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n + 5n, true);
    expect(formatError(() => decodeSafetensors(bytes, file)).message).toMatch(/say the JSON header is 9223372036854775813 bytes long but only \d+ bytes follow/);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(valid.length), true);
    expect(formatError(() => decodeSafetensors(bytes, file)).message).toMatch(/bytes long but only \d+ bytes follow/);
  });

  it('refuses a header that is not a UTF-8 JSON object', () => {
    expect(formatError(() => decodeSafetensors(rawFile('{"W": {"dtype": "F32",'), file)).message).toMatch(/^weights\.safetensors: the header is not valid JSON: /);
    expect(formatError(() => decodeSafetensors(rawFile('not json at all'), file)).message).toMatch(/the header starts with "not json at all ?": expected a JSON object/);
    expect(formatError(() => decodeSafetensors(rawFile('[1, 2]'), file)).message).toMatch(/expected a JSON object/);
    const bad = rawFile('{"x":1}');
    bad[10] = 0xff;
    expect(formatError(() => decodeSafetensors(bad, file)).message).toMatch(/not valid UTF-8/);
  });

  it('refuses hostile headers (deep nesting, control characters) with a readable message', () => {
    const deep = `{"W":{"dtype":"F32","shape":${'['.repeat(100_000)}${']'.repeat(100_000)},"data_offsets":[0,0]}}`;
    expect(formatError(() => decodeSafetensors(rawFile(deep), file)).message).toMatch(/tensor "W" has shape \[\.\.\.\] \(nested too deeply to show\)/);
    const odd = formatError(() => decodeSafetensors(rawFile('{"a\\nb":{"dtype":"X"}}'), file)).message;
    expect(odd).toBe(`${file}: tensor "a\\nb" lacks "shape" and "data_offsets": each tensor needs "dtype", "shape" and "data_offsets"`);
  });

  it('refuses bad metadata', () => {
    expect(formatError(() => decodeSafetensors(rawFile('{"__metadata__":{"epochs":3}}'), file)).message).toBe(
      `${file}: __metadata__ "epochs" is the number 3: metadata values must be strings`,
    );
    expect(formatError(() => decodeSafetensors(rawFile('{"__metadata__":[1]}'), file)).message).toMatch(/__metadata__ is the array \[1\]: expected an object/);
  });

  it('refuses unknown and unsupported dtypes, naming the tensor', () => {
    expect(formatError(() => decodeSafetensors(rawFile('{"W":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', new Uint8Array(16)), file)).message).toMatch(
      /tensor "W" has dtype "F128", which is not a safetensors dtype: expected one of F64, F32, .*BOOL/,
    );
    expect(formatError(() => decodeSafetensors(rawFile('{"W":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)), file)).message).toMatch(
      /tensor "W" has dtype "U16", which is a safetensors dtype this reader does not support/,
    );
    expect(formatError(() => decodeSafetensors(rawFile('{"W":{"dtype":7,"shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)), file)).message).toMatch(/dtype the number 7/);
  });

  it('refuses malformed shapes and offsets', () => {
    const entry = (json: string, data = 8) => formatError(() => decodeSafetensors(rawFile(`{"W":${json}}`, new Uint8Array(data)), file)).message;
    expect(entry('{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}')).toMatch(/shape \[-2\]: expected a list of non-negative integers/);
    expect(entry('{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}')).toMatch(/shape \[1.5\]/);
    expect(entry('{"dtype":"F32","shape":"2","data_offsets":[0,8]}')).toMatch(/shape the string "2"/);
    expect(entry('{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}')).toMatch(/product is at most 2\^53/);
    expect(entry('{"dtype":"F32","shape":[2],"data_offsets":[0]}')).toMatch(/data_offsets the array \[0\]: expected \[begin, end\]/);
    expect(entry('{"dtype":"F32","shape":[2],"data_offsets":[8,0]}')).toMatch(/data_offsets \[8, 0\]: the end is before the begin/);
    expect(entry('{"dtype":"F32","shape":[2]}')).toBe(`${file}: tensor "W" lacks "data_offsets": each tensor needs "dtype", "shape" and "data_offsets"`);
    expect(entry('[1]')).toMatch(/the header entry for tensor "W" is the array \[1\]/);
  });

  it('refuses a shape that does not match the offsets', () => {
    expect(formatError(() => decodeSafetensors(rawFile('{"W":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), file)).message).toBe(
      `${file}: tensor "W" is F32 with shape [3], so it needs 3 × 4 = 12 bytes, but its data_offsets [0, 8] span 8 bytes`,
    );
  });

  it('refuses overlapping tensors, gaps, tensors past the end and trailing bytes', () => {
    const two = (a: string, b: string, data: number) =>
      formatError(() => decodeSafetensors(rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":${a}},"b":{"dtype":"U8","shape":[4],"data_offsets":${b}}}`, new Uint8Array(data)), file))
        .message;
    expect(two('[0,4]', '[2,6]', 6)).toBe(`${file}: tensors "a" (bytes 0..4) and "b" (bytes 2..6) overlap: tensors must not share bytes`);
    expect(two('[0,4]', '[0,4]', 4)).toMatch(/overlap/);
    expect(two('[0,4]', '[6,10]', 10)).toBe(`${file}: no tensor covers data bytes 4..6 (a gap before "b"): the tensors must fill the data buffer contiguously`);
    expect(two('[2,6]', '[6,10]', 10)).toMatch(/no tensor covers data bytes 0..2/);
    expect(two('[0,4]', '[4,8]', 6)).toBe(`${file}: the header says tensor "b" ends at byte 8 but the file has 6 bytes of data (truncated?)`);
    expect(two('[0,4]', '[4,8]', 11)).toBe(`${file}: the tensors cover 8 bytes of data but 11 bytes follow the header: 3 trailing bytes that belong to no tensor`);
    expect(formatError(() => decodeSafetensors(rawFile('{}', new Uint8Array(1)), file)).message).toMatch(/1 trailing bytes/);
  });

  it('refuses BOOL bytes other than 0 and 1', () => {
    expect(formatError(() => decodeSafetensors(rawFile('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', new Uint8Array([1, 7])), file)).message).toMatch(
      /BOOL tensor "m" holds the byte 7 at element 1: expected 0 or 1/,
    );
  });

  it('never throws anything but a FileFormatError, whatever the damage', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let refused = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = valid.slice(0, trial % 5 === 0 ? Math.floor(random() * valid.length) : valid.length);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        // Bias the damage towards the length field and the header, where parsing happens.
        const at = Math.floor(random() * Math.min(bytes.length, random() < 0.7 ? 8 + headerSize : bytes.length));
        if (bytes.length > 0) bytes[at] = Math.floor(random() * 256);
      }
      try {
        decodeSafetensors(bytes, file);
      } catch (error) {
        expect(error).toBeInstanceOf(FileFormatError);
        expect((error as FileFormatError).file).toBe(file);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
  });
});

describe.skipIf(numpy.skip)('safetensors against an independent Python reader and writer', () => {
  beforeAll(() => numpy.require());

  it('writes a file that struct + json + numpy read back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-safetensors-'));
    const path = join(dir, 'out.safetensors');
    const tensors: Record<string, NamedTensor> = {
      W: { dtype: 'F32', shape: [2, 3], data: new Float32Array([0.1, -0.2, 1e-20, 3.4e38, -0, 7]) },
      M: { dtype: 'F64', shape: [3, 1], data: new Float64Array([Math.PI, -Math.E, 1e-300]) },
      steps: { dtype: 'I64', shape: [2], data: new BigInt64Array([2n ** 52n + 1n, -3n]) },
      y: { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
      pixels: { dtype: 'U8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
    };
    writeFileSync(path, encodeSafetensors(tensors, { source: 'typescript' }));
    const script = `
import json, struct, sys, numpy as np
data = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', data[:8])
assert (8 + n) % 8 == 0
header = json.loads(data[8:8 + n].decode('utf-8'))
meta = header.pop('__metadata__', {})
kinds = {'F64': '<f8', 'F32': '<f4', 'I64': '<i8', 'I32': '<i4', 'U8': 'u1'}
out, end = {}, 0
for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
    b, e = info['data_offsets']
    assert b == end, (name, b, end)
    end = e
    a = np.frombuffer(data[8 + n + b:8 + n + e], dtype=kinds[info['dtype']]).reshape(info['shape'])
    out[name] = {'dtype': info['dtype'], 'shape': list(a.shape), 'values': a.ravel().tolist()}
assert 8 + n + end == len(data)
print(json.dumps({'metadata': meta, 'tensors': out}))
`;
    const read = JSON.parse(python(script, path)) as { metadata: unknown; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> };
    expect(read.metadata).toEqual({ source: 'typescript' });
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(read.tensors[name]!.dtype).toBe(tensor.dtype);
      expect(read.tensors[name]!.shape).toEqual(tensor.shape);
      const expected = Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Number(v));
      expect(read.tensors[name]!.values, name).toEqual(expected);
    }
  });

  it('reads a file written by hand in Python, F16 and BF16 included, bit for bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-safetensors-'));
    const path = join(dir, 'from-python.safetensors');
    const script = `
import json, struct, sys, numpy as np
f32 = np.array([1, -3, 0.1, 1e30, 3.0e-39], dtype='<f4')
tensors = {
    'weights': np.arange(12, dtype='<f4').reshape(3, 4) / 7,
    'bias': np.array([1.5, -2.25, 1 / 3], dtype='<f8'),
    'steps': np.array([2**40 + 1, -3], dtype='<i8'),
    'small': np.array([-7, 300], dtype='<i2'),
    'tiny': np.array([-128, 5], dtype='i1'),
    'mask': np.array([True, False, True]),
    'labels': np.array([0, 3, 255], dtype='u1'),
    'half': np.array([1, -2, 6e-8, 65504, 0.1, -0.0, 1e-5], dtype='<f2'),
    'brain': (f32.view('<u4') >> 16).astype('<u2'),
}
dtypes = {'<f4': 'F32', '<f8': 'F64', '<i8': 'I64', '<i2': 'I16', '|i1': 'I8', '|b1': 'BOOL', '|u1': 'U8', '<f2': 'F16', '<u2': 'BF16'}
header, blobs, offset = {'__metadata__': {'writer': 'numpy'}}, [], 0
for name in sorted(tensors):  # plain name order, as older writers did
    a = tensors[name]
    raw = a.tobytes()
    header[name] = {'dtype': dtypes[a.dtype.str], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
    blobs.append(raw)
    offset += len(raw)
text = json.dumps(header).encode('utf-8')
text += b' ' * (-len(text) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
expected = {name: {'shape': list(a.shape), 'values': a.ravel().tolist()} for name, a in tensors.items() if name not in ('half', 'brain')}
expected['half'] = {'shape': [7], 'hex': tensors['half'].astype('<f4').tobytes().hex()}
expected['brain'] = {'shape': [5], 'hex': (tensors['brain'].astype('<u4') << 16).tobytes().hex()}
print(json.dumps(expected))
`;
    const expected = JSON.parse(python(script, path)) as Record<string, { shape: number[]; values?: (number | boolean)[]; hex?: string }>;
    const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
    expect(metadata).toEqual({ writer: 'numpy' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const tensor = tensors[name]!;
      expect(tensor.shape, name).toEqual(want.shape);
      if (want.hex !== undefined) {
        expect(tensor.dtype).toBe('F32');
        expect(Buffer.from(bytesOf(tensor.data)).toString('hex'), name).toBe(want.hex);
      } else {
        expect(Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Number(v)), name).toEqual(want.values!.map(Number));
      }
    }
    expect(tensors.steps!.data).toBeInstanceOf(BigInt64Array);
    expect(tensors.mask!.dtype).toBe('BOOL');
  });
});
