/**
 * The image MLP's training step on T kernel threads (../kernels/threadPool.ts): the maths of the
 * fused MLP trainer (./fusedImageTrainer.ts, Mlp.kernelLossAndGradients), with each batch's
 * samples split across the threads and the matMuls done by the kernels' own blocked SIMD products
 * (tfjs-wasm's XNNPACK matMul runs on one thread in tfjs's unshared memory). Per step, two phases
 * (../kernels/assembly/mlpThreaded.ts):
 *   1. samples: thread t runs the forward, the softmax cross-entropy and the backward on its rows,
 *      its partial dW, dc, dV, de (and dbl) into a slot of its own;
 *   2. update: thread t takes a block of neurons (columns of W, entries of c, rows of V), sums
 *      the T slots in thread order (fixed, so a run is deterministic for a given T), applies the
 *      chain rule through b_i = rho ||w_i||, the optimiser, and the next step's thresholds.
 * The parameters, V^T, the thresholds and the optimiser's moments live in the pool's shared memory
 * for the whole phase; the batch is copied in per step and the parameters are written back to the
 * model at the end of each epoch (`sync`). The training attack runs the one PGD loop on a threaded
 * session over the working weights (../models/mlpThreadedGradient.ts).
 *
 * ReLU and the symmetric threshold, with SGD (momentum or not) or Adam, as the fused trainer; the
 * optimiser state is exported in its format ({ t, first.i, second.i } by parameter index, in the
 * model's shapes), so either trainer resumes the other's checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightDecayOf, type ResolvedExperiment } from '../../../shared/config.ts';
import { pgdPerturb } from '../attacks/pgd.ts';
import type { ImageHotPath } from '../experiment/hooks.ts';
import { loadFusedKernels, type FusedKernels } from '../kernels/fusedKernels.ts';
import { kernelThreadPool, type KernelThreadPool, type Region } from '../kernels/threadPool.ts';
import { Mlp } from '../models/mlp.ts';
import { mlpBlockSize, mlpThreadedSession, threadedMlpInputGradient } from '../models/mlpThreadedGradient.ts';
import { copyTensorInto, threadChunk } from '../models/twoLayerThreadedGradient.ts';
import type { OptimizerState } from './checkpoint.ts';
import { HostLossSum } from './lossAccumulator.ts';
import type { Trainer } from './trainer.ts';
import { decayedParameters, decayInPlace } from './weightDecay.ts';

/** Neurons per thread in the update phase: a multiple of 8, the column kernels' block width. */
function neuronChunk(m: number, threads: number): number {
  return Math.ceil(Math.ceil(m / threads) / 8) * 8;
}

