/**
 * Low-rank adversarial fine-tuning of the paper's two-layer net (Allen-Zhu & Li v4, claim C5):
 * the clean W stays frozen and only the rank-r update U V^T trains (./lowRankUpdate.ts). The
 * threshold gradient (relative mode) is already inside dL/dW', because the network's gradient is
 * taken at W'. Runs on the generic tfjs path on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { OptimizerState } from './checkpoint.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { LowRankUpdate } from './lowRankUpdate.ts';
import { Optimizer } from './optimizer.ts';
import type { Trainer } from './trainer.ts';

export function createLowRankTrainer(net: TwoLayerNet, config: ResolvedExperiment, rank: number): Trainer {
  const update = new LowRankUpdate(tf.clone(net.Wt), rank, config);
  const optimizer = new Optimizer(config.train.optimizer);
  let lossSum: tf.Scalar = tf.scalar(0);

  /** Make the network's weights W' = W + U V^T. */
  const compose = () => net.setParameters(update.composed(), net.b);

  return {
    step(x, xT, y, scale, lr) {
      compose();
      const grads = net.gradients(x, xT, y, scale);
      const [dU, dV] = update.factorGradients(grads.dWt);
      const [nextU, nextV] = optimizer.step([update.U, update.V], [dU, dV], lr);
      tf.dispose([dU, dV, grads.dWt, ...(grads.db ? [grads.db] : [])]);
      update.replace(nextU!, nextV!);
      const next = tf.add(lossSum, grads.loss) as tf.Scalar;
      tf.dispose([lossSum, grads.loss]);
      lossSum = next;
    },
    perturb(x, y, attack) {
      compose();
      return pgdPerturb(net, x, y, attack);
    },
    takeLoss() {
      const value = lossSum.dataSync()[0]!;
      lossSum.dispose();
      lossSum = tf.scalar(0);
      return value;
    },
    sync() {
      compose();
    },
    exportState(): OptimizerState {
      const state = optimizer.exportState();
      return { t: state.t, tensors: { ...state.tensors, ...update.exportTensors() } };
    },
    importState(state) {
      const moments = update.importTensors(state.tensors);
      optimizer.importState({ t: state.t, tensors: moments }, update.shapes);
    },
    dispose() {
      optimizer.dispose();
      update.dispose();
      lossSum.dispose();
    },
  };
}
