/**
 * The throughput behind cost estimates (./costEstimate.ts), measured on the loaded backend at the
 * flagship's size: training steps, and the evaluation's input gradients. It runs in a job host's
 * worker (jobHost/), never on a server's loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveSparseCoding } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { pgdAttack } from '../engine/attacks/pgd.ts';
import { hotPathFor } from '../engine/backend/hotPath.ts';
import { TwoLayerNet } from '../engine/models/twoLayerNet.ts';
import { RandomStream } from '../engine/random.ts';
import { createGenericTrainer } from '../engine/training/genericTrainer.ts';
import type { Throughput } from './costEstimate.ts';

/**
 * Throughput measured now: `steps` training steps (after 5 of warm-up) of the flagship's net and
 * batch with the trainer the queue's runs use, and, with their input gradients, the evaluation's
 * PGD-20 on 1,000 test samples at two radii (41,000 evaluation units; a shorter attack is
 * dominated by its set-up and reads slow). About half a second on wasm. A measurement this short
 * is noisy on a loaded machine and leaves out the per-epoch overhead: finished runs replace it.
 * `threads`: the kernel threads of the hot path, as the queue's new runs use them.
 */
export async function measureThroughput(backend: BackendInfo, steps = 200, threads = 1): Promise<Throughput> {
  const config = resolveSparseCoding({});
  const d = config.task.d;
  const B = config.train.batchSize;
  // The backend's hot path, as its runs use it (the fused wasm or WGSL kernels; ../engine/backend/prepareBackend.ts).
  const hotPath = backend.fusedKernels ? await hotPathFor(backend.name, threads) : null;
  const net = TwoLayerNet.initialise(config.model, d, 0);
  net.inputGradientProvider = hotPath?.inputGradientProvider ?? null;
  const trainer = (hotPath?.makeTrainer ?? createGenericTrainer)(net, config);
  const rng = RandomStream.derive(0, 'throughput');
  const xValues = new Float32Array(B * d);
  rng.fillNormal(xValues, 1 / Math.sqrt(d));
  const x = tf.tensor2d(xValues, [B, d]);
  const y = tf.tensor1d(Float32Array.from({ length: B }, () => rng.sign()));
  const scale = tf.fill([B], 1 / B) as tf.Tensor1D;
  const testSize = 1000;
  const testValues = new Float32Array(testSize * d);
  rng.fillNormal(testValues, 1 / Math.sqrt(d));
  const testX = tf.tensor2d(testValues, [testSize, d]);
  const testY = tf.tensor1d(Float32Array.from({ length: testSize }, () => rng.sign()));
  try {
    // x^T is not handed in, as the epoch loop hands none: a trainer that reads it pays its transpose in the step, as in a run.
    for (let i = 0; i < 5; i++) trainer.step(x, null, y, scale, 0.01);
    trainer.takeLoss();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainer.step(x, null, y, scale, 0.01);
    trainer.takeLoss(); // one device read: waits for the queued work on asynchronous backends
    const trainPerSecond = steps / Math.max((performance.now() - t0) / 1000, 1e-6);
    const attack = { eps: [0.1, 0.3], norm: 'l2' as const, steps: 20, stepSize: null, randomStart: false, restarts: 1, clip: null };
    tf.tidy(() => void pgdAttack(net, tf.slice(testX, [0, 0], [100, d]), tf.slice(testY, [0], [100]), attack)); // warm-up (read back, so done)
    const t1 = performance.now();
    pgdAttack(net, testX, testY, attack);
    const units = testSize * attack.eps.length * (attack.steps + 0.5);
    const evalPerSecond = units / Math.max((performance.now() - t1) / 1000, 1e-6);
    return { trainPerSecond, evalPerSecond, threads: hotPath ? threads : 1 };
  } finally {
    trainer.dispose();
    net.dispose();
    tf.dispose([x, y, scale, testX, testY]);
  }
}
