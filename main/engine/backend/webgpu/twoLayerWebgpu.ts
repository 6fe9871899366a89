/**
 * The two-layer network's hot path on webgpu: the trainer and the attack sessions over the fused
 * WGSL kernels of ./twoLayerWgsl.ts. The trainer mirrors the fused wasm one
 * (../../training/fusedTrainer.ts): it works on W [m, d] (rows are neurons), written back to the
 * network at the end of each epoch (`sync`); its optimiser state is exported in the generic
 * layout (Wt [d, m]) so any trainer resumes its checkpoints. A step is one submission of 3
 * dispatches (2 with fixed thresholds); the loss is summed on the device and read once, by takeLoss.
 *
 * Modes: relative and fixed thresholds, with SGD (momentum or not) or Adam. Learned thresholds
 * use the generic trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm, ResolvedExperiment } from '../../../../shared/config.ts';
import { pgdPerturb } from '../../attacks/pgd.ts';
import type { InputGradientSession } from '../../models/marginModel.ts';
import type { TwoLayerNet } from '../../models/twoLayerNet.ts';
import { momentTensors, ownedCopy, rowLayoutEdges, rowMoments, workingRows } from '../../training/rowLayout.ts';
import type { Trainer } from '../../training/trainer.ts';
import { readBack } from '../readBack.ts';
import { fusedPgdRun, type FusedPgdModel } from './fusedPgd.ts';
import { GpuKernels, packUniforms, type Dispatch } from './gpuKernels.ts';
import { optimiserKind, optimiserWords } from './optimiserWgsl.ts';
import { forwardWgsl, rowThresholdsWgsl, twoLayerPgdWgsl, updateWgsl } from './twoLayerWgsl.ts';
import { elementGrid } from './wgslCommon.ts';

/** The weights a session reads: W [m, d], thresholds b [m] (already computed), the output weight a. */
interface Weights {
  readonly W: tf.Tensor2D;
  readonly b: tf.Tensor1D;
  readonly a: number;
}

/**
 * Margins y a sum_i s_{b_i}(w_i . x) and their input gradients G W (G_ni = -y_n a mask_ni) in
 * tfjs ops, for what an attack reads besides its iterate (the final margins, the zero-gradient
 * rows): the same maths as TwoLayerNet's own session, on the session's weights.
 */
function marginGradient({ W, b, a }: Weights, x: tf.Tensor2D, y: tf.Tensor1D): { margin: tf.Tensor1D; gradient: tf.Tensor2D } {
  return tf.tidy(() => {
    const U = tf.matMul(x, W, false, true);
    const act = tf.sub(U, tf.minimum(tf.maximum(U, tf.neg(b)), b));
    const margin = tf.mul(tf.mul(tf.sum(act, 1), a), y) as tf.Tensor1D;
    const G = tf.mul(tf.abs(tf.sign(act)), tf.reshape(tf.mul(y, -a), [-1, 1]));
    return { margin, gradient: tf.matMul(G, W) as tf.Tensor2D };
  });
}

/** An attack session on `weights` (read only); `release` frees what the caller made for it. */
export function twoLayerWebgpuSession(gpu: GpuKernels, weights: Weights, release: () => void): InputGradientSession {
  const [m] = weights.W.shape;
  let scratch: { rows: number; Gx: GPUBuffer } | null = null;
  const model: FusedPgdModel = {
    kernel: (norm: Norm) => gpu.kernel(twoLayerPgdWgsl(norm)),
    buffers(y, rows) {
      if (!scratch || scratch.rows < rows) {
        scratch?.Gx.destroy();
        scratch = { rows, Gx: gpu.storage(rows * m) };
      }
      return [gpu.bind(weights.W), gpu.bind(weights.b), gpu.bind(y), scratch.Gx];
    },
    fields: () => [['u32', m], ['f32', weights.a]],
  };
  return {
    marginGradient: (x, y) => marginGradient(weights, x, y),
    pgdRun: (x0, y, eps, alpha, start, options) => fusedPgdRun(gpu, model, x0, y, eps, alpha, start, options),
    dispose() {
      scratch?.Gx.destroy();
      release();
    },
  };
}

/** A session on `net` as it is now, for the evaluation attacks (margins through tfjs ops). */
export function twoLayerWebgpuInputGradient(net: TwoLayerNet): InputGradientSession {
  const gpu = GpuKernels.ofActiveBackend();
  const W = workingRows(net);
  const b = net.thresholds();
  return twoLayerWebgpuSession(gpu, { W, b, a: net.outputWeight }, () => tf.dispose([W, b]));
}

