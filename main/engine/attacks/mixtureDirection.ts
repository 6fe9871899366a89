/**
 * The mixture-direction attack: delta = -y eps u, with u = M w* / ||M w*||
 * (l2) or sign(M w*) (linf). It needs no gradient and no optimisation: it reads out how much the
 * neurons' coherent dense mixtures hurt, since they all line up with the label direction M w*.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MarginModel } from '../models/marginModel.ts';
import type { PgdResult } from './pgd.ts';
import { repeatRows } from './repeatRows.ts';

/**
 * Attack every sample along -y u at each radius. `direction` is u [d] (already normalised for
 * its norm); `clip` is the data range or null. The radii go through the model together, in one
 * forward pass of the tiled test set (as many as `rowsPerChunk` rows allow).
 */
export function mixtureDirectionAttack(
  model: MarginModel,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: { eps: readonly number[]; direction: Float32Array; clip?: readonly [number, number] | null; rowsPerChunk?: number },
): PgdResult {
  if (options.direction.length !== model.inputDim) {
    throw new RangeError(`direction has ${options.direction.length} entries: expected the input dimension ${model.inputDim}`);
  }
  for (const e of options.eps) if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`eps ${e}: expected a finite radius >= 0`);
  const n = x.shape[0];
  const E = options.eps.length;
  const perPass = Math.max(1, Math.floor((options.rowsPerChunk ?? 40_000) / n));
  const margins: Float32Array[] = [];
  const u = tf.tensor2d(options.direction, [1, model.inputDim]);
  try {
    for (let first = 0; first < E; first += perPass) {
      const count = Math.min(perPass, E - first);
      const radii = new Float32Array(count * n);
      for (let k = 0; k < count; k++) radii.fill(options.eps[first + k]!, k * n, (k + 1) * n);
      const m = tf.tidy(() => {
        const yy = repeatRows(y, count);
        // y eps per row, as y * eps of one radius: the same float32 products.
        let xAdv: tf.Tensor = tf.sub(repeatRows(x, count), tf.mul(tf.reshape(tf.mul(yy, tf.tensor1d(radii)), [-1, 1]), u));
        if (options.clip) xAdv = tf.clipByValue(xAdv, options.clip[0], options.clip[1]);
        return model.margins(xAdv as tf.Tensor2D, yy);
      });
      const values = m.dataSync() as Float32Array;
      m.dispose();
      for (let k = 0; k < count; k++) margins.push(values.slice(k * n, (k + 1) * n));
    }
  } finally {
    u.dispose();
  }
  const success = margins.map((row) => Uint8Array.from(row, (v) => (v <= 0 ? 1 : 0)));
  return { eps: [...options.eps], success, margins, zeroGradient: options.eps.map(() => 0) };
}
