/**
 * The image MLP's hot path on webgpu: the trainer and the attack sessions over the fused WGSL
 * kernels of ./mlpWgsl.ts. The trainer keeps working copies of the parameters, W [d, m] and the
 * small ones packed as P = [c | V | e] (with their moments packed the same way), written back to
 * the model at the end of each epoch (`sync`); its optimiser state is exported in the generic
 * format ({ t, first.i, second.i } by parameter index, in the model's shapes), so either trainer
 * resumes the other's checkpoints. A step is one submission of 4 dispatches (3 with ReLU); the
 * loss is summed on the device and read once, by takeLoss.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm, ResolvedExperiment } from '../../../../shared/config.ts';
import { pgdPerturb } from '../../attacks/pgd.ts';
import type { InputGradientSession } from '../../models/marginModel.ts';
import type { Mlp } from '../../models/mlp.ts';
import type { OptimizerState } from '../../training/checkpoint.ts';
import type { Trainer } from '../../training/trainer.ts';
import { readBack } from '../readBack.ts';
import { fusedPgdRun, type FusedPgdModel } from './fusedPgd.ts';
import { GpuKernels, packUniforms } from './gpuKernels.ts';
import { columnThresholdsWgsl, mlpForwardWgsl, mlpPgdWgsl, mlpUpdateSmallWgsl, mlpUpdateWWgsl, scratchLayout } from './mlpWgsl.ts';
import { optimiserKind, optimiserWords } from './optimiserWgsl.ts';
import { elementGrid } from './wgslCommon.ts';

/** [c | V | e] as one tensor of its own. */
function packSmall(c: tf.Tensor, V: tf.Tensor, e: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.concat([tf.reshape(c, [-1]), tf.reshape(V, [-1]), tf.reshape(e, [-1])])) as tf.Tensor1D;
}

/** The packed [c | V | e] back as [c, V, e] in the model's shapes. */
function unpackSmall(P: tf.Tensor, m: number, C: number): [tf.Tensor1D, tf.Tensor2D, tf.Tensor1D] {
  return tf.tidy(() => {
    const [c, V, e] = tf.split(P, [m, m * C, C]);
    return [c as tf.Tensor1D, tf.reshape(V!, [m, C]) as tf.Tensor2D, e as tf.Tensor1D];
  });
}

/**
 * A session on W and the packed P (read only): PGD through the fused step, margins through
 * the model's own tfjs session (`margins`), which must see the same weights.
 */
function mlpWebgpuSession(gpu: GpuKernels, model: Mlp, W: tf.Tensor, P: tf.Tensor, margins: InputGradientSession, release: () => void): InputGradientSession {
  const { width: m, classes: C, inputDim: d } = model;
  const threshold = model.spec.activation !== 'relu';
  let scratch: { rows: number; S: GPUBuffer } | null = null;
  const pgdModel: FusedPgdModel = {
    kernel: (norm: Norm) => gpu.kernel(mlpPgdWgsl(norm, threshold)),
    buffers(y, rows) {
      if (!scratch || scratch.rows !== rows) {
        scratch?.S.destroy();
        scratch = { rows, S: gpu.storage(scratchLayout(rows, m, C).words) };
        if (threshold) {
          const p = gpu.uniforms(3);
          gpu.write(p, packUniforms([['u32', d], ['u32', m], ['f32', model.spec.thresholdRatio]]));
          gpu.submit([{ kernel: gpu.kernel(columnThresholdsWgsl()), buffers: [p, gpu.bind(W), scratch.S], workgroups: elementGrid(m) }]);
          p.destroy();
        }
      }
      return [gpu.bind(W), gpu.bind(P), gpu.bind(y), scratch.S];
    },
    fields: (rows) => [['u32', rows], ['u32', m], ['u32', C]],
  };
  return {
    marginGradient: (x, y) => margins.marginGradient(x, y),
    pgdRun: (x0, y, eps, alpha, start, options) => fusedPgdRun(gpu, pgdModel, x0, y, eps, alpha, start, options),
    dispose() {
      scratch?.S.destroy();
      margins.dispose();
      release();
    },
  };
}

/** A session on `model` as it is now, for the evaluation attacks. */
export function mlpWebgpuInputGradient(model: Mlp, margins: InputGradientSession): InputGradientSession {
  const gpu = GpuKernels.ofActiveBackend();
  const [W, c, V, e] = model.parameters() as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const P = packSmall(c, V, e);
  return mlpWebgpuSession(gpu, model, W, P, margins, () => P.dispose());
}

