/**
 * `lab files`: the weights and datasets in the store (its imports/ folder), oldest first.
 * `lab files add FILE...`: check each file (two-layer weights or a dataset, as File > Import and
 * browser mode check it) and copy it into the store; a refused file is named with the reason, and
 * the others are still added (exit 2 when any was refused).
 */
import { ApiError } from '../../../../shared/api.ts';
import { addStoreFile, listStoreFiles } from '../../storeFiles.ts';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const filesVerb: Verb = (values, rest, io) => {
  const [sub, ...paths] = rest;
  if (sub !== undefined && sub !== 'add') throw new UsageError(`files ${sub}: expected "files" (list) or "files add FILE..."`);
  if (sub === 'add' && paths.length === 0) throw new UsageError('files add needs at least one FILE (.safetensors or .npz)');
  const store = openStore(values, io);
  try {
    if (sub === undefined) {
      const files = listStoreFiles(store);
      if (files.length === 0) io.stdout.write(`No files in ${store.dir}/imports yet: add one with "lab files add FILE"\n`);
      for (const f of files) io.stdout.write(`${f.name}  ${(f.bytes / 1024).toFixed(1)} kB  ${f.file}\n`);
      return 0;
    }
    let refused = 0;
    for (const path of paths) {
      try {
        const added = addStoreFile(store, path);
        io.stdout.write(`${added.file}\n  ${added.summary}\n`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        io.stderr.write(`${error.message}\n`);
        refused++;
      }
    }
    return refused > 0 ? 2 : 0;
  } finally {
    store.close();
  }
};
