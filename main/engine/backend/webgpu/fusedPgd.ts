/**
 * The PGD loop of a fused WGSL session (InputGradientSession.pgdRun): every step is one dispatch
 * of the model's PGD kernel (input gradient and projected step, ./twoLayerWgsl.ts, ./mlpWgsl.ts),
 * and all the steps of an attack go in one submission. The adversarial points are a fresh tfjs
 * tensor written in place; the zero-gradient count stays on the device as a scalar tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../../shared/config.ts';
import type { GpuKernels} from './gpuKernels.ts';
import { packUniforms } from './gpuKernels.ts';

/** What a model contributes to its PGD kernel. */
export interface FusedPgdModel {
  kernel(norm: Norm): GPUComputePipeline;
  /** The buffers bound after the uniforms and before the tail's, for `rows` rows with labels y. */
  buffers(y: tf.Tensor1D, rows: number): GPUBuffer[];
  /** The uniform fields after the tail's common ones (./pgdWgsl.ts), for `rows` rows. */
  fields(rows: number): readonly (readonly ['u32' | 'f32', number])[];
}

/**
 * The attack's first iterate, clip(x0 + start) (x0 without a start), in a buffer of its own (never
 * tf.clone, which shares x0's): the PGD kernels write it in place.
 */
export function startingPoint(x0: tf.Tensor2D, start: tf.Tensor2D | null, clip: readonly [number, number] | null | undefined): tf.Tensor2D {
  return tf.tidy(() => tf.add(start ? (clip ? tf.clipByValue(tf.add(x0, start), clip[0], clip[1]) : tf.add(x0, start)) : x0, 0)) as tf.Tensor2D;
}

export function fusedPgdRun(
  gpu: GpuKernels,
  model: FusedPgdModel,
  x0: tf.Tensor2D,
  y: tf.Tensor1D,
  eps: Float32Array,
  alpha: Float32Array,
  start: tf.Tensor2D | null,
  options: { norm: Norm; steps: number; clip: readonly [number, number] | null | undefined },
): { x: tf.Tensor2D; zeroGradient: tf.Scalar } {
  const [rows, d] = x0.shape;
  if (rows > 65535) throw new RangeError(`the fused PGD step attacks at most 65535 rows at once (got ${rows})`);
  const { clip } = options;
  const xa = startingPoint(x0, start, clip);
  const epsT = tf.tensor1d(eps);
  const alphaT = tf.tensor1d(alpha);
  const zero = tf.zeros([1], 'int32');
  const grad = gpu.storage(rows * d);
  const [lo, hi] = clip ?? [0, 0];
  const modelBuffers = model.buffers(y, rows);
  const fields = model.fields(rows);
  const uniformsFor = (first: boolean) => {
    const buffer = gpu.uniforms(6 + fields.length);
    gpu.write(buffer, packUniforms([['u32', rows], ['u32', d], ['u32', first ? 1 : 0], ['u32', clip ? 1 : 0], ['f32', lo], ['f32', hi], ...fields]));
    return buffer;
  };
  const firstStep = uniformsFor(true);
  const laterSteps = uniformsFor(false);
  const kernel = model.kernel(options.norm);
  const tail = [gpu.bind(x0), gpu.bind(xa, { written: true }), gpu.bind(epsT), gpu.bind(alphaT), grad, gpu.bind(zero, { written: true })];
  gpu.submit(Array.from({ length: options.steps }, (_, t) => ({ kernel, buffers: [t === 0 ? firstStep : laterSteps, ...modelBuffers, ...tail], workgroups: rows })));
  // Destroyed once the submitted work that uses them has completed.
  for (const buffer of [grad, firstStep, laterSteps]) buffer.destroy();
  const zeroGradient = tf.tidy(() => tf.reshape(tf.cast(zero, 'float32'), []) as tf.Scalar);
  tf.dispose([epsT, alphaT, zero]);
  return { x: xa, zeroGradient };
}
