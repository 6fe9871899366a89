/**
 * The mixture-direction attack: delta = -y eps u, with u = M w* / ||M w*||
 * (l2) or sign(M w*) (linf). It needs no gradient and no optimisation: it reads out how much the
 * neurons' coherent dense mixtures hurt, since they all line up with the label direction M w*.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MarginModel } from '../models/marginModel.ts';
import type { PgdResult } from './pgd.ts';

/**
 * Attack every sample along -y u at each radius. `direction` is u [d] (already normalised for
 * its norm); `clip` is the data range or null.
 */
export function mixtureDirectionAttack(
  model: MarginModel,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: { eps: readonly number[]; direction: Float32Array; clip?: readonly [number, number] | null },
): PgdResult {
  if (options.direction.length !== model.inputDim) {
    throw new RangeError(`direction has ${options.direction.length} entries: expected the input dimension ${model.inputDim}`);
  }
  for (const e of options.eps) if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`eps ${e}: expected a finite radius >= 0`);
  const n = x.shape[0];
  const success: Uint8Array[] = [];
  const margins: Float32Array[] = [];
  const u = tf.tensor2d(options.direction, [1, model.inputDim]);
  try {
    for (const e of options.eps) {
      const m = tf.tidy(() => {
        let xAdv: tf.Tensor = tf.sub(x, tf.mul(tf.reshape(tf.mul(y, e), [-1, 1]), u));
        if (options.clip) xAdv = tf.clipByValue(xAdv, options.clip[0], options.clip[1]);
        return model.margins(xAdv as tf.Tensor2D, y);
      });
      const values = m.dataSync() as Float32Array;
      m.dispose();
      const s = new Uint8Array(n);
      for (let i = 0; i < n; i++) s[i] = values[i]! <= 0 ? 1 : 0;
      success.push(s);
      margins.push(Float32Array.from(values));
    }
  } finally {
    u.dispose();
  }
  return { eps: [...options.eps], success, margins, zeroGradient: options.eps.map(() => 0) };
}
