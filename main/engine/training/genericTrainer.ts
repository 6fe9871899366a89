/**
 * The two-layer network's trainer for any tfjs backend: the network's hand-written gradients,
 * tfjs ops, the configured optimiser, and the training attack through the generic PGD loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import { Optimizer } from './optimizer.ts';
import type { Trainer } from './trainer.ts';

export function createGenericTrainer(net: TwoLayerNet, config: ResolvedExperiment): Trainer {
  const optimizer = new Optimizer(config.train.optimizer);
  const losses = new LossAccumulator();
  return {
    step(x, xT, y, scale, lr) {
      const grads = net.gradients(x, xT, y, scale);
      const params: tf.Tensor[] = [net.Wt];
      const gradients: tf.Tensor[] = [grads.dWt];
      if (grads.db && net.b) {
        params.push(net.b);
        gradients.push(grads.db);
      }
      const updated = optimizer.step(params, gradients, lr);
      let b = net.thresholdMode === 'learned' && updated[1] ? (tf.tidy(() => tf.relu(updated[1]!)) as tf.Tensor1D) : net.b;
      if (b !== updated[1]) updated[1]?.dispose();
      if (net.thresholdMode !== 'learned') b = net.b;
      net.setParameters(updated[0] as tf.Tensor2D, b);
      tf.dispose([grads.dWt, ...(grads.db ? [grads.db] : [])]);
      losses.add(grads.loss);
    },
    perturb(x, y, attack) {
      return pgdPerturb(net, x, y, attack);
    },
    sync() {
      // The network's tensors are the working weights: nothing to write back.
    },
    exportState() {
      return optimizer.exportState();
    },
    importState(state) {
      optimizer.importState(state, net.b && net.thresholdMode === 'learned' ? [net.Wt.shape, net.b.shape] : [net.Wt.shape]);
    },
    takeLoss: () => losses.take(),
    dispose() {
      optimizer.dispose();
      losses.dispose();
    },
  };
}
