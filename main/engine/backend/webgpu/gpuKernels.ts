/**
 * Running our own WGSL compute shaders on tfjs-backend-webgpu's device, in place on tfjs tensors.
 *
 * Why tfjs's device and not a device of our own on the same adapter: two devices share no
 * buffers, so every batch, label and weight would cross through host memory twice a step. On
 * tfjs's device a tensor's storage buffer is bound directly: the batches tfjs makes, the weights
 * the instruments read, the adversarial points the training step takes are all the same buffers,
 * and the fused kernels and tfjs's own ops (evaluation, instruments) interleave on one queue.
 *
 * Ordering: tfjs records its ops into a command encoder that it submits lazily. Before we submit
 * our dispatches, its pending commands are submitted (`submitQueue`), so ours see their results;
 * and since ours are submitted before any later tfjs op, those see ours (one queue, in order).
 * Within one submission, every dispatch sees the writes of the dispatches before it (WebGPU
 * synchronises storage buffers between dispatches).
 *
 * A tensor written in place must own its buffer (made by an op, never a tf.clone that shares it)
 * and must not keep a host copy: `bind(t, { written: true })` drops tfjs's cached host values, so
 * the next read fetches the device's.
 *
 * Every dispatch goes through `submit`, which counts them: the bench prints dispatches per step.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The members of tfjs-backend-webgpu's backend (4.22) that binding and ordering use. */
interface WebgpuBackendInternals {
  readonly device: GPUDevice;
  readonly tensorMap: { get(dataId: object): { values?: unknown; resource?: unknown } };
  uploadToGPU(dataId: object): void;
  submitQueue(): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
}

/**
 * The most storage buffers one fused kernel binds (the PGD steps). WebGPU's default limit is 8;
 * the loader asks for the adapter's own (SwiftShader 12, desktop GPUs 16 and more), and the hot
 * path is used only where the device has at least this many.
 */
export const fusedStorageBuffers = 10;

/** One dispatch: a compiled kernel, its bindings in binding order, and the workgroup count (a stack's kernels take members on z). */
export interface Dispatch {
  readonly kernel: GPUComputePipeline;
  readonly buffers: readonly GPUBuffer[];
  readonly workgroups: number | readonly [number, number] | readonly [number, number, number];
}

/** A buffer-to-buffer copy recorded around a submission's compute pass (offsets and size in bytes). */
export interface Copy {
  readonly from: GPUBuffer;
  readonly fromOffset: number;
  readonly to: GPUBuffer;
  readonly toOffset: number;
  readonly bytes: number;
}

export class GpuKernels {
  readonly device: GPUDevice;
  /** Dispatches submitted so far (for the bench's dispatches per step). */
  dispatches = 0;
  /** Submissions so far (one per fused step or attack). */
  submissions = 0;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  private constructor(private readonly backend: WebgpuBackendInternals) {
    this.device = backend.device;
  }

  /** On the active tfjs backend, which must be webgpu. */
  static ofActiveBackend(): GpuKernels {
    if (tf.getBackend() !== 'webgpu') throw new Error(`the fused WGSL kernels need the webgpu backend (active: ${tf.getBackend()})`);
    const backend = tf.backend() as unknown as WebgpuBackendInternals;
    const existing = instances.get(backend);
    if (existing) return existing;
    const made = new GpuKernels(backend);
    instances.set(backend, made);
    return made;
  }

  /** Whether the device binds as many storage buffers per kernel as the fused kernels need. */
  get fits(): boolean {
    return this.device.limits.maxStorageBuffersPerShaderStage >= fusedStorageBuffers;
  }

  /** The compiled kernel of `code` (entry point `main`), compiled once. */
  kernel(code: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module: this.device.createShaderModule({ code }), entryPoint: 'main' } });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  /** The storage buffer of `t` (uploaded if it is still on the host). `written`: the kernel writes it in place. */
  bind(t: tf.Tensor, options: { written?: boolean } = {}): GPUBuffer {
    const b = this.backend;
    b.uploadToGPU(t.dataId);
    const data = b.tensorMap.get(t.dataId);
    if (options.written) data.values = null;
    return data.resource as GPUBuffer;
  }

  /** A uniform buffer of `words` 32-bit words, ours to rewrite with `write`. */
  uniforms(words: number): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil((words * 4) / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** A storage buffer of `words` 32-bit words, zeroed. */
  storage(words: number): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, words * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  /** Write u32 / f32 words (already laid out by the caller) into a buffer, at byte `offset`, in queue order. */
  write(buffer: GPUBuffer, words: ArrayBuffer | ArrayBufferView, offset = 0): void {
    if (ArrayBuffer.isView(words)) this.device.queue.writeBuffer(buffer, offset, words.buffer, words.byteOffset, words.byteLength);
    else this.device.queue.writeBuffer(buffer, offset, words);
  }

  /**
   * Submit tfjs's pending work, then `dispatches` as one compute pass in one submission; `copies`
   * go into the same submission before and after the pass (a stack gathers its members' batches
   * into its stacked buffers, and scatters the results back, without a submission of their own).
   */
  submit(dispatches: readonly Dispatch[], copies: { readonly before?: readonly Copy[]; readonly after?: readonly Copy[] } = {}): void {
    const b = this.backend;
    b.ensureCommandEncoderReady();
    b.endComputePassEncoder();
    b.submitQueue();
    const encoder = this.device.createCommandEncoder();
    const copy = (list: readonly Copy[] | undefined) => list?.forEach((c) => encoder.copyBufferToBuffer(c.from, c.fromOffset, c.to, c.toOffset, c.bytes));
    copy(copies.before);
    const pass = encoder.beginComputePass();
    for (const { kernel, buffers, workgroups } of dispatches) {
      const group = this.device.createBindGroup({
        layout: kernel.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      pass.setPipeline(kernel);
      pass.setBindGroup(0, group);
      if (typeof workgroups === 'number') pass.dispatchWorkgroups(workgroups);
      else pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2] ?? 1);
      this.dispatches += 1;
    }
    pass.end();
    copy(copies.after);
    this.device.queue.submit([encoder.finish()]);
    this.submissions += 1;
  }
}

const instances = new WeakMap<object, GpuKernels>();

/**
 * Parameters packed for a uniform struct whose fields are all 32-bit: integers as u32, the rest
 * as f32, in the struct's field order.
 */
export function packUniforms(fields: readonly (readonly ['u32' | 'f32', number])[]): ArrayBuffer {
  const words = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(words);
  fields.forEach(([kind, value], k) => (kind === 'u32' ? view.setUint32(k * 4, value, true) : view.setFloat32(k * 4, value, true)));
  return words;
}
