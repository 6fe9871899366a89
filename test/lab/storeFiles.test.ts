/**
 * Issue 12: adding weights and datasets to the store is one lab function, called by File >
 * Import (a path), browser mode (uploaded bytes with a name) and `lab files add`. Bytes pass the
 * same check as a path: finite tensors, a valid model card, a dataset with x and y; a refusal
 * names the file and keeps nothing. `lab files` lists what was added; the CLI runs as a child
 * process once, for the real argv and exit codes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { resolveSparseCoding } from '../../shared/config.ts';
import { writeDatasetFile } from '../../main/lab/formats/datasetFile.ts';
import { encodeNpz } from '../../main/lab/formats/npz.ts';
import { encodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { addStoreFile, addStoreFileBytes, checkStoreFile, listStoreFiles } from '../../main/lab/storeFiles.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';
import { labInProcess } from '../support/labCli.ts';

const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: 2 } }).model, 3, { configHash: 'h', codeVersion: 'v', checkpoint: 'final' });
const W = Float32Array.from([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);
const weights = encodeWeights(card, W, null);
const nanWeights = encodeWeights(card, Float32Array.from(W, (v, k) => (k === 4 ? NaN : v)), null);

let store: RunStore;
let dir: string;
beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-store-files-')));
  dir = mkdtempSync(join(tmpdir(), 'lab-store-files-in-'));
});
afterEach(() => store.close());

const refusal = (act: () => unknown): ApiError => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the file to be refused');
};
const imported = () => (existsSync(join(store.dir, 'imports')) ? readdirSync(join(store.dir, 'imports')) : []);

describe('storeFiles', () => {
  it('adds uploaded weights under the time added, with what they hold', () => {
    const added = addStoreFileBytes(store, 'model.safetensors', weights, new Date('2026-12-05T05:06:07Z'));
    expect(added).toMatchObject({ kind: 'weights', original: 'model.safetensors', file: join(store.dir, 'imports', '20261205-050607-model.safetensors') });
    expect(added.summary).toMatch(/^two-layer weights: W \[2, 3\] \(m = 2 neurons, d = 3\), thresholds /);
    expect(new Uint8Array(readFileSync(added.file))).toEqual(weights);
  });

  it('adds an MLP saved from PyTorch (fc1.*, fc2.*), as safetensors or npz, and refuses a broken one naming the tensor', () => {
    const tensors = {
      'fc1.weight': { shape: [4, 3], data: new Float32Array(12).fill(0.1) },
      'fc1.bias': { shape: [4], data: new Float32Array(4) },
      'fc2.weight': { shape: [2, 4], data: new Float32Array(8).fill(-0.2) },
      'fc2.bias': { shape: [2], data: new Float32Array(2) },
    };
    const safetensors = encodeSafetensors(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: 'F32' as const, ...t }])));
    const npz = encodeNpz(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: '<f4' as const, ...t }])));
    const summary = 'MLP weights (PyTorch names): fc1.weight [4, 3], fc2.weight [2, 4] (d = 3, m = 4, 2 classes), no model card (ReLU unless --set model.activation says otherwise)';
    expect(addStoreFileBytes(store, 'own.safetensors', safetensors)).toMatchObject({ kind: 'weights', summary });
    expect(addStoreFileBytes(store, 'own.npz', npz)).toMatchObject({ kind: 'weights', summary });
    const broken = encodeSafetensors({ 'fc1.weight': { dtype: 'F32', shape: [4, 3], data: new Float32Array(12) } });
    expect(refusal(() => addStoreFileBytes(store, 'broken.safetensors', broken)).message).toBe(
      'broken.safetensors has MLP tensors (fc1.*, fc2.*) that cannot be read: broken.safetensors: no tensors "fc1.bias", "fc2.weight", "fc2.bias": the MLP needs fc1.weight, fc1.bias, fc2.weight, fc2.bias',
    );
    expect(imported()).toHaveLength(2);
  });

  it('checks bytes exactly as a path: NaN weights are refused naming the file, nothing kept', () => {
    const path = join(dir, 'nan.safetensors');
    writeFileSync(path, nanWeights);
    const fromPath = refusal(() => addStoreFile(store, path)).message;
    const fromBytes = refusal(() => addStoreFileBytes(store, 'nan.safetensors', nanWeights)).message;
    expect(fromBytes).toBe('nan.safetensors is neither two-layer weights nor a dataset. As weights: nan.safetensors: W[1, 1] is NaN: every entry of W must be a finite number' + fromBytes.slice(fromBytes.indexOf('. As a dataset:')));
    expect(fromPath).toBe(fromBytes.replaceAll('nan.safetensors:', `${path}:`));
    expect(imported()).toEqual([]);
  });

  it('refuses another extension, naming the file and what was expected', () => {
    const error = refusal(() => addStoreFileBytes(store, 'notes.txt', new Uint8Array(8)));
    expect(error.message).toBe('notes.txt: expected weights (.safetensors) or a dataset (.safetensors or .npz)');
    expect(error.problems).toEqual([{ path: 'name', message: 'not a .safetensors or .npz file' }]);
    expect(imported()).toEqual([]);
  });

  it('takes a dataset (npz) and lists the files oldest first', () => {
    const path = join(dir, 'points.npz');
    writeDatasetFile(path, { x: Float32Array.from([1, 0, 0, 1, 1, 1]), y: Float32Array.from([1, -1, 1]), n: 3, d: 2, labelKind: 'binary', classes: 2 });
    expect(checkStoreFile('points.npz', readFileSync(path))).toEqual({ kind: 'data', summary: 'dataset: 3 examples, d = 2, ±1 labels, without dictionary (the dictionary instruments will be unavailable)' });
    addStoreFile(store, path, new Date('2026-12-05T06:00:00Z'));
    addStoreFileBytes(store, 'w.safetensors', weights, new Date('2026-12-05T05:00:00Z'));
    expect(listStoreFiles(store).map((f) => [f.name, f.bytes])).toEqual([
      ['20261205-050000-w.safetensors', weights.byteLength],
      ['20261205-060000-points.npz', readFileSync(path).byteLength],
    ]);
  });

  it('keeps a hostile name inside the store', () => {
    const added = addStoreFileBytes(store, '../../escape.safetensors', weights, new Date('2026-12-05T05:06:07Z'));
    expect(added.file).toBe(join(store.dir, 'imports', '20261205-050607-escape.safetensors'));
  });
});

describe('lab files', () => {
  it('adds files (exit 2 naming a refused one, the rest still added) and lists them', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'lab-files-cli-'));
    const lab = (args: string[]) => labInProcess(args, storeDir);
    const good = join(dir, 'good.safetensors');
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(good, weights);
    writeFileSync(bad, nanWeights);
    const add = await lab(['files', 'add', good, bad]);
    expect(add.stderr).toContain(`bad.safetensors is neither two-layer weights nor a dataset. As weights: ${bad}: W[1, 1] is NaN`);
    expect(add.code).toBe(2);
    const [name] = readdirSync(join(storeDir, 'imports'));
    expect(name).toMatch(/^\d{8}-\d{6}-good\.safetensors$/);
    expect(add.stdout).toContain(`${join(storeDir, 'imports', name!)}\n  two-layer weights: W [2, 3]`);
    const list = await lab(['files']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(`${name}  ${(weights.byteLength / 1024).toFixed(1)} kB  ${join(storeDir, 'imports', name!)}\n`);
    const wrong = await lab(['files', 'remove']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('files remove: expected "files" (list) or "files add FILE..."');
  }, 300_000);
});
