/**
 * The paper's synthetic testbed: the sparse-coding task, the two-layer network
 * with its fused or generic trainer (low-rank in the fine-tune protocol's adversarial phase when
 * asked), and the dictionary instruments (mixture ratio, participation, coherence, coefficients).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SparseCodingExperiment } from '../../../shared/config.ts';
import { instrumentSnapshot } from '../instruments/snapshot.ts';
import { createLowRankTrainer } from '../training/lowRankTrainer.ts';
import { TwoLayerNet } from '../models/twoLayerNet.ts';
import { mixtureDirection, sparseCodingTask } from '../tasks/sparseCoding.ts';
import { createGenericTrainer } from '../training/genericTrainer.ts';
import type { Trainer } from '../training/trainer.ts';
import type { Testbed } from './testbed.ts';

export interface SparseCodingHooks {
  readonly makeTrainer?: ((net: TwoLayerNet, config: SparseCodingExperiment) => Trainer) | undefined;
  readonly inputGradientProvider?: TwoLayerNet['inputGradientProvider'] | undefined;
}

export function sparseCodingTestbed(config: SparseCodingExperiment, hooks: SparseCodingHooks): Testbed {
  const data = sparseCodingTask(config.task, config.seed, config.eval.testSize);
  const net = TwoLayerNet.initialise(config.model, data.d, config.seed);
  net.inputGradientProvider = hooks.inputGradientProvider ?? null;
  const test = { x: tf.tensor2d(data.test.x, [data.test.n, data.d]), y: tf.tensor1d(data.test.y), n: data.test.n };
  const layer = (W: Float32Array) => ({ layer: 'W', rows: net.width, cols: net.inputDim, values: W });
  return {
    model: net,
    train: data.train,
    test,
    clip: data.dataRange,
    direction: mixtureDirection(data, config.eval.norm),
    picture: null,
    dictionary: { values: data.dictionary, d: data.d, atoms: data.atoms },
    predict: (x) => Int32Array.from(tf.tidy(() => tf.sign(net.forward(x))).dataSync()),
    notes: [],
    weights: () => net.weights(),
    thresholds: () => (net.b ? net.thresholdValues() : null),
    restore(W, b) {
      if (W.length !== net.width * net.inputDim) {
        throw new Error(`The checkpoint holds ${W.length} weights: expected width * d = ${net.width * net.inputDim} for this config`);
      }
      net.setWeights(W, b);
    },
    createTrainer(phase) {
      const rank = config.train.lowRank.rank;
      if (rank !== null && phase === 'adversarial' && config.train.protocol === 'fine-tune') return createLowRankTrainer(net, config, rank);
      return (hooks.makeTrainer ?? createGenericTrainer)(net, config);
    },
    snapshot(_W0, options) {
      return instrumentSnapshot(net.weights(), net.width, net.inputDim, data, {
        principalAtoms: config.instruments.principalAtoms,
        withCoefficients: options.detailed,
        phase: options.phase,
        epoch: options.epoch,
        globalEpoch: options.globalEpoch,
      });
    },
    silentFraction: (x) => net.silentFraction(x),
    cleanPass: (x, y) => net.cleanPass(x, y),
    firstLayer: layer,
    weightLayers: (W) => [layer(W)],
    modelWeights: () => ({ kind: 'two-layer', W: net.weights(), b: net.b ? net.thresholdValues() : null }),
    dispose() {
      net.dispose();
      tf.dispose([test.x, test.y]);
    },
  };
}
