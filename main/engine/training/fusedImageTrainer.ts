/**
 * The fused wasm kernels on image models (./kernels/): the in-place PGD step (l2 or linf,
 * projection and clipping to the data range in one sweep) and the in-place optimiser updates,
 * for any image model; and for the MLP the whole training step, whose gradients come from the
 * model's kernel pass (Mlp.kernelLossAndGradients). tfjs-wasm spends more on the elementwise ops of
 * an attack step or an optimiser update over a 784 x 256 layer (one kernel call and one fresh
 * buffer per op) than on the matMuls themselves; these do each in one pass over memory. Same maths
 * as the generic paths (imageTrainer.ts, attacks/pgd.ts, optimizer.ts), which the tests compare
 * them with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightDecayOf, type ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { OptimizerState } from './checkpoint.ts';
import { createImageTrainer } from './imageTrainer.ts';
import { KernelWorkspace, type FusedKernels } from '../kernels/fusedKernels.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import type { ImageModel } from '../models/imageModel.ts';
import { Mlp } from '../models/mlp.ts';
import type { Trainer } from './trainer.ts';
import { decayedParameters } from './weightDecay.ts';

/**
 * The image trainer with fused kernels: for the MLP the whole step (createFusedMlpTrainer); for
 * other models the optimiser update done in place (SGD with or without momentum; Adam keeps the
 * generic trainer). The state is exported in the generic optimiser's format (`first.i` = the
 * velocity of parameter i), so checkpoints are interchangeable.
 */
export function createFusedImageTrainer(model: ImageModel, config: ResolvedExperiment, kernels: FusedKernels): Trainer {
  if (model instanceof Mlp) return createFusedMlpTrainer(model, config, kernels);
  const spec = config.train.optimizer;
  if (spec.kind !== 'sgd') return createImageTrainer(model, config);
  const generic = createImageTrainer(model, config);
  // Parameters are updated in place: they must own their buffers.
  model.setParameters(model.parameters().map((p) => tf.add(p, 0)));
  let velocity: tf.Tensor[] | null = null;
  let t = 0;
  const losses = new LossAccumulator();
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
      tf.dispose(gradients);
      losses.add(loss);
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
    takeLoss: () => losses.take(),
    dispose() {
      generic.dispose();
      tf.dispose(velocity ?? []);
      losses.dispose();
    },
  };
}

/**
 * The MLP's trainer on the fused kernels: gradients from the model's kernel pass (two tfjs
 * matMuls and ~7 kernel calls, see Mlp.kernelLossAndGradients), then every parameter updated in
 * place by the optimiser kernels, with the generic optimiser's maths (optimizer.ts):
 *   SGD         p -= lr g;   with momentum  v = mu v + g, p -= lr v   (v starts at 0, so v_1 = g)
 *   Adam        m1 = b1 m1 + (1-b1) g;  m2 = b2 m2 + (1-b2) g^2;
 *               p -= lr (m1 / (1 - b1^t)) / (sqrt(m2 / (1 - b2^t)) + eps)   (moments start at 0)
 * The model's parameter tensors are the working weights (nothing to sync) and the training attack
 * runs through the fused input gradient. The loss is summed on the host (the kernel returns it).
 * The optimiser state is exported in the generic format ({ t, tensors: first.i, second.i } by
 * parameter index, in the model's parameter shapes), so either trainer resumes the other's checkpoint.
 */
export function createFusedMlpTrainer(model: Mlp, config: ResolvedExperiment, kernels: FusedKernels): Trainer {
  const spec = config.train.optimizer;
  const adam = spec.kind === 'adam';
  const momentum = !adam && spec.momentum > 0;
  // Parameters are updated in place: they must own their buffers.
  model.setParameters(model.parameters().map((p) => tf.add(p, 0)));
  const work = new KernelWorkspace();
  const lambda = weightDecayOf(spec);
  const decayed = decayedParameters(model.parameters().map((p) => p.shape));
  /** Velocity (SGD with momentum) or Adam's first moment, per parameter; made at the first step. */
  let first: tf.Tensor[] | null = null;
  /** Adam's second moment. */
  let second: tf.Tensor[] | null = null;
  let t = 0;
  let lossSum = 0;
  const zerosLike = (params: tf.Tensor[]) => params.map((p) => tf.zeros(p.shape));
  /** The training attack runs through the fused session even when the model has no pgdKernels. */
  const attacked = { openInputGradient: () => model.openInputGradient(kernels) };
  return {
    step(x, xT, y, scale, lr) {
      const { loss, gradients } = model.kernelLossAndGradients(kernels, work, x, xT, y, scale);
      const params = model.parameters();
      t += 1;
      lossSum += loss;
      if (adam) {
        first ??= zerosLike(params);
        second ??= zerosLike(params);
        params.forEach((p, i) => kernels.adamUpdate(p, gradients[i]!, first![i]!, second![i]!, lr, spec.beta1, spec.beta2, spec.epsilon, t));
      } else if (momentum) {
        first ??= zerosLike(params);
        params.forEach((p, i) => kernels.momentumUpdate(p, gradients[i]!, first![i]!, lr, spec.momentum));
      } else {
        params.forEach((p, i) => kernels.sgdUpdate(p, gradients[i]!, lr));
      }
      // decoupled weight decay (weightDecay.ts): W <- W - (lr lambda) W, an SGD step whose gradient
      // is a copy of W (the kernel's output may not alias its input)
      if (lambda > 0) {
        for (const i of decayed) {
          const copy = tf.add(params[i]!, 0);
          kernels.sgdUpdate(params[i]!, copy, lr * lambda);
          copy.dispose();
        }
      }
    },
    perturb(x, y, attack) {
      return pgdPerturb(attacked, x, y, attack);
    },
    sync() {
      // The model's tensors are the working weights: nothing to write back.
    },
    exportState(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      first?.forEach((v, i) => (tensors[`first.${i}`] = Float32Array.from(v.dataSync())));
      second?.forEach((v, i) => (tensors[`second.${i}`] = Float32Array.from(v.dataSync())));
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      const params = model.parameters();
      const load = (which: 'first' | 'second'): tf.Tensor[] | null => {
        if (!Object.keys(state.tensors).some((k) => k.startsWith(`${which}.`))) return null;
        return params.map((p, i) => {
          const values = state.tensors[`${which}.${i}`];
          if (!values) throw new Error(`optimizer state has no "${which}.${i}" for parameter ${model.parameterNames[i]}`);
          return tf.tensor(values, p.shape);
        });
      };
      tf.dispose([...(first ?? []), ...(second ?? [])]);
      first = adam || momentum ? load('first') : null;
      second = adam ? load('second') : null;
    },
    takeLoss() {
      const value = lossSum;
      lossSum = 0;
      return value;
    },
    dispose() {
      work.dispose();
      tf.dispose([...(first ?? []), ...(second ?? [])]);
    },
  };
}
