/**
 * The trainer of an image model (MLP, CNN): the model's own loss gradients (hand-written for the
 * MLP, autodiff for the CNN), the configured optimiser over every parameter, and the training
 * attack through the model's input gradients. Same contract as the two-layer trainers (./trainer.ts),
 * so the epoch loop, the protocols and checkpoints are shared.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightDecayOf, type ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { ImageModel } from '../models/imageModel.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import { Optimizer } from './optimizer.ts';
import type { Trainer } from './trainer.ts';
import { decayedParameters } from './weightDecay.ts';

export function createImageTrainer(model: ImageModel, config: ResolvedExperiment): Trainer {
  const optimizer = new Optimizer(config.train.optimizer);
  const losses = new LossAccumulator();
  const lambda = weightDecayOf(config.train.optimizer);
  const decayed = decayedParameters(model.parameters().map((p) => p.shape));
  return {
    step(x, xT, y, scale, lr) {
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      model.setParameters(optimizer.step(model.parameters(), gradients, lr));
      if (lambda > 0) {
        // decoupled weight decay (weightDecay.ts): W <- W - (lr lambda) W on the weight matrices
        const rate = lr * lambda;
        model.setParameters(model.parameters().map((p, i) => (decayed.includes(i) ? tf.tidy(() => tf.sub(p, tf.mul(p, rate))) : p)));
      }
      tf.dispose(gradients);
      losses.add(loss);
    },
    perturb(x, y, attack) {
      return pgdPerturb(model, x, y, attack);
    },
    sync() {
      // The model's tensors are the working weights: nothing to write back.
    },
    exportState() {
      return optimizer.exportState();
    },
    importState(state) {
      optimizer.importState(state, model.parameters().map((p) => p.shape));
    },
    takeLoss: () => losses.take(),
    dispose() {
      optimizer.dispose();
      losses.dispose();
    },
  };
}
