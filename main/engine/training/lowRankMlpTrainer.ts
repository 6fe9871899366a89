/**
 * Low-rank adversarial fine-tuning of the image MLP (the lever "the share of the update's rank"
 * of issue 15): in the adversarial phase of the fine-tune protocol the first layer is
 *
 *   fc1.weight' = W1 + U V^T,   W1 frozen at the clean weights,  U [m, r] starts at 0,
 *                               V [d, r] ~ N(0, s^2/d) small and random,
 *
 * as for the two-layer net (./lowRankTrainer.ts; both at zero would get no gradient). The model
 * stores fc1 transposed, W [d, m], so W' = W + V U^T and, with G^T = dL/dW' [d, m] the model's own
 * gradient at W' (the threshold's gradient through ||w_i'|| included):
 *   dL/dU = (G^T)^T V = G V,   dL/dV = G^T U.
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
import { RandomStream } from '../random.ts';
import type { OptimizerState } from './checkpoint.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import { Optimizer } from './optimizer.ts';
import type { Trainer } from './trainer.ts';

export function createLowRankMlpTrainer(model: Mlp, config: ResolvedExperiment, rank: number): Trainer {
  const d = model.inputDim;
  const m = model.width;
  const C = model.classes;
  const r = Math.min(rank, m, d);
  let frozen = tf.clone(model.parameters()[0]!) as tf.Tensor2D; // W1 [d, m], the clean fc1 (transposed)
  const rng = RandomStream.derive(config.seed, 'train.lowRank');
  const vValues = new Float32Array(d * r);
  rng.fillNormal(vValues, config.train.lowRank.initScale / Math.sqrt(d));
  let U = tf.zeros([m, r]) as tf.Tensor2D;
  let V = tf.tensor2d(vValues, [d, r]);
  const optimizer = new Optimizer(config.train.optimizer);
  const losses = new LossAccumulator();
  /** The trained parameters in the optimiser's order: U, V, then fc1.bias, fc2.weight, fc2.bias. */
  const shapes = [[m, r], [d, r], [m], [m, C], [C]];

  /** Set the model's fc1 to W' = W1 + U V^T (stored W1 + V U^T), its other parameters as they are. */
  const compose = () => {
    // r = 1 is an outer product: broadcast it (tfjs-wasm's matMul with an inner dimension of 1
    // was seen returning uninitialised memory).
    const product = () => (r === 1 ? tf.mul(V, tf.reshape(U, [1, m])) : tf.matMul(V, U, false, true));
    const [, c, V2, e] = model.parameters();
    model.setParameters([tf.tidy(() => tf.add(frozen, product())), c!, V2!, e!]);
  };

  return {
    step(x, xT, y, scale, lr) {
      const { loss, gradients } = model.lossAndGradients(x, xT, y, scale);
      const [dW, dc, dV2, de] = gradients as [tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor];
      const [dU, dV] = tf.tidy(() => [tf.matMul(dW, V, true, false), tf.matMul(dW, U)]) as [tf.Tensor2D, tf.Tensor2D];
      const [, c, V2, e] = model.parameters();
      const [nextU, nextV, nextC, nextV2, nextE] = optimizer.step([U, V, c!, V2!, e!], [dU, dV, dc, dV2, de], lr);
      tf.dispose([U, V, dU, dV, ...gradients]);
      U = nextU as tf.Tensor2D;
      V = nextV as tf.Tensor2D;
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
      // The factors and the frozen W1 are the state of this phase: checkpoint them with the moments.
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
      // A resumed phase starts from W' (what the checkpoint's weights hold): restore W1, U and V.
      const { 'lowRank.U': u, 'lowRank.V': v, 'lowRank.frozen': w, ...moments } = state.tensors;
      if (!u || !v || !w) throw new Error('The checkpoint of a low-rank fine-tune holds no lowRank.U, lowRank.V and lowRank.frozen');
      tf.dispose([U, V, frozen]);
      U = tf.tensor2d(u, [m, r]);
      V = tf.tensor2d(v, [d, r]);
      frozen = tf.tensor2d(w, [d, m]);
      optimizer.importState({ t: state.t, tensors: moments }, shapes);
      compose();
    },
    takeLoss: () => losses.take(),
    dispose() {
      optimizer.dispose();
      losses.dispose();
      tf.dispose([frozen, U, V]);
    },
  };
}