export function createThreadedMlpTrainer(pool: KernelThreadPool, kernels: FusedKernels, model: Mlp, config: ResolvedExperiment): Trainer {
  const spec = config.train.optimizer;
  const adam = spec.kind === 'adam';
  const kind = adam ? 2 : spec.momentum > 0 ? 1 : 0;
  const T = pool.threads;
  const d = model.inputDim;
  const m = model.width;
  const C = model.classes;
  const P = mlpBlockSize(d, m, C);
  const threshold = model.spec.activation !== 'relu';
  const rho = model.spec.thresholdRatio;
  /** Each parameter's offset (floats) in the block [W | c | V | e], in the model's order. */
  const shapes = model.parameters().map((p) => p.shape);
  const starts = shapes.reduce<number[]>((s, shape, i) => [...s, s[i]! + shape.reduce((a, b) => a * b, 1)], [0]);
  const owned: Region[] = [];
  const zeroed = (bytes: number): Region => {
    const r = pool.alloc(bytes);
    owned.push(r);
    pool.f32(r).fill(0);
    return r;
  };
  const params = zeroed(P * 4);
  const VT = zeroed(C * m * 4);
  const b = threshold ? zeroed(m * 4) : null;
  const invNorm = threshold ? zeroed(m * 4) : null;
  const first = kind > 0 ? zeroed(P * 4) : null;
  const second = kind === 2 ? zeroed(P * 4) : null;
  const grads = zeroed(T * P * 4);
  const dbl = zeroed(T * m * 4);
  const loss = zeroed(T * 8);
  model.parameters().forEach((p, i) => pool.f32(params.offset + starts[i]! * 4, p.size).set(p.dataSync()));
  const refreshVT = () => pool.call('transposeInto', [params.offset + starts[2]! * 4, m, C, VT.offset]);
  refreshVT();
  if (b && invNorm) pool.call('thresholdFromNorms', [params.offset, d, m, rho, b.offset, invNorm.offset]);

  // per batch size: the batch, its activations and the threads' X_t^T scratch
  let batch: { rows: number; X: Region; Y: Region; S: Region; XT: Region; H: Region; Z: Region; dU: Region } | null = null;
  const freeBatch = () => {
    if (batch) for (const r of [batch.X, batch.Y, batch.S, batch.XT, batch.H, batch.Z, batch.dU]) pool.free(r);
    batch = null;
  };
  const batchFor = (B: number) => {
    if (batch?.rows === B) return batch;
    freeBatch();
    batch = {
      rows: B, X: pool.alloc(B * d * 4), Y: pool.alloc(B * 4), S: pool.alloc(B * 4), XT: pool.alloc(T * d * threadChunk(B, T) * 4),
      H: pool.alloc(B * m * 4), Z: pool.alloc(B * C * 4), dU: pool.alloc(B * m * 4),
    };
    return batch;
  };

  let t = 0;
  const lossSum = new HostLossSum();
  const weights = { params, VT, b, d, m, C };
  const attacked = { openInputGradient: () => mlpThreadedSession(pool, kernels, weights, () => {}) };
  const chunk = neuronChunk(m, T);
  const lambda = weightDecayOf(spec);
  const decayed = decayedParameters(shapes);
  /** A parameter's values in a block region (the moments' layout is the parameters'). */
  const slice = (region: Region, i: number) => pool.f32(region.offset + starts[i]! * 4, starts[i + 1]! - starts[i]!);

  return {
    step(x, _xT, y, scale, lr) {
      const B = x.shape[0];
      const { X, Y, S, XT, H, Z, dU } = batchFor(B);
      copyTensorInto(kernels, x, pool.f32(X));
      copyTensorInto(kernels, y, pool.f32(Y));
      copyTensorInto(kernels, scale, pool.f32(S));
      pool.run('mlpTrainSamples', threadChunk(B, T), [
        X.offset, Y.offset, S.offset, params.offset, b?.offset ?? 0, threshold ? 1 : 0, VT.offset, B, d, m, C,
        XT.offset, H.offset, Z.offset, dU.offset, grads.offset, dbl.offset, loss.offset,
      ]);
      const losses = pool.f64(loss.offset, T);
      for (let k = 0; k < T; k++) lossSum.add(losses[k]!);
      t += 1;
      pool.run('mlpTrainUpdate', chunk, [
        T, params.offset, d, m, C, grads.offset, dbl.offset, b?.offset ?? 0, invNorm?.offset ?? 0, rho, threshold ? 1 : 0, kind, lr,
        adam ? 0 : spec.momentum, adam ? spec.beta1 : 0, adam ? spec.beta2 : 0, adam ? spec.epsilon : 0,
        adam ? 1 - Math.pow(spec.beta1, t) : 1, adam ? 1 - Math.pow(spec.beta2, t) : 1,
        first?.offset ?? 0, second?.offset ?? 0,
      ]);
      if (lambda > 0) {
        // decoupled weight decay (weightDecay.ts) on the weight matrices in the shared block; the
        // thresholds follow fc1's row norms, so they are recomputed from the decayed W
        for (const i of decayed) decayInPlace(slice(params, i), lr * lambda);
        if (b && invNorm) pool.call('thresholdFromNorms', [params.offset, d, m, rho, b.offset, invNorm.offset]);
      }
      refreshVT();
    },
    perturb(x, y, attack) {
      return pgdPerturb(attacked, x, y, attack);
    },
    takeLoss: () => lossSum.take(),
    sync() {
      model.setParameters(shapes.map((shape, i) => tf.tensor(slice(params, i).slice(), shape)));
    },
    exportState(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      // the fused trainer makes its moments at the first step: before it, the state has none
      if (t > 0) {
        if (first) shapes.forEach((_, i) => (tensors[`first.${i}`] = slice(first, i).slice()));
        if (second) shapes.forEach((_, i) => (tensors[`second.${i}`] = slice(second, i).slice()));
      }
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      const load = (region: Region | null, which: 'first' | 'second') => {
        if (!region) return;
        pool.f32(region).fill(0);
        if (!Object.keys(state.tensors).some((k) => k.startsWith(`${which}.`))) return;
        shapes.forEach((_, i) => {
          const values = state.tensors[`${which}.${i}`];
          if (!values) throw new Error(`optimizer state has no "${which}.${i}" for parameter ${model.parameterNames[i]}`);
          slice(region, i).set(values);
        });
      };
      load(first, 'first');
      load(second, 'second');
    },
    dispose() {
      for (const r of owned) pool.free(r);
      owned.length = 0;
      freeBatch();
    },
  };
}

/**
 * The image hot path of wasm on `threads` kernel threads: the MLP's training step and attacks
 * (training and evaluation) split each batch across them; other image models keep their own
 * trainers. Null when the kernels do not load.
 */
export async function threadedMlpHotPath(threads: number): Promise<ImageHotPath | null> {
  const kernels = await loadFusedKernels();
  if (!kernels) return null;
  const pool = kernelThreadPool(threads);
  return {
    makeTrainer: (model, config) => (model instanceof Mlp ? createThreadedMlpTrainer(pool, kernels, model, config) : null),
    mlpInputGradientProvider: null,
    mlpInputGradientSource: (model) => threadedMlpInputGradient(pool, kernels, model),
  };
}
