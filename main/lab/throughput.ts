/**
 * The training throughput behind cost estimates, measured on the loaded backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { fusedTrainerFactory } from '../engine/fusedTrainer.ts';
import { TwoLayerNet } from '../engine/models/twoLayerNet.ts';
import { RandomStream } from '../engine/random.ts';
import { createGenericTrainer } from '../engine/train.ts';

/**
 * Flagship-size training steps per second measured now on the loaded backend: 50 steps (after 5
 * of warm-up) of the flagship's net and batch, with the trainer the queue's runs use. Tens of
 * milliseconds on wasm; it runs in a job host's worker (jobHost/), never on a server's loop.
 */
export async function measureThroughput(backend: BackendInfo, steps = 50): Promise<number> {
  const config = resolveSparseCoding({});
  const d = config.task.d;
  const B = config.train.batchSize;
  const factory = backend.fusedKernels ? await fusedTrainerFactory() : null;
  const net = TwoLayerNet.initialise(config.model, d, 0);
  const trainer = (factory ?? createGenericTrainer)(net, config);
  const rng = RandomStream.derive(0, 'throughput');
  const xValues = new Float32Array(B * d);
  rng.fillNormal(xValues, 1 / Math.sqrt(d));
  const x = tf.tensor2d(xValues, [B, d]);
  const xT = tf.transpose(x) as tf.Tensor2D;
  const y = tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign()));
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  try {
    for (let i = 0; i < 5; i++) trainer.step(x, xT, y, scale, 0.01);
    trainer.takeLoss();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainer.step(x, xT, y, scale, 0.01);
    trainer.takeLoss(); // one device read: waits for the queued work on asynchronous backends
    return steps / Math.max((performance.now() - t0) / 1000, 1e-6);
  } finally {
    trainer.dispose();
    net.dispose();
    tf.dispose([x, xT, y, scale]);
  }
}
