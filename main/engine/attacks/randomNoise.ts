/**
 * The random-noise attack: each sample is moved to `draws` random points on the surface of its
 * eps-ball (l2: a uniformly random direction; linf: a random corner, eps times random signs), and
 * counts as broken if any of them is misclassified. It needs no gradient, so it is the sanity
 * check of AutoAttack's practice: when noise breaks samples that the gradient attacks did not,
 * the gradients are masked or the attack is mis-tuned, and their robust accuracy cannot be trusted.
 *
 * The moved points of many (draw, radius) pairs go through the model in one forward pass, as many
 * as `rowsPerChunk` rows allow: the same points, so the same margins, in a few large matMuls
 * instead of draws x radii small ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../shared/config.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { RandomStream } from '../random.ts';
import { readBack } from '../backend/readBack.ts';
import type { PgdResult } from './pgd.ts';
import { gaussianRow } from './gaussianRow.ts';
import { repeatRows } from './repeatRows.ts';

export function randomNoiseAttack(
  model: MarginModel,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: { eps: readonly number[]; norm: Norm; draws: number; rng: RandomStream; clip?: readonly [number, number] | null; rowsPerChunk?: number },
): PgdResult {
  const [n, d] = x.shape;
  if (!(Number.isInteger(options.draws) && options.draws >= 1)) throw new RangeError(`draws ${options.draws}: expected an integer >= 1`);
  for (const e of options.eps) if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`eps ${e}: expected a finite radius >= 0`);
  const E = options.eps.length;
  const margins = options.eps.map(() => new Float32Array(n).fill(Infinity));
  // Blocks of n rows, one per (draw, radius), draw by draw: the draws come from the stream in order.
  const blocks = options.draws * E;
  const blocksPerPass = Math.max(1, Math.floor((options.rowsPerChunk ?? 40_000) / n));
  // The current draw's directions on the device [n, d]; a draw may span two passes.
  let draw: tf.Tensor2D | null = null;
  try {
    for (let first = 0; first < blocks; first += blocksPerPass) {
      const count = Math.min(blocksPerPass, blocks - first);
      const parts: tf.Tensor2D[] = [];
      const carried = draw;
      const made: tf.Tensor2D[] = [];
      const radii = new Float32Array(count * n);
      for (let b = 0; b < count; b++) {
        const k = (first + b) % E;
        if (k === 0) {
          // A fresh array per draw: a backend may keep the array it was given rather than copy it
          // (tfjs-webgpu uploads lazily), so refilling one buffer would turn every draw of a pass
          // into the last one.
          const noise = new Float32Array(n * d);
          drawDirections(noise, n, d, options.norm, options.rng);
          draw = tf.tensor2d(noise, [n, d]);
          made.push(draw);
        }
        parts.push(draw!);
        radii.fill(options.eps[k]!, b * n, (b + 1) * n);
      }
      const m = readBack(() => {
        const direction = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
        let moved: tf.Tensor = tf.add(repeatRows(x, count), tf.mul(direction, tf.tensor2d(radii, [count * n, 1])));
        if (options.clip) moved = tf.clipByValue(moved, options.clip[0], options.clip[1]);
        return model.margins(moved as tf.Tensor2D, repeatRows(y, count));
      });
      // Done with every draw of this pass but the one the next pass continues.
      for (const t of [carried, ...made]) if (t && t !== draw) t.dispose();
      for (let b = 0; b < count; b++) {
        const best = margins[(first + b) % E]!;
        for (let i = 0; i < n; i++) if (m[b * n + i]! < best[i]!) best[i] = m[b * n + i]!;
      }
    }
  } finally {
    draw?.dispose();
  }
  return {
    eps: [...options.eps],
    success: margins.map((row) => Uint8Array.from(row, (v) => (v <= 0 ? 1 : 0))),
    margins,
    zeroGradient: options.eps.map(() => 0),
  };
}

/** One draw: a direction per sample (unit l2, or a corner of the linf cube), shared by every radius (scaled), so radii are comparable. */
function drawDirections(noise: Float32Array, n: number, d: number, norm: Norm, rng: RandomStream): void {
  for (let i = 0; i < n; i++) {
    if (norm === 'linf') {
      for (let j = 0; j < d; j++) noise[i * d + j] = rng.sign();
    } else {
      gaussianRow(noise, i * d, d, rng, (length) => 1 / length);
    }
  }
}
