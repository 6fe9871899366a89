/**
 * Low-rank adversarial fine-tuning (Allen-Zhu & Li v4, claim C5): the clean weights W stay
 * frozen and the update is a rank-r product,
 *
 *   W' = W + U V^T,   U [m, r] starts at 0,  V [d, r] ~ N(0, s^2/d) small and random
 *
 * (both at zero would get no gradient: dL/dU = G V and dL/dV = G^T U with G = dL/dW'). In the
 * stored layout Wt' = Wt + V U^T, so with G^T = dL/dWt' [d, m]:  dL/dU = (G^T)^T V = G V, and
 * dL/dV = G^T U. The threshold gradient (relative mode) is already inside dL/dW', because the
 * network's gradient is taken at W'. Runs on the generic tfjs path on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { OptimizerState } from './checkpoint.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { Optimizer } from './optimizer.ts';
import { RandomStream } from '../random.ts';
import type { Trainer } from './trainer.ts';

export function createLowRankTrainer(net: TwoLayerNet, config: ResolvedExperiment, rank: number): Trainer {
  const m = net.width;
  const d = net.inputDim;
  const r = Math.min(rank, m, d);
  let frozen = tf.clone(net.Wt); // Wt [d, m], the clean weights
  const rng = RandomStream.derive(config.seed, 'train.lowRank');
  const vValues = new Float32Array(d * r);
  rng.fillNormal(vValues, config.train.lowRank.initScale / Math.sqrt(d));
  let U = tf.zeros([m, r]) as tf.Tensor2D;
  let V = tf.tensor2d(vValues, [d, r]);
  const optimizer = new Optimizer(config.train.optimizer);
  let lossSum: tf.Scalar = tf.scalar(0);

  /** Make the network's weights W' = W + U V^T (Wt' = Wt + V U^T). */
  const compose = () => {
    // r = 1 is an outer product: broadcast it (tfjs-wasm's matMul with an inner dimension of 1
    // was seen returning uninitialised memory).
    const product = () => (r === 1 ? tf.mul(V, tf.reshape(U, [1, m])) : tf.matMul(V, U, false, true));
    net.setParameters(tf.tidy(() => tf.add(frozen, product())) as tf.Tensor2D, net.b);
  };

  return {
    step(x, xT, y, scale, lr) {
      compose();
      const grads = net.gradients(x, xT, y, scale);
      const [dU, dV] = tf.tidy(() => [tf.matMul(grads.dWt, V, true, false), tf.matMul(grads.dWt, U)]) as [tf.Tensor2D, tf.Tensor2D];
      const [nextU, nextV] = optimizer.step([U, V], [dU, dV], lr) as [tf.Tensor2D, tf.Tensor2D];
      tf.dispose([U, V, dU, dV, grads.dWt, ...(grads.db ? [grads.db] : [])]);
      U = nextU;
      V = nextV;
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
      // The factors are the state of this phase: checkpoint them with the optimiser's moments.
      const state = optimizer.exportState();
      return {
        t: state.t,
        tensors: {
          ...state.tensors,
          'lowRank.U': Float32Array.from(U.dataSync()),
          'lowRank.V': Float32Array.from(V.dataSync()),
          'lowRank.frozen': Float32Array.from(frozen.dataSync()),
        },
      };
    },
    importState(state) {
      // A resumed phase starts from W' (what the checkpoint's W holds): restore the frozen W too.
      const { 'lowRank.U': u, 'lowRank.V': v, 'lowRank.frozen': w, ...moments } = state.tensors;
      if (u && v && w) {
        tf.dispose([U, V, frozen]);
        U = tf.tensor2d(u, [m, r]);
        V = tf.tensor2d(v, [d, r]);
        frozen = tf.tensor2d(w, [d, m]);
      }
      optimizer.importState({ t: state.t, tensors: moments }, [
        [m, r],
        [d, r],
      ]);
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([frozen, U, V, lossSum]);
    },
  };
}
