/**
 * An epoch's minibatches: rows in the permutation's order, the transpose exact (and made only when
 * read), the labels and loss weights per batch, and a last smaller batch when the set size is not
 * a multiple.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { disposeBatches, epochBatches } from '../../main/engine/training/batches.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

it('each batch holds the permuted rows, their exact transpose (made on first read), labels and 1/B weights (one tensor a batch size)', () => {
  const n = 7;
  const d = 3;
  const x = Float32Array.from({ length: n * d }, (_, i) => Math.fround(Math.sin(i + 1) * 10));
  const y = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : -1));
  const permutation = Int32Array.from([4, 0, 6, 2, 5, 1, 3]);
  const before = tf.memory().numTensors;
  const batches = epochBatches({ x, y, n, d }, permutation, 3);
  try {
    expect(batches.map((b) => b.size)).toEqual([3, 3, 1]);
    // x and y of each batch and one 1/B a size; no transpose until one is read
    expect(tf.memory().numTensors - before).toBe(3 * 2 + 2);
    expect(batches[1]!.scale).toBe(batches[0]!.scale);
    expect(batches[2]!.scale).not.toBe(batches[0]!.scale);
    let start = 0;
    for (const b of batches) {
      const rows = Array.from(permutation.subarray(start, start + b.size));
      const expected = rows.map((i) => Array.from(x.subarray(i * d, (i + 1) * d)));
      expect(b.x.shape).toEqual([b.size, d]);
      expect(b.x.arraySync()).toEqual(expected);
      expect(b.xT.shape).toEqual([d, b.size]);
      expect(b.xT.arraySync()).toEqual(Array.from({ length: d }, (_, j) => expected.map((row) => row[j])));
      expect(Array.from(b.y.dataSync())).toEqual(rows.map((i) => y[i]));
      expect(Array.from(b.scale.dataSync())).toEqual(rows.map(() => Math.fround(1 / b.size)));
      start += b.size;
    }
  } finally {
    disposeBatches(batches);
  }
  expect(tf.memory().numTensors).toBe(before);
});
