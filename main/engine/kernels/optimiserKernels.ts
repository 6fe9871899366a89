/**
 * Wrappers of the optimiser updates (./assembly/optimisers.ts), in place on a parameter of any
 * shape; the gradient and the optimiser's state must have as many elements.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { finite, number, output, sized, type KernelTable } from './kernelArgs.ts';

export interface OptimiserKernels {
  /** param -= lr grad, in place (any shape; equal sizes). */
  sgdUpdate(param: tf.Tensor, grad: tf.Tensor, lr: number): void;

  /** velocity = mu velocity + grad; param -= lr velocity, in place. */
  momentumUpdate(param: tf.Tensor, grad: tf.Tensor, velocity: tf.Tensor, lr: number, mu: number): void;

  /**
   * Adam step t (t >= 1): m1 = beta1 m1 + (1-beta1) grad; m2 = beta2 m2 + (1-beta2) grad^2;
   * param -= lr (m1 / (1 - beta1^t)) / (sqrt(m2 / (1 - beta2^t)) + eps), in place.
   */
  adamUpdate(
    param: tf.Tensor, grad: tf.Tensor, m1: tf.Tensor, m2: tf.Tensor,
    lr: number, beta1: number, beta2: number, eps: number, t: number,
  ): void;
}

export const optimiserTable: KernelTable<OptimiserKernels> = {
  sgdUpdate: {
    args: [output(sized('param', 'n')), sized('grad', 'n'), finite('lr')],
    call: ['param', 'grad', 'n', 'lr'],
  },
  momentumUpdate: {
    args: [output(sized('param', 'n')), sized('grad', 'n'), output(sized('velocity', 'n')), finite('lr'), finite('mu')],
    call: ['param', 'grad', 'velocity', 'n', 'lr', 'mu'],
  },
  adamUpdate: {
    args: [
      output(sized('param', 'n')), sized('grad', 'n'), output(sized('m1', 'n')), output(sized('m2', 'n')),
      finite('lr'), number('beta1'), number('beta2'), finite('eps'), number('t'),
    ],
    call: ['param', 'grad', 'm1', 'm2', 'n', 'lr', 'beta1', 'beta2', 'eps', 'bc1', 'bc2'],
    derived: ['bc1', 'bc2'],
    prepare(v, fail) {
      const [beta1, beta2, t] = [v.get('beta1'), v.get('beta2'), v.get('t')];
      if (!(beta1 >= 0 && beta1 < 1)) fail(`beta1 must be in [0, 1), got ${beta1}`);
      if (!(beta2 >= 0 && beta2 < 1)) fail(`beta2 must be in [0, 1), got ${beta2}`);
      if (!Number.isInteger(t) || t < 1) fail(`t must be an integer >= 1, got ${t}`);
      // The bias corrections in float64 here; the kernel applies them in float32.
      v.set('bc1', 1 - Math.pow(beta1, t));
      v.set('bc2', 1 - Math.pow(beta2, t));
    },
  },
};
