/**
 * Issue 11, items 4 and 9: weights are checked on read. Every tensor must be finite (a NaN model
 * evaluated to "clean 0.000, robust 1.000"), the model card is checked with its schema (missing
 * and unknown fields listed by name, numbers in the experiment's ranges), and a folder given as a
 * file is named, with what was expected, never a bare EISDIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { readDatasetFile, writeDatasetFile } from '../../main/lab/formats/datasetFile.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { readInputFile } from '../../main/lab/formats/inputFile.ts';
import { encodeSafetensors, type NamedTensor } from '../../main/lab/formats/safetensors.ts';
import { decodeWeights, encodeWeights, modelCard, type ModelCard } from '../../main/lab/weightsFile.ts';
import { thrownBy } from '../support/thrown.ts';

const file = 'model.safetensors';
const m = 3;
const d = 4;
const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: m, threshold: { mode: 'fixed', value: 0.1 } } }).model, d, {
  configHash: 'abc',
  codeVersion: 'test',
  checkpoint: 'final',
});
const W = Float32Array.from({ length: m * d }, (_, k) => 0.1 * (k - 5));
const b = new Float32Array(m).fill(0.1);

/** The message of the FileFormatError `read` throws (failing the test if it throws anything else, or nothing). */
const problem = (read: () => unknown): string => thrownBy(FileFormatError, read).message;

/** A weights file with the given tensors and the model card as this JSON value. */
function withCard(cardValue: unknown, tensors: Record<string, NamedTensor> = { W: { dtype: 'F32', shape: [m, d], data: W }, b: { dtype: 'F32', shape: [m], data: b } }): Uint8Array {
  return encodeSafetensors(tensors, { model_card: JSON.stringify(cardValue) });
}

describe('weights on read', () => {
  it('round-trips a valid file', () => {
    const read = decodeWeights(encodeWeights(card, W, b), file);
    expect(read).toMatchObject({ width: m, inputDim: d, card });
    expect(Array.from(read.W)).toEqual(Array.from(W));
  });

  it('refuses NaN and infinite values in W, a and b, naming the file and the entry', () => {
    const bad = (values: Float32Array, at: number, value: number) => {
      const copy = Float32Array.from(values);
      copy[at] = value;
      return copy;
    };
    expect(problem(() => decodeWeights(encodeWeights(card, bad(W, 6, NaN), b), file))).toBe(`${file}: W[1, 2] is NaN: every entry of W must be a finite number`);
    expect(problem(() => decodeWeights(encodeWeights(card, bad(W, 0, -Infinity), b), file))).toBe(`${file}: W[0, 0] is -Infinity: every entry of W must be a finite number`);
    expect(problem(() => decodeWeights(encodeWeights(card, W, bad(b, 2, Infinity)), file))).toBe(`${file}: b[2] is Infinity: every entry of b must be a finite number`);
    const a: NamedTensor = { dtype: 'F32', shape: [m], data: Float32Array.from([NaN, NaN, NaN]) };
    expect(problem(() => decodeWeights(withCard(card, { W: { dtype: 'F32', shape: [m, d], data: W }, a, b: { dtype: 'F32', shape: [m], data: b } }), file))).toBe(
      `${file}: a[0] is NaN: every entry of a must be a finite number`,
    );
    // F64 values beyond float32 would become infinite: named with their value.
    const big = Float64Array.from(W, (v, k) => (k === 3 ? 1e300 : v));
    expect(problem(() => decodeWeights(withCard(card, { W: { dtype: 'F64', shape: [m, d], data: big }, b: { dtype: 'F32', shape: [m], data: b } }), file))).toBe(
      `${file}: W[0, 3] = 1e+300 does not fit in float32 (largest about 3.4e38)`,
    );
    expect(problem(() => decodeWeights(encodeWeights(card, W, bad(b, 1, -0.5)), file))).toBe(`${file}: b[1] = -0.5: a threshold must be >= 0`);
  });

  it('checks the model card: out-of-range numbers, missing and unknown fields, each named', () => {
    expect(problem(() => decodeWeights(withCard({ ...card, thresholdRatio: -5 }), file))).toBe(
      `${file}: the model card is not valid: thresholdRatio = -5: Too small: expected number to be >=0`,
    );
    const { width: _width, ...withoutWidth } = card;
    void _width;
    expect(problem(() => decodeWeights(withCard(withoutWidth), file))).toBe(`${file}: the model card is not valid: missing field width`);
    const { inputDim: _inputDim, configHash: _hash, ...twoMissing } = card;
    void _inputDim;
    void _hash;
    expect(problem(() => decodeWeights(withCard({ ...twoMissing, colour: 'red', size: 1 }), file))).toBe(
      `${file}: the model card is not valid: missing fields inputDim, configHash; unknown fields colour, size`,
    );
    expect(problem(() => decodeWeights(withCard({ ...card, architecture: 'mlp' }), file))).toBe(`${file}: the model card describes a "mlp" model: expected two-layer`);
    expect(problem(() => decodeWeights(withCard([1, 2]), file))).toMatch(/^model\.safetensors: the model card is not valid: \(the card\) = \[1,2\]: expected object/);
    const ok: ModelCard = { ...card, thresholdRatio: 10 };
    expect(decodeWeights(withCard(ok), file).card).toEqual(ok);
  });
});

describe('a folder given as a file', () => {
  it('is named, with a file expected (weights and datasets)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-folder-'));
    const folder = join(dir, 'weights.safetensors');
    mkdirSync(folder);
    expect(problem(() => readInputFile(folder, 'the weights'))).toBe(`${folder}: cannot read the weights: this is a folder (or another non-file); expected a file`);
    const dataFolder = join(dir, 'data.npz');
    mkdirSync(dataFolder);
    expect(problem(() => readDatasetFile(dataFolder))).toBe(`${dataFolder}: cannot read the dataset: this is a folder (or another non-file); expected a file`);
  });
});

describe('lab eval', () => {
  it('refuses NaN weights (it reported clean 0.000 and robust 1.000), naming the file and the entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-eval-nan-'));
    const weights = join(dir, 'nan.safetensors');
    const nan = Float32Array.from(W);
    nan[5] = NaN;
    writeFileSync(weights, encodeWeights(card, nan, b));
    const data = join(dir, 'data.npz');
    writeDatasetFile(data, { x: Float32Array.from({ length: 8 * d }, (_, k) => Math.sin(k)), y: Float32Array.from({ length: 8 }, (_, i) => (i % 2 ? 1 : -1)), n: 8, d, labelKind: 'binary', classes: 2 });
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'eval', '--weights', weights, '--data', data], {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PURIFICATION_LAB_STORE: mkdtempSync(join(tmpdir(), 'lab-eval-store-')) },
    });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${weights}: W[1, 1] is NaN: every entry of W must be a finite number`);
    expect(result.stdout).not.toMatch(/clean accuracy/);
  });
});