export function createMlpWebgpuTrainer(model: Mlp, config: ResolvedExperiment): Trainer {
  const gpu = GpuKernels.ofActiveBackend();
  const kind = optimiserKind(config);
  const { width: m, classes: C, inputDim: d } = model;
  const threshold = model.spec.activation !== 'relu';
  const rho = model.spec.thresholdRatio;
  const [W0, c0, V0, e0] = model.parameters() as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const W = tf.add(W0, 0); // [d, m], written in place
  const P = packSmall(c0, V0, e0); // [c | V | e], written in place
  const smallSize = P.shape[0];
  const zeros = () => ({ W: tf.zeros(W.shape), P: tf.zeros([smallSize]) });
  let first = kind !== 'sgd' ? zeros() : null;
  let second = kind === 'adam' ? zeros() : null;
  const lossSum = tf.zeros([1]);
  let t = 0;
  const forwardKernel = gpu.kernel(mlpForwardWgsl(threshold));
  const updateWKernel = gpu.kernel(mlpUpdateWWgsl(kind, threshold));
  const updateSmallKernel = gpu.kernel(mlpUpdateSmallWgsl(kind));
  const thresholdKernel = threshold ? gpu.kernel(columnThresholdsWgsl()) : null;
  const thresholdParams = gpu.uniforms(3);
  gpu.write(thresholdParams, packUniforms([['u32', d], ['u32', m], ['f32', rho]]));
  const dims = gpu.uniforms(4);
  const dimsRho = gpu.uniforms(5);
  const optimiserParams = gpu.uniforms(9);
  const scratch = new Map<number, GPUBuffer>();
  const scratchFor = (N: number) => {
    let S = scratch.get(N);
    if (!S) scratch.set(N, (S = gpu.storage(scratchLayout(N, m, C).words)));
    return S;
  };
  /** The training attack sees the working weights; margins (unused by training) through the model. */
  const attacked = {
    openInputGradient: () => mlpWebgpuSession(gpu, model, W, P, { marginGradient: () => { throw new Error('the training attack reads no margins'); }, dispose: () => undefined }, () => undefined),
  };
  return {
    step(x, _xT, y, scale, lr) {
      const N = x.shape[0];
      const S = scratchFor(N);
      t += 1;
      gpu.write(dims, packUniforms([['u32', N], ['u32', m], ['u32', d], ['u32', C]]));
      gpu.write(dimsRho, packUniforms([['u32', N], ['u32', m], ['u32', d], ['u32', C], ['f32', rho]]));
      gpu.write(optimiserParams, packUniforms(optimiserWords(config, lr, t)));
      const Wb = gpu.bind(W, { written: true });
      const Pb = gpu.bind(P, { written: true });
      const xb = gpu.bind(x);
      const moments = (which: 'W' | 'P') => [first, second].filter((s) => s !== null).map((s) => gpu.bind(s[which], { written: true }));
      gpu.submit([
        ...(thresholdKernel ? [{ kernel: thresholdKernel, buffers: [thresholdParams, Wb, S], workgroups: elementGrid(m) }] : []),
        { kernel: forwardKernel, buffers: [dims, Wb, Pb, xb, gpu.bind(y), gpu.bind(scale), S], workgroups: N },
        { kernel: updateWKernel, buffers: [dimsRho, optimiserParams, Wb, xb, S, ...moments('W')], workgroups: elementGrid(d * m) },
        { kernel: updateSmallKernel, buffers: [dims, optimiserParams, Pb, S, gpu.bind(lossSum, { written: true }), ...moments('P')], workgroups: elementGrid(smallSize) },
      ]);
    },
    perturb(x, y, attack) {
      return pgdPerturb(attacked, x, y, attack);
    },
    takeLoss() {
      const value = readBack(() => tf.add(lossSum, 0))[0]!;
      gpu.write(gpu.bind(lossSum, { written: true }), new Float32Array(1).buffer);
      return value;
    },
    sync() {
      const [c, V, e] = unpackSmall(P, m, C);
      model.setParameters([tf.add(W, 0), c, V, e]);
    },
    exportState(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      for (const [name, state] of [['first', first], ['second', second]] as const) {
        if (!state) continue;
        tensors[`${name}.0`] = readBack(() => tf.add(state.W, 0)) as Float32Array;
        const parts = unpackSmall(state.P, m, C);
        parts.forEach((part, i) => (tensors[`${name}.${i + 1}`] = readBack(() => part) as Float32Array));
      }
      return { t, tensors };
    },
    importState(state) {
      t = state.t;
      const load = (which: 'first' | 'second', current: { W: tf.Tensor; P: tf.Tensor } | null) => {
        if (!current) return null;
        const values = [0, 1, 2, 3].map((i) => state.tensors[`${which}.${i}`]);
        if (values.every((v) => v === undefined)) return current;
        values.forEach((v, i) => {
          if (!v) throw new Error(`optimizer state has no "${which}.${i}" for parameter ${model.parameterNames[i]}`);
        });
        tf.dispose([current.W, current.P]);
        return { W: tf.tensor(values[0]!, W.shape), P: tf.tensor1d(Float32Array.from([...values[1]!, ...values[2]!, ...values[3]!])) };
      };
      first = load('first', first);
      second = load('second', second);
    },
    dispose() {
      for (const S of scratch.values()) S.destroy();
      for (const buffer of [thresholdParams, dims, dimsRho, optimiserParams]) buffer.destroy();
      tf.dispose([W, P, lossSum, ...[first, second].flatMap((s) => (s ? [s.W, s.P] : []))]);
    },
  };
}
