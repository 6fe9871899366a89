/**
 * The random-noise attack: each sample is moved to `draws` random points on the surface of its
 * eps-ball (l2: a uniformly random direction; linf: a random corner, eps times random signs), and
 * counts as broken if any of them is misclassified. It needs no gradient, so it is the sanity
 * check of AutoAttack's practice: when noise breaks samples that the gradient attacks did not,
 * the gradients are masked or the attack is mis-tuned, and their robust accuracy cannot be trusted.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../shared/config.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { RandomStream } from '../random.ts';
import { readBack } from '../backend/readBack.ts';
import type { PgdResult } from './pgd.ts';

export function randomNoiseAttack(
  model: MarginModel,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: { eps: readonly number[]; norm: Norm; draws: number; rng: RandomStream; clip?: readonly [number, number] | null },
): PgdResult {
  const [n, d] = x.shape;
  if (!(Number.isInteger(options.draws) && options.draws >= 1)) throw new RangeError(`draws ${options.draws}: expected an integer >= 1`);
  for (const e of options.eps) if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`eps ${e}: expected a finite radius >= 0`);
  const margins = options.eps.map(() => new Float32Array(n).fill(Infinity));
  const noise = new Float32Array(n * d);
  for (let draw = 0; draw < options.draws; draw++) {
    // One direction per sample and draw, shared by every radius (scaled), so radii are comparable.
    for (let i = 0; i < n; i++) {
      if (options.norm === 'linf') {
        for (let j = 0; j < d; j++) noise[i * d + j] = options.rng.sign();
      } else {
        let n2 = 0;
        for (let j = 0; j < d; j++) {
          const v = options.rng.normal();
          noise[i * d + j] = v;
          n2 += v * v;
        }
        const inv = 1 / Math.sqrt(n2 || 1);
        for (let j = 0; j < d; j++) noise[i * d + j] = noise[i * d + j]! * inv;
      }
    }
    const direction = tf.tensor2d(noise, [n, d]);
    options.eps.forEach((e, k) => {
      const m = readBack(() => {
        let moved: tf.Tensor = tf.add(x, tf.mul(direction, e));
        if (options.clip) moved = tf.clipByValue(moved, options.clip[0], options.clip[1]);
        return model.margins(moved as tf.Tensor2D, y);
      });
      const best = margins[k]!;
      for (let i = 0; i < n; i++) if (m[i]! < best[i]!) best[i] = m[i]!;
    });
    direction.dispose();
  }
  return {
    eps: [...options.eps],
    success: margins.map((row) => Uint8Array.from(row, (v) => (v <= 0 ? 1 : 0))),
    margins,
    zeroGradient: options.eps.map(() => 0),
  };
}
