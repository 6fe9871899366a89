/**
 * Low-rank adversarial fine-tuning of the image MLP (the lever "the share of the update's rank"
 * of issue 15): in the adversarial phase of the fine-tune protocol the first layer is
 *
 *   fc1.weight' = W1 + U V^T,   W1 frozen at the clean weights,  U [m, r] starts at 0,
 *                               V [d, r] ~ N(0, s^2/d) small and random,
 *
 * as for the two-layer net (./lowRankUpdate.ts, which both trainers share; the gradients are taken
 * at W', the threshold's gradient through ||w_i'|| included).
 *
 * fc1.bias, fc2.weight and fc2.bias keep training in full: they are m + C m + C numbers (2,826 at
 * m = 256) against d m = 200,704 in fc1.weight, and the lever is the rank of the update of the
 * hidden features (the neuron pictures), not of the read-out. Weight decay is not combined with it
 * (the config refuses it): decay shrinks W', whose W the low-rank update keeps frozen.
 *
 * The step is the generic tfjs one (Mlp.lossAndGradients) on every backend; the training attacks
 * go through the model's attack path as it is, on the composed W' (the testbed says so in a note).
 * The phase's state is U, V, the frozen W1 and the optimiser's moments of [U, V, c, V2, e].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { Mlp } from '../models/mlp.ts';
import type { OptimizerState } from './checkpoint.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import { LowRankUpdate } from './lowRankUpdate.ts';
import { Optimizer } from './optimizer.ts';
import type { Trainer } from './trainer.ts';

export function createLowRankMlpTrainer(model: Mlp, config: ResolvedExperiment, rank: number): Trainer {
  const m = model.width;
  const C = model.classes;
  const update = new LowRankUpdate(tf.clone(model.parameters()[0]!) as tf.Tensor2D, rank, config); // W1 [d, m], the clean fc1 (transposed)
  const optimizer = new Optimizer(config.train.optimizer);
  const losses = new LossAccumulator();
  /** The trained parameters in the optimiser's order: U, V, then fc1.bias, fc2.weight, fc2.bias. */
  const shapes = [...update.shapes, [m], [m, C], [C]];

  /** Set the model's fc1 to W' = W1 + U V^T, its other parameters as they are. */
  const compose = () => {
    const [, c, V2, e] = model.parameters();
    model.setParameters([update.composed(), c!, V2!, e!]);
  };

  return {
    step(x, xT, y, scale, lr) {
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      const [dW, dc, dV2, de] = gradients as [tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor];
      const [dU, dV] = update.factorGradients(dW);
      const [, c, V2, e] = model.parameters();
      const [nextU, nextV, nextC, nextV2, nextE] = optimizer.step([update.U, update.V, c!, V2!, e!], [dU, dV, dc, dV2, de], lr);
      tf.dispose([dU, dV, ...gradients]);
      update.replace(nextU!, nextV!);
      model.setParameters([model.parameters()[0]!, nextC!, nextV2!, nextE!]);
      compose();
      losses.add(loss);
    },
    perturb(x, y, attack) {
      return pgdPerturb(model, x, y, attack);
    },
    sync() {
      // compose() runs after every step: the model holds W' already.
    },
    exportState(): OptimizerState {
      const state = optimizer.exportState();
      return { t: state.t, tensors: { ...state.tensors, ...update.exportTensors() } };
    },
    importState(state) {
      const moments = update.importTensors(state.tensors);
      optimizer.importState({ t: state.t, tensors: moments }, shapes);
      compose();
    },
    takeLoss: () => losses.take(),
    dispose() {
      optimizer.dispose();
      losses.dispose();
      update.dispose();
    },
  };
}
