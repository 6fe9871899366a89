/**
 * The PGD loop of any model whose input gradient is a function: T steps of the gradient, each
 * followed by one fused in-place PGD step (./kernels/: the step, the projection onto the eps-ball
 * and the clipping to the data range in one sweep over memory). Same maths as the generic loop
 * in ./attacks/pgd.ts, which the tests compare it with.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from './kernels/fusedKernels.ts';
import type { InputGradientSession } from './models/classifier.ts';

type RunPgd = NonNullable<InputGradientSession['runPgd']>;

/** A fused `runPgd` over any input gradient: T steps of `gradientOf`, each followed by one in-place PGD step. */
export function fusedPgdRunner(kernels: FusedKernels, gradientOf: (x: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor2D): RunPgd {
  return (x0, y, eps, alpha, options) => {
    const alphaT = tf.tensor1d(alpha);
    const epsT = tf.tensor1d(eps);
    // An owned buffer (tf.clone would share x0's memory, which the kernel writes in place).
    const Xadv = tf.add(options.start ?? x0, 0) as tf.Tensor2D;
    const [lo, hi] = options.clip ?? [0, 0];
    const clip = options.clip ? 1 : 0;
    let zeroGradient = 0;
    for (let step = 0; step < options.steps; step++) {
      const grad = gradientOf(Xadv, y);
      const zero =
        options.norm === 'l2' ? kernels.pgdL2Step(Xadv, x0, grad, alphaT, epsT, lo, hi, clip) : kernels.pgdLinfStep(Xadv, x0, grad, alphaT, epsT, lo, hi, clip);
      if (step === 0) zeroGradient = zero;
      grad.dispose();
    }
    tf.dispose([alphaT, epsT]);
    return { x: Xadv, zeroGradient };
  };
}
