/**
 * The training loop of one epoch, and the Trainer that performs its steps.
 *
 * A Trainer owns the optimiser state and the loss accumulator of a phase. The generic trainer
 * runs on any tfjs backend with the network's hand-written gradients; a fused trainer (wasm)
 * can replace it with the same contract. Clean phases train on the batch; adversarial phases
 * replace the batch by its perturbation from the training attack, or mix the two with weight
 * lambda: loss = (1 - lambda) L(clean) + lambda L(adversarial).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { Phase } from '../../shared/events.ts';
import { pgdPerturb } from './attacks/pgd.ts';
import { disposeBatches, epochBatches, type Batch } from './batches.ts';
import type { TwoLayerNet } from './models/twoLayerNet.ts';
import { LossAccumulator } from './lossAccumulator.ts';
import { learningRate, Optimizer } from './optimizer.ts';
import type { RandomStream } from './random.ts';
import type { Dataset } from './tasks/dataset.ts';
import type { OptimizerState } from './checkpoint.ts';

export interface TrainingAttack {
  readonly eps: number;
  readonly norm: 'l2' | 'linf';
  readonly steps: number;
  readonly stepSize: number | null;
  readonly stepScale?: number;
  readonly randomStart: boolean;
  readonly clip: readonly [number, number] | null;
  readonly rng: RandomStream;
}

export interface Trainer {
  /** One optimiser step on the batch (x [B, d], its transpose, labels, loss weights). */
  step(x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D, lr: number): void;
  /** The adversarial version of a batch under the current weights (stays on the device). */
  perturb(x: tf.Tensor2D, y: tf.Tensor1D, attack: TrainingAttack): tf.Tensor2D;
  /** The loss summed over steps since the last call, then reset (one device read). */
  takeLoss(): number;
  /** Write the working weights back to the network (called at the end of each epoch). */
  sync(): void;
  /** The optimiser's state, for a checkpoint. */
  exportState(): OptimizerState;
  /** Continue from a checkpointed optimiser state. */
  importState(state: OptimizerState): void;
  dispose(): void;
}

/** The trainer for any backend: hand-written gradients, tfjs ops, the configured optimiser. */
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

/** The training attack of the config, for the trainer. */
export function trainingAttack(config: ResolvedExperiment, clip: readonly [number, number] | null, rng: RandomStream): TrainingAttack {
  const a = config.train.attack;
  return {
    eps: a.eps,
    norm: a.norm,
    steps: a.kind === 'fgm' ? 1 : a.steps,
    stepSize: a.kind === 'fgm' ? null : a.stepSize,
    ...(a.kind === 'fgm' ? { stepScale: 1 } : {}),
    randomStart: a.kind === 'fgm' ? false : a.randomStart,
    clip: a.clip ? clip : null,
    rng,
  };
}

/**
 * Train one epoch. Returns the mean training loss over its batches and the learning rate used.
 * `onProgress(step)` is called at most every 100 ms and after the last step.
 */
export function trainPhase(
  trainer: Trainer,
  train: Dataset,
  config: ResolvedExperiment,
  options: {
    phase: Phase;
    epoch: number;
    epochs: number;
    shuffleRng: RandomStream;
    attackRng: RandomStream;
    clip: readonly [number, number] | null;
    onProgress?: (step: number) => void;
  },
): { loss: number; lr: number } {
  const lr = learningRate(config.train.optimizer.lr, config.train.schedule, options.epoch - 1, options.epochs);
  const batches: Batch[] = epochBatches(train, options.shuffleRng.permutation(train.n), config.train.batchSize);
  const attack = options.phase === 'adversarial' ? trainingAttack(config, options.clip, options.attackRng) : null;
  const { mode, lambda } = config.train.mix;
  let lastReport = performance.now();
  try {
    batches.forEach((batch, k) => {
      if (!attack) {
        trainer.step(batch.x, batch.xT, batch.y, batch.scale, lr);
      } else {
        const xAdv = trainer.perturb(batch.x, batch.y, attack);
        if (mode === 'replace') {
          const xAdvT = tf.transpose(xAdv) as tf.Tensor2D;
          trainer.step(xAdv, xAdvT, batch.y, batch.scale, lr);
          tf.dispose([xAdvT]);
        } else {
          const [x2, x2T, y2, s2] = tf.tidy(() => {
            const both = tf.concat([batch.x, xAdv], 0) as tf.Tensor2D;
            return [
              both,
              tf.transpose(both) as tf.Tensor2D,
              tf.concat([batch.y, batch.y]) as tf.Tensor1D,
              tf.concat([tf.mul(batch.scale, 1 - lambda), tf.mul(batch.scale, lambda)]) as tf.Tensor1D,
            ];
          });
          trainer.step(x2, x2T, y2, s2, lr);
          tf.dispose([x2, x2T, y2, s2]);
        }
        xAdv.dispose();
      }
      const now = performance.now();
      if (options.onProgress && (now - lastReport > 100 || k === batches.length - 1)) {
        lastReport = now;
        options.onProgress(k + 1);
      }
    });
  } finally {
    disposeBatches(batches);
    trainer.sync();
  }
  return { loss: trainer.takeLoss() / batches.length, lr };
}
