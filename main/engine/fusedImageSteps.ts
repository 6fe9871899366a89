/**
 * The fused wasm kernels that image models can share with the two-layer net (./kernels/): the
 * in-place PGD step (l2 or linf, projection and clipping to the data range in one sweep) and the
 * in-place SGD / momentum update. tfjs-wasm spends more on the elementwise ops of an attack step
 * or an optimiser update over a 784 x 256 layer (one kernel call and one fresh buffer per op) than
 * on the matMuls themselves; these do each in one pass over memory. Same maths as the generic
 * paths (attacks/pgd.ts, optimizer.ts), which the tests compare them with.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { OptimizerState } from './checkpoint.ts';
import { createImageTrainer } from './imageTrainer.ts';
import type { FusedKernels } from './kernels/fusedKernels.ts';
import type { InputGradientSession } from './models/classifier.ts';
import type { ImageModel } from './models/imageModel.ts';
import type { Trainer } from './train.ts';

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

/**
 * The image trainer with the optimiser update done in place by the fused kernels (SGD with or
 * without momentum); Adam keeps the generic trainer. The state is exported in the generic
 * optimiser's format (`first.i` = the velocity of parameter i), so checkpoints are interchangeable.
 */
export function createFusedImageTrainer(model: ImageModel, config: ResolvedExperiment, kernels: FusedKernels): Trainer {
  const spec = config.train.optimizer;
  if (spec.kind !== 'sgd') return createImageTrainer(model, config);
  const generic = createImageTrainer(model, config);
  // Parameters are updated in place: they must own their buffers.
  model.setParameters(model.parameters().map((p) => tf.add(p, 0)));
  let velocity: tf.Tensor[] | null = null;
  let t = 0;
  let lossSum: tf.Scalar = tf.scalar(0);
  return {
    ...generic,
    step(x, xT, y, scale, lr) {
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      const params = model.parameters();
      t += 1;
      if (spec.momentum === 0) {
        params.forEach((p, i) => kernels.sgdUpdate(p, gradients[i]!, lr));
      } else {
        // Velocity starts at the first gradient (v = mu * 0 + g), as the generic optimiser's does.
        velocity ??= params.map((p) => tf.zeros(p.shape));
        params.forEach((p, i) => kernels.momentumUpdate(p, gradients[i]!, velocity![i]!, lr, spec.momentum));
      }
      const next = tf.add(lossSum, loss) as tf.Scalar;
      tf.dispose([lossSum, loss, ...gradients]);
      lossSum = next;
    },
    exportState(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      velocity?.forEach((v, i) => (tensors[`first.${i}`] = Float32Array.from(v.dataSync())));
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      const params = model.parameters();
      const first = Object.keys(state.tensors).filter((k) => k.startsWith('first.'));
      if (first.length > 0) {
        tf.dispose(velocity ?? []);
        velocity = params.map((p, i) => {
          const values = state.tensors[`first.${i}`];
          if (!values) throw new Error(`optimizer state has no "first.${i}" for parameter ${model.parameterNames[i]}`);
          return tf.tensor(values, p.shape);
        });
      }
    },
    takeLoss() {
      const value = lossSum.dataSync()[0]!;
      lossSum.dispose();
      lossSum = tf.scalar(0);
      return value;
    },
    dispose() {
      generic.dispose();
      tf.dispose(velocity ?? []);
      lossSum.dispose();
    },
  };
}
