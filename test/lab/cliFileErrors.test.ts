/**
 * One error type for a file that cannot be read (FileFormatError, main/engine/fileFormatError.ts),
 * and the CLI's exit status for it: a bad weights file, a bad dataset file and a bad image
 * dataset (read by the engine, in the run's worker) each exit 2 with a message that starts with
 * the file. Before the two error classes became one, the image dataset's exited 1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveSparseCoding } from '../../shared/config.ts';
import { BackendError } from '../../main/engine/backend/chooseBackend.ts';
import { DeadNetworkError } from '../../main/engine/experiment.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { exitCodeOf } from '../../main/lab/cli/exitCode.ts';
import { UsageError } from '../../main/lab/cli/usage.ts';
import { writeDatasetFile } from '../../main/lab/formats/datasetFile.ts';
import { DiskFullError, StoreDamagedError, StoreError } from '../../main/lab/store/storeError.ts';
import { encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';
import { labInProcess } from '../support/labCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'lab-cli-file-errors-'));
const store = join(dir, 'store');
const d = 4;
const width = 3;

/** A valid two-layer weights file and a valid binary dataset of dimension d. */
function goodFiles(): { weights: string; data: string } {
  const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width, threshold: { mode: 'fixed', value: 0.1 } } }).model, d, { configHash: 'h', codeVersion: 'test', checkpoint: 'final' });
  const weights = join(dir, 'good.safetensors');
  writeFileSync(weights, encodeWeights(card, Float32Array.from({ length: width * d }, (_, k) => 0.1 * (k - 5)), new Float32Array(width).fill(0.1)));
  const data = join(dir, 'good.npz');
  writeDatasetFile(data, { x: Float32Array.from({ length: 8 * d }, (_, k) => Math.sin(k)), y: Float32Array.from({ length: 8 }, (_, i) => (i % 2 ? 1 : -1)), n: 8, d, labelKind: 'binary', classes: 2 });
  return { weights, data };
}

describe('a file that cannot be read, from the CLI', () => {
  it('a bad weights file exits 2, the message starting with the file', async () => {
    const { data } = goodFiles();
    const weights = join(dir, 'truncated.safetensors');
    writeFileSync(weights, new Uint8Array([1, 2, 3]));
    const result = await labInProcess(['eval', '--weights', weights, '--data', data], store);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${weights}: the file has 3 bytes, fewer than the 8-byte header length that starts every safetensors file (truncated or empty?)\n`);
    expect(result.stdout).toBe('');
  });

  it('a bad dataset file exits 2, the message starting with the file', async () => {
    const { weights } = goodFiles();
    const data = join(dir, 'not-a-zip.npz');
    writeFileSync(data, 'definitely not a zip archive');
    const result = await labInProcess(['eval', '--weights', weights, '--data', data], store);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${data.replaceAll('.', '\\.')}: not a valid \\.npz \\(zip\\) archive`));
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1); // the message, no stack
  });

  it('a bad image dataset, read by the engine in the run\'s worker, exits 2 naming the file (it exited 1)', async () => {
    const batch = join(dir, 'data_batch_1.bin');
    writeFileSync(batch, new Uint8Array(8));
    const files = JSON.stringify({ train: [batch], test: [batch] });
    const result = await labInProcess(['run', '--preset', 'cifar-cnn', '--set', `task.files=${files}`], store);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`\n${batch}: expected a positive multiple of 3073 bytes (CIFAR-10 records: 1 label byte and 3072 pixel bytes), found 8 bytes (0 records and 8 bytes over)\n`);
  }, 120_000);
});

describe('the exit status of each error class', () => {
  it('2 for input the user can fix, 3 for a dead network, 1 for a full disk and anything else', () => {
    const errors: [Error, number][] = [
      [new UsageError('u'), 2],
      [new ConfigError('c', []), 2],
      [new FileFormatError('f.npz', 'p'), 2],
      [new BackendError('b'), 2],
      [new StoreError('s'), 2],
      [new StoreDamagedError('s'), 2],
      [new DiskFullError('s'), 1],
      [new DeadNetworkError('dead'), 3],
      [new Error('other'), 1],
      [new TypeError('other'), 1],
    ];
    expect(errors.map(([error]) => exitCodeOf(error.name))).toEqual(errors.map(([, code]) => code));
    expect(exitCodeOf(undefined)).toBe(1);
    expect(exitCodeOf('toString')).toBe(1); // a name is looked up as an own key only
  });
});
