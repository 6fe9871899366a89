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
    if (!v['clip']) {
      v['clipLo'] = 0;
      v['clipHi'] = 0;
      return;
    }
    for (const name of ['clipLo', 'clipHi']) {
      if (!Number.isFinite(v[name])) fail(`${name} must be a finite number, got ${v[name]}`);
    }
    if (!((v['clipLo'] as number) <= (v['clipHi'] as number))) fail(`clipLo (${v['clipLo']}) must be <= clipHi (${v['clipHi']})`);
  },
};

export const pgdTable: KernelTable<PgdKernels> = {
  pgdL2Step: pgdStep,
  pgdLinfStep: pgdStep,
};
