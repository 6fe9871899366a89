/**
 * The store's files: weights and datasets a user adds to `<store>/imports/`, to evaluate with
 * `lab eval` or start from. Every way in (File > Import in the desktop app, an upload in browser
 * mode, `lab files add`) passes the same check: two-layer weights (safetensors with W, finite,
 * its model card valid), an MLP saved from PyTorch (fc1.*, fc2.*: ./formats/pytorchMlp.ts) or a dataset (safetensors or npz with x and y, finite), refused
 * otherwise with the reader's own message, and nothing is written unless the file passes.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError } from '../../shared/api.ts';
import { decodeDatasetBytes } from './formats/datasetFile.ts';
import { decodePytorchMlp, readWeightTensors, weightsKind, type PytorchMlpWeights, type WeightTensors } from './formats/pytorchMlp.ts';
import { readInputFile } from './formats/inputFile.ts';
import { fileInside } from './runExport.ts';
import type { RunStore } from './store/runStore.ts';
import { decodeWeights } from './weightsFile.ts';

/** Files larger than this are refused (a weights file or a dataset of this project is far smaller). */
export const storeFileLimitBytes = 2 * 1024 ** 3;

export type StoreFileKind = 'weights' | 'data';

export interface AddedStoreFile {
  readonly kind: StoreFileKind;
  /** The name (or path) the file came with. */
  readonly original: string;
  /** The copy in the store's imports/ folder. */
  readonly file: string;
  readonly summary: string;
}

export interface StoreFileEntry {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly modified: string;
}

const importsFolder = (store: RunStore) => join(store.dir, 'imports');

function refuseName(name: string): void {
  const lower = name.toLowerCase();
  if (!lower.endsWith('.safetensors') && !lower.endsWith('.npz')) {
    throw new ApiError(`${basename(name)}: expected weights (.safetensors) or a dataset (.safetensors or .npz)`, [{ path: 'name', message: 'not a .safetensors or .npz file' }]);
  }
}

/**
 * The PyTorch MLP in a file whose tensor names are fc1.*, fc2.* (checked, so a broken one is
 * refused with the reader's message), or null when its names say it is something else.
 */
function pytorchMlpIn(name: string, bytes: Uint8Array): PytorchMlpWeights | null {
  let tensors: WeightTensors;
  try {
    tensors = readWeightTensors(bytes, name);
    if (weightsKind([...tensors.tensors.keys()], name) !== 'mlp') return null;
  } catch {
    return null;
  }
  try {
    return decodePytorchMlp(tensors, name);
  } catch (error) {
    throw new ApiError(`${basename(name)} has MLP tensors (fc1.*, fc2.*) that cannot be read: ${(error as Error).message}`);
  }
}

/** What the bytes hold, or an ApiError naming the file and why it is neither weights nor a dataset. */
export function checkStoreFile(name: string, bytes: Uint8Array): { kind: StoreFileKind; summary: string } {
  refuseName(name);
  let weightsError = 'not a safetensors file';
  const mlp = pytorchMlpIn(name, bytes);
  if (mlp) {
    return {
      kind: 'weights',
      summary: `MLP weights (PyTorch names): fc1.weight [${mlp.width}, ${mlp.inputDim}], fc2.weight [${mlp.classes}, ${mlp.width}] (d = ${mlp.inputDim}, m = ${mlp.width}, ${mlp.classes} classes)${mlp.spec ? `, ${mlp.spec.activation}` : ', no model card (ReLU unless --set model.activation says otherwise)'}`,
    };
  }
  if (name.toLowerCase().endsWith('.safetensors')) {
    try {
      const w = decodeWeights(bytes, name);
      const card = w.card;
      return {
        kind: 'weights',
        summary:
          `two-layer weights: W [${w.width}, ${w.inputDim}] (m = ${w.width} neurons, d = ${w.inputDim})` +
          (card ? `, thresholds ${card.thresholdMode}${card.thresholdMode === 'relative' ? ` (rho ${card.thresholdRatio})` : ''}, ${card.checkpoint} of code ${card.codeVersion}` : ', no model card'),
      };
    } catch (error) {
      weightsError = (error as Error).message;
    }
  }
  try {
    const data = decodeDatasetBytes(bytes, name);
    return {
      kind: 'data',
      summary:
        `dataset: ${data.n} examples, d = ${data.d}, ${data.labelKind === 'binary' ? '±1 labels' : `${data.classes} classes`}` +
        (data.dictionary ? `, with its dictionary M (D = ${data.atoms ?? '?'}) and teacher` : ', without dictionary (the dictionary instruments will be unavailable)'),
    };
  } catch (error) {
    throw new ApiError(`${basename(name)} is neither two-layer weights nor a dataset. As weights: ${weightsError}. As a dataset: ${(error as Error).message}`);
  }
}

/** Check `bytes` (a file called `name`) and copy them into `<store>/imports/`, stamped with the time. */
export function addStoreFileBytes(store: RunStore, name: string, bytes: Uint8Array, now = new Date()): AddedStoreFile {
  if (bytes.byteLength > storeFileLimitBytes) throw new ApiError(`${basename(name)} is ${(bytes.byteLength / 1024 ** 3).toFixed(1)} GB: larger than any weights or dataset this lab reads`);
  const { kind, summary } = checkStoreFile(name, bytes);
  const folder = importsFolder(store);
  mkdirSync(folder, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const file = fileInside(folder, `${stamp}-${basename(name)}`);
  writeFileSync(file, bytes);
  return { kind, original: name, file, summary };
}

/** Read the file at `path`, check it and copy it into the store (File > Import, `lab files add`). */
export function addStoreFile(store: RunStore, path: string, now = new Date()): AddedStoreFile {
  refuseName(path);
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ApiError(`${path}: this is a folder (or another non-file); expected a weights or dataset file`, [{ path: 'path', message: 'not a file' }]);
    size = stat.size;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ApiError(`${path}: cannot read it: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, [{ path: 'path', message: code ?? 'unreadable' }]);
  }
  if (size > storeFileLimitBytes) throw new ApiError(`${basename(path)} is ${(size / 1024 ** 3).toFixed(1)} GB: larger than any weights or dataset this lab reads`);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(path, 'the file');
  } catch (error) {
    throw new ApiError((error as Error).message, [{ path: 'path', message: 'unreadable' }]);
  }
  return { ...addStoreFileBytes(store, path, bytes, now), original: path };
}

/** The files in the store's imports/ folder, oldest first (their names start with the time added). */
export function listStoreFiles(store: RunStore): StoreFileEntry[] {
  const folder = importsFolder(store);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((name) => ({ name, file: join(folder, name), stat: statSync(join(folder, name)) }))
    .filter((entry) => entry.stat.isFile())
    .map(({ name, file, stat }) => ({ name, file, bytes: stat.size, modified: stat.mtime.toISOString() }));
}