/** The fused trainer of one phase, or null when the network's mode has no fused path. */
export function createTwoLayerWebgpuTrainer(net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
  if (net.thresholdMode === 'learned') return null;
  const gpu = GpuKernels.ofActiveBackend();
  const kind = optimiserKind(config);
  const m = net.width;
  const d = net.inputDim;
  const a = net.outputWeight;
  const rho = net.thresholdRatio;
  const relative = net.thresholdMode === 'relative';
  const W = workingRows(net); // [m, d], written in place
  const b = (relative ? tf.zeros([m]) : ownedCopy(net.b!)) as tf.Tensor1D;
  const invNorm = tf.zeros([m]);
  const moments = rowMoments(m, d, kind !== 'sgd', kind === 'adam');
  const lossSum = tf.zeros([1]);
  const thresholdKernel = gpu.kernel(rowThresholdsWgsl());
  const forwardKernel = gpu.kernel(forwardWgsl());
  const updateKernel = gpu.kernel(updateWgsl(kind, relative));
  const thresholdParams = gpu.uniforms(3);
  gpu.write(thresholdParams, packUniforms([['u32', m], ['u32', d], ['f32', rho]]));
  const forwardParams = gpu.uniforms(4);
  const updateParams = gpu.uniforms(4);
  const optimiserParams = gpu.uniforms(9);
  /** Per batch size: U, G [B, m] and the per-sample losses. */
  const scratch = new Map<number, { U: GPUBuffer; G: GPUBuffer; loss: GPUBuffer }>();
  const scratchFor = (B: number) => {
    let s = scratch.get(B);
    if (!s) scratch.set(B, (s = { U: gpu.storage(B * m), G: gpu.storage(B * m), loss: gpu.storage(B) }));
    return s;
  };
  const thresholdDispatch = (): Dispatch => ({
    kernel: thresholdKernel,
    buffers: [thresholdParams, gpu.bind(W), gpu.bind(b, { written: true }), gpu.bind(invNorm, { written: true })],
    workgroups: m,
  });
  const attackedWeights = {
    openInputGradient() {
      if (relative) gpu.submit([thresholdDispatch()]);
      return twoLayerWebgpuSession(gpu, { W, b, a }, () => undefined);
    },
  };

  return {
    step(x, _xT, y, scale, lr) {
      const B = x.shape[0];
      const s = scratchFor(B);
      moments.t += 1;
      gpu.write(forwardParams, packUniforms([['u32', B], ['u32', m], ['u32', d], ['f32', a]]));
      gpu.write(updateParams, packUniforms([['u32', B], ['u32', m], ['u32', d], ['f32', rho]]));
      gpu.write(optimiserParams, packUniforms(optimiserWords(config, lr, moments.t)));
      const Wb = gpu.bind(W, { written: true });
      const xb = gpu.bind(x);
      const momentBuffers = momentTensors(moments).map((moment) => gpu.bind(moment, { written: true }));
      gpu.submit([
        ...(relative ? [thresholdDispatch()] : []),
        { kernel: forwardKernel, buffers: [forwardParams, Wb, xb, gpu.bind(y), gpu.bind(scale), gpu.bind(b), s.U, s.G, s.loss], workgroups: B },
        {
          kernel: updateKernel,
          buffers: [updateParams, optimiserParams, Wb, xb, s.G, s.loss, gpu.bind(lossSum, { written: true }), ...(relative ? [s.U, gpu.bind(invNorm)] : []), ...momentBuffers],
          workgroups: elementGrid(m * d),
        },
      ]);
    },
    perturb(x, y, attack) {
      return pgdPerturb(attackedWeights, x, y, attack);
    },
    takeLoss() {
      const value = readBack(() => ownedCopy(lossSum))[0]!;
      gpu.write(gpu.bind(lossSum, { written: true }), new Float32Array(1).buffer);
      return value;
    },
    // The moments are kept in the row layout W [m, d]; a checkpoint stores the generic Wt [d, m].
    ...rowLayoutEdges(net, W, moments),
    dispose() {
      for (const s of scratch.values()) for (const buffer of [s.U, s.G, s.loss]) buffer.destroy();
      for (const buffer of [thresholdParams, forwardParams, updateParams, optimiserParams]) buffer.destroy();
      tf.dispose([W, b, invNorm, lossSum, ...momentTensors(moments)]);
    },
  };
}
