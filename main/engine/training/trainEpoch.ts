/**
 * The training loop of one epoch, driving a Trainer (./trainer.ts). Clean phases train on the
 * batch; adversarial phases replace the batch by its perturbation from the training attack, or
 * mix the two with weight lambda: loss = (1 - lambda) L(clean) + lambda L(adversarial).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { Phase } from '../../../shared/events.ts';
import type { RandomStream } from '../random.ts';
import type { Dataset } from '../tasks/dataset.ts';
import { disposeBatches, epochBatches, type Batch } from './batches.ts';
import { learningRate } from './schedule.ts';
import { trainingAttack, type Trainer } from './trainer.ts';

/**
 * Train one epoch. Returns the mean training loss over its batches and the learning rate used.
 * `onProgress(step)` is called at most every 100 ms and after the last step.
 */
export async function trainEpoch(
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
): Promise<{ loss: number; lr: number }> {
  const lr = learningRate(config.train.optimizer.lr, config.train.schedule, options.epoch - 1, options.epochs);
  const batches: Batch[] = epochBatches(train, options.shuffleRng.permutation(train.n), config.train.batchSize);
  const attack = options.phase === 'adversarial' ? trainingAttack(config, options.clip, options.attackRng) : null;
  const { mode, lambda } = config.train.mix;
  let lastReport = performance.now();
  // a stack's member awaits its step in the stack's next kernel call; any other trainer steps at once
  const { later } = trainer;
  // x^T is left to the trainers that read it (./trainer.ts): the fused WGSL ones and the stacks never do
  const step = (x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D) => (later ? later.step(x, y, scale, lr) : trainer.step(x, null, y, scale, lr));
  // and its clock runs only while its own code does (./memberClock.ts): from here, and again right
  // here after each await (the other members may run between the callee's end and this line)
  const resumed = () => later?.clock.resume();
  // The mixed batch's loss weights [(1 - lambda) s, lambda s], once per batch size (the batches of
  // an epoch share their 1/B weights, ./batches.ts), not 3 ops every adversarial batch.
  const mixedScales = new Map<tf.Tensor1D, tf.Tensor1D>();
  const mixedScale = (scale: tf.Tensor1D): tf.Tensor1D => {
    let mixed = mixedScales.get(scale);
    if (!mixed) {
      mixed = tf.tidy(() => tf.concat([tf.mul(scale, 1 - lambda), tf.mul(scale, lambda)]) as tf.Tensor1D);
      mixedScales.set(scale, mixed);
    }
    return mixed;
  };
  resumed();
  try {
    for (const [k, batch] of batches.entries()) {
      if (!attack) {
        await step(batch.x, batch.y, batch.scale);
        resumed();
      } else {
        const xAdv = later ? await later.perturb(batch.x, batch.y, attack) : trainer.perturb(batch.x, batch.y, attack);
        resumed();
        if (mode === 'replace') {
          await step(xAdv, batch.y, batch.scale);
          resumed();
        } else {
          const [x2, y2] = tf.tidy(() => [tf.concat([batch.x, xAdv], 0) as tf.Tensor2D, tf.concat([batch.y, batch.y]) as tf.Tensor1D]);
          await step(x2, y2, mixedScale(batch.scale));
          resumed();
          tf.dispose([x2, y2]);
        }
        xAdv.dispose();
      }
      const now = performance.now();
      if (options.onProgress && (now - lastReport > 100 || k === batches.length - 1)) {
        lastReport = now;
        options.onProgress(k + 1);
      }
    }
  } finally {
    tf.dispose([...mixedScales.values()]);
    disposeBatches(batches);
    trainer.sync();
  }
  const loss = trainer.takeLoss() / batches.length;
  later?.clock.pause();
  return { loss, lr };
}
