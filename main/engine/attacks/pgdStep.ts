/**
 * The step of the one PGD loop (./pgd.ts), as a strategy the loop is given: the input-gradient
 * session picks it (../models/marginModel.ts), so the loop itself never knows which runs. Both
 * implement the same maths, for rows with their own radius eps and step size alpha:
 *   l2:   delta <- Proj_{||.||_2 <= eps}(delta + alpha g/||g||_2)
 *   linf: delta <- clip(delta + alpha sign(g), -eps, eps)
 * then the iterate x0 + delta is clipped to the data range when there is one, which is the
 * projection onto the ball intersected with the range of Madry et al.'s PGD (x0 is in the range,
 * so the clipped point stays in the ball). A row whose gradient is exactly zero stays where it is
 * and is counted on the first step, so masked gradients are visible.
 *
 *   tensorPgdStep      tfjs ops, on any backend; its state is the offset delta.
 *   fusedPgdStep       the fused wasm kernels (../kernels/): step, projection and clipping in one
 *                      sweep over memory, in place on the adversarial points (its state).
 *
 * A random start is clipped to the data range before the first gradient, as in Madry et al.'s
 * reference implementation: both steps start from clip(x0 + start). The tests compare the two to
 * 1e-4.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../shared/config.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';

export interface PgdStepOptions {
  readonly norm: Norm;
  /** Data range [lo, hi] to clip into, or null. */
  readonly clip: readonly [number, number] | null | undefined;
}

/** One attack's iterate, from its start to its adversarial points. */
export interface PgdIterate {
  /** The current points, where the next input gradient is taken. */
  point(): tf.Tensor2D;
  /** One step along `gradient`, the input gradient of the negative margin at point(); `first` counts zero-gradient rows. */
  advance(gradient: tf.Tensor2D, first: boolean): void;
  /** The adversarial points, and the zero-gradient rows of the first step (a scalar; nothing is read back). */
  finish(): { x: tf.Tensor2D; zeroGradient: tf.Scalar };
}

export interface PgdStep {
  /**
   * Start an iterate on x0 [R, d] with radii eps and step sizes alpha [R], at x0 itself or at
   * x0 + `start`, offsets drawn in the ball.
   */
  begin(x0: tf.Tensor2D, eps: Float32Array, alpha: Float32Array, start: tf.Tensor2D | null, options: PgdStepOptions): PgdIterate;
}

function clipTo(x: tf.Tensor, clip: PgdStepOptions['clip']): tf.Tensor {
  return clip ? tf.clipByValue(x, clip[0], clip[1]) : x;
}

/** The step in tfjs ops, on any backend. Call it inside a tf.tidy: it leaves its intermediates to the scope. */
export const tensorPgdStep: PgdStep = {
  begin(x0, eps, alpha, start, { norm, clip }) {
    const [rows, d] = x0.shape;
    const epsCol = tf.tensor2d(eps, [rows, 1]);
    const alphaCol = tf.tensor2d(alpha, [rows, 1]);
    let delta: tf.Tensor2D = start ? (clip ? (tf.sub(clipTo(tf.add(x0, start), clip), x0) as tf.Tensor2D) : start) : tf.zeros([rows, d]);
    let moved = start !== null;
    let zeroGradient: tf.Scalar = tf.scalar(0);
    return {
      point: () => (moved ? (clipTo(tf.add(x0, delta), clip) as tf.Tensor2D) : x0),
      advance(gradient, first) {
        moved = true;
        if (norm === 'l2') {
          const gNorm = tf.sqrt(tf.sum(tf.square(gradient), 1, true));
          if (first) zeroGradient = tf.sum(tf.cast(tf.equal(gNorm, 0), 'float32'));
          // g / ||g|| with 0 / tiny = 0 for a zero-gradient row: it stays where it is.
          delta = tf.add(delta, tf.mul(tf.div(gradient, tf.maximum(gNorm, 1e-30)), alphaCol));
          const dNorm = tf.sqrt(tf.sum(tf.square(delta), 1, true));
          delta = tf.mul(delta, tf.minimum(1, tf.div(epsCol, tf.maximum(dNorm, 1e-30))));
        } else {
          if (first) zeroGradient = tf.sum(tf.cast(tf.equal(tf.max(tf.abs(gradient), 1), 0), 'float32'));
          delta = tf.add(delta, tf.mul(tf.sign(gradient), alphaCol));
          delta = tf.minimum(tf.maximum(delta, tf.neg(epsCol)), epsCol);
        }
        // Clip the iterate itself, not only the output: x_{t+1} = clip(x0 + delta).
        if (clip) delta = tf.sub(clipTo(tf.add(x0, delta), clip), x0) as tf.Tensor2D;
      },
      finish: () => ({ x: clipTo(tf.add(x0, delta), clip) as tf.Tensor2D, zeroGradient }),
    };
  },
};

/** The step through the fused kernels, in place on the adversarial points (tfjs-wasm). */
export function fusedPgdStep(kernels: FusedKernels): PgdStep {
  return {
    begin(x0, eps, alpha, start, { norm, clip }) {
      const alphaT = tf.tensor1d(alpha);
      const epsT = tf.tensor1d(eps);
      // An owned buffer (tf.clone would share x0's memory, which the kernel writes in place).
      const x = tf.tidy(() => tf.add(start ? clipTo(tf.add(x0, start), clip) : x0, 0)) as tf.Tensor2D;
      const [lo, hi] = clip ?? [0, 0];
      const clipping = clip ? 1 : 0;
      let zeroGradient = 0;
      return {
        point: () => x,
        advance(gradient, first) {
          const zero =
            norm === 'l2'
              ? kernels.pgdL2Step(x, x0, gradient, alphaT, epsT, lo, hi, clipping)
              : kernels.pgdLinfStep(x, x0, gradient, alphaT, epsT, lo, hi, clipping);
          if (first) zeroGradient = zero;
        },
        finish() {
          tf.dispose([alphaT, epsT]);
          return { x, zeroGradient: tf.scalar(zeroGradient) };
        },
      };
    },
  };
}
