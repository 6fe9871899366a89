/**
 * The two-layer network's training step on T kernel threads (../kernels/threadPool.ts): the
 * maths of the fused trainer (./fusedTrainer.ts), with each batch's samples split across the
 * threads and the matMuls done by the kernels' own blocked SIMD products (tfjs-wasm's XNNPACK
 * matMul runs on one thread in tfjs's unshared memory). Per step, two phases
 * (../kernels/assembly/threaded.ts):
 *   1. samples: thread t computes UT_t = W X_t^T, the logistic kernel's GT_t and dbl_t, and
 *      dW_t = GT_t X_t into its own slot;
 *   2. update: thread t takes a block of neurons, sums the T slots of dW and dbl in thread order
 *      (fixed, so a run is deterministic for a given T), applies the chain rule through
 *      b_i = rho ||w_i||, the optimiser, and the next step's thresholds.
 * W, its thresholds and the optimiser's moments live in the pool's shared memory for the whole
 * phase; the batch is copied in per step (B d floats, against the 4 B m d flops of the step) and
 * W is written back to the network at the end of each epoch (`sync`). The training attack runs
 * the one PGD loop on a threaded session over the working weights.
 *
 * Modes: relative and fixed thresholds, with SGD (momentum or not) or Adam, as the fused trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import type { KernelThreadPool, Region } from '../kernels/threadPool.ts';
import { copyTensorInto, threadChunk, twoLayerThreadedSession } from '../models/twoLayerThreadedGradient.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { HostLossSum } from './lossAccumulator.ts';
import type { Trainer } from './trainer.ts';

/** [d, m] (the generic trainer's layout) from [m, d] rows, or back: a transpose of a row-major matrix. */
export function transposed(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j]!;
  return out;
}

/** The threaded trainer of one phase, or null when the network's mode has no fused path. */
export function createThreadedTrainer(pool: KernelThreadPool, kernels: FusedKernels, net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
  if (net.thresholdMode === 'learned') return null;
  const { optimizer } = config.train;
  const T = pool.threads;
  const m = net.width;
  const d = net.inputDim;
  const a = net.outputWeight;
  const rho = net.thresholdRatio;
  const relative = net.thresholdMode === 'relative';
  const kind = optimizer.kind === 'adam' ? 2 : optimizer.momentum > 0 ? 1 : 0;
  const owned: Region[] = [];
  const zeroed = (bytes: number): Region => {
    const r = pool.alloc(bytes);
    owned.push(r);
    pool.f32(r).fill(0);
    return r;
  };
  const W = zeroed(m * d * 4);
  const b = zeroed(m * 4);
  const invNorm = zeroed(m * 4);
  const first = kind > 0 ? zeroed(m * d * 4) : null;
  const second = kind === 2 ? zeroed(m * d * 4) : null;
  const dw = zeroed(T * m * d * 4);
  const dbl = zeroed(T * m * 4);
  const loss = zeroed(T * 8);
  pool.f32(W).set(net.weights());
  if (relative) pool.call('thresholdFromRowNorms', [W.offset, m, d, rho, b.offset, invNorm.offset]);
  else pool.f32(b).set(net.thresholdValues());

  // per batch size: the batch and the per-thread slots of UT and GT
  let batch: { rows: number; X: Region; Y: Region; S: Region; UT: Region; GT: Region } | null = null;
  const freeBatch = () => {
    if (batch) for (const r of [batch.X, batch.Y, batch.S, batch.UT, batch.GT]) pool.free(r);
    batch = null;
  };
  const batchFor = (B: number) => {
    if (batch?.rows === B) return batch;
    freeBatch();
    const chunk = threadChunk(B, T);
    batch = { rows: B, X: pool.alloc(B * d * 4), Y: pool.alloc(B * 4), S: pool.alloc(B * 4), UT: pool.alloc(T * m * chunk * 4), GT: pool.alloc(T * m * chunk * 4) };
    return batch;
  };

  let t = 0;
  const lossSum = new HostLossSum();
  const session = { W, b, a, m, d };
  const attackedWeights = { openInputGradient: () => twoLayerThreadedSession(pool, kernels, session, () => {}) };
  const rowChunk = Math.ceil(m / T);

  return {
    step(x, _xT, y, scale, lr) {
      const B = x.shape[0];
      const { X, Y, S, UT, GT } = batchFor(B);
      copyTensorInto(kernels, x, pool.f32(X));
      copyTensorInto(kernels, y, pool.f32(Y));
      copyTensorInto(kernels, scale, pool.f32(S));
      pool.run('twoLayerTrainSamples', threadChunk(B, T), [
        W.offset, X.offset, Y.offset, S.offset, b.offset, a, B, m, d, UT.offset, GT.offset, dw.offset, dbl.offset, loss.offset,
      ]);
      const losses = pool.f64(loss.offset, T);
      for (let k = 0; k < T; k++) lossSum.add(losses[k]!);
      t += 1;
      const adam = optimizer.kind === 'adam';
      pool.run('twoLayerTrainUpdate', rowChunk, [
        T, W.offset, m, d, dw.offset, dbl.offset, b.offset, invNorm.offset, rho, relative ? 1 : 0, kind, lr,
        adam ? 0 : optimizer.momentum, adam ? optimizer.beta1 : 0, adam ? optimizer.beta2 : 0, adam ? optimizer.epsilon : 0,
        adam ? 1 - Math.pow(optimizer.beta1, t) : 1, adam ? 1 - Math.pow(optimizer.beta2, t) : 1,
        first?.offset ?? 0, second?.offset ?? 0,
      ]);
    },
    perturb(x, y, attack) {
      return pgdPerturb(attackedWeights, x, y, attack);
    },
    takeLoss: () => lossSum.take(),
    sync() {
      net.setParameters(tf.tensor2d(transposed(pool.f32(W), m, d), [d, m]), net.b);
    },
    exportState() {
      // A checkpoint always stores the generic layout Wt [d, m], so any trainer can resume it.
      const tensors: Record<string, Float32Array> = {};
      if (first) tensors['first.0'] = transposed(pool.f32(first), m, d);
      if (second) tensors['second.0'] = transposed(pool.f32(second), m, d);
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      const load = (region: Region | null, key: string) => {
        const values = state.tensors[key];
        if (region && values) pool.f32(region).set(transposed(values, d, m));
      };
      load(first, 'first.0');
      load(second, 'second.0');
    },
    dispose() {
      for (const r of owned) pool.free(r);
      owned.length = 0;
      freeBatch();
    },
  };
}
