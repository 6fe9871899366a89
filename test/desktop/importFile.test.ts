/**
 * Issue 11, items 4 and 9: File > Import checks weights as `lab eval` does, so NaN weights or a
 * model card with thresholdRatio -5 are refused and nothing is copied into the store; a folder
 * is named, with a file expected.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { resolveSparseCoding } from '../../shared/config.ts';
import { addStoreFile as importFile } from '../../main/lab/storeFiles.ts';
import { encodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';

const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: 2 } }).model, 3, { configHash: 'h', codeVersion: 'v', checkpoint: 'final' });
const W = Float32Array.from([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);

let store: RunStore;
let dir: string;
beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-import-store-')));
  dir = mkdtempSync(join(tmpdir(), 'lab-import-'));
});
afterEach(() => store.close());

const refusal = (path: string): ApiError => {
  try {
    importFile(store, path);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the import to be refused');
};
const imported = () => (existsSync(join(store.dir, 'imports')) ? readdirSync(join(store.dir, 'imports')) : []);

describe('File > Import', () => {
  it('copies valid weights', () => {
    const path = join(dir, 'good.safetensors');
    writeFileSync(path, encodeWeights(card, W, null));
    expect(importFile(store, path)).toMatchObject({ kind: 'weights' });
    expect(imported()).toHaveLength(1);
  });

  it('refuses NaN weights and a card with thresholdRatio -5, copying nothing', () => {
    const nan = join(dir, 'nan.safetensors');
    writeFileSync(nan, encodeWeights(card, Float32Array.from(W, (v, k) => (k === 4 ? NaN : v)), null));
    expect(refusal(nan).message).toContain(`As weights: ${nan}: W[1, 1] is NaN: every entry of W must be a finite number`);
    const negative = join(dir, 'negative.safetensors');
    writeFileSync(negative, encodeSafetensors({ W: { dtype: 'F32', shape: [2, 3], data: W } }, { model_card: JSON.stringify({ ...card, thresholdRatio: -5 }) }));
    expect(refusal(negative).message).toContain(`As weights: ${negative}: the model card is not valid: thresholdRatio = -5`);
    expect(imported()).toEqual([]);
  });

  it('names a folder, saying a file was expected (it said EISDIR)', () => {
    const folder = join(dir, 'folder.safetensors');
    mkdirSync(folder);
    const error = refusal(folder);
    expect(error.message).toBe(`${folder}: this is a folder (or another non-file); expected a weights or dataset file`);
    expect(error.message).not.toMatch(/EISDIR/);
    expect(refusal(join(dir, 'absent.npz')).message).toBe(`${join(dir, 'absent.npz')}: cannot read it: no such file`);
  });
});
