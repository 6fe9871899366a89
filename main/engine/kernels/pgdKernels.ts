/**
 * Wrappers of the projected PGD steps (./assembly/pgd.ts), which every model's fused attack uses:
 * rows are samples, Xadv, X, grad [N, d], and each row has its own step alpha_n and radius eps_n.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { flag, matrix, number, output, vector, type KernelSpec, type KernelTable } from './kernelArgs.ts';

export interface PgdKernels {
  /**
   * l2 PGD step in place on Xadv [N, d]: if ||grad_n|| > 0, Xadv_n += alpha_n grad_n / ||grad_n||;
   * then delta = Xadv_n - X_n is projected onto the ball ||delta|| <= eps_n and, if clip, Xadv_n
   * is clamped into [clipLo, clipHi]. X, grad [N, d]; alpha, eps [N]. Returns the number of
   * zero-gradient rows (left where they were, then projected/clipped).
   */
  pgdL2Step(
    Xadv: tf.Tensor, X: tf.Tensor, grad: tf.Tensor, alpha: tf.Tensor, eps: tf.Tensor,
    clipLo: number, clipHi: number, clip: boolean | 0 | 1,
  ): number;

  /**
   * l-inf PGD step in place on Xadv [N, d]: Xadv += alpha_n sign(grad) (sign(0) = 0);
   * Xadv = X + clamp(Xadv - X, -eps_n, eps_n); if clip, clamp into [clipLo, clipHi].
   * Returns the number of all-zero gradient rows.
   */
  pgdLinfStep(
    Xadv: tf.Tensor, X: tf.Tensor, grad: tf.Tensor, alpha: tf.Tensor, eps: tf.Tensor,
    clipLo: number, clipHi: number, clip: boolean | 0 | 1,
  ): number;
}

/** Both steps take the same arguments; the clip range counts only when clipping. */
const pgdStep: KernelSpec<PgdKernels['pgdL2Step']> = {
  args: [
    output(matrix('Xadv', 'N', 'd')), matrix('X', 'N', 'd'), matrix('grad', 'N', 'd'), vector('alpha', 'N'), vector('eps', 'N'),
    number('clipLo'), number('clipHi'), flag('clip'),
  ],
  call: ['Xadv', 'X', 'grad', 'alpha', 'eps', 'N', 'd', 'clipLo', 'clipHi', 'clip'],
  prepare(v, fail) {
    if (!v.get('clip')) {
      v.set('clipLo', 0);
      v.set('clipHi', 0);
      return;
    }
    const lo = v.get('clipLo');
    const hi = v.get('clipHi');
    if (!Number.isFinite(lo)) fail(`clipLo must be a finite number, got ${lo}`);
    if (!Number.isFinite(hi)) fail(`clipHi must be a finite number, got ${hi}`);
    if (!(lo <= hi)) fail(`clipLo (${lo}) must be <= clipHi (${hi})`);
  },
};

export const pgdTable: KernelTable<PgdKernels> = {
  pgdL2Step: pgdStep,
  pgdLinfStep: pgdStep,
};
