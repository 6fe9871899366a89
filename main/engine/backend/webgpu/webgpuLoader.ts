/**
 * The webgpu backend in Node: tfjs-backend-webgpu over Dawn's Node binding (the `webgpu` package,
 * prebuilt for Linux, macOS and Windows), on the adapter WebGPU prefers for high performance.
 *
 * Two things differ from a browser. tfjs-backend-webgpu registers itself only where
 * `navigator.gpu` exists, which Node lacks, so the backend is registered here, on the adapter
 * and device chosen here (`navigator.gpu` is then set, because the backend's constructor checks
 * it). And its synchronous read goes through an
 * OffscreenCanvas, which Node lacks too, so `readSync` is replaced by a copy to a mappable buffer
 * whose mapping is waited for synchronously (./dawnEvents.ts): the engine reads losses,
 * attack results and accuracies with `dataSync`, as on every other backend.
 *
 * On Linux, Dawn loads the Vulkan loader (libvulkan.so.1) and the drivers it lists. For the
 * software adapter used in tests, the process must start with
 * LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 * (Debian's chromium ships the loader and SwiftShader's Vulkan driver); the dynamic loader reads
 * LD_LIBRARY_PATH at process start, so it cannot be set from inside.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as DawnNode from 'webgpu';
import { adapterName, reportAdapter, type AdapterReport } from './adapter.ts';
import { captureDawnEvents, waitFor } from './dawnEvents.ts';

/** The members of tfjs-backend-webgpu's backend that the synchronous read uses (4.22). */
interface WebgpuInternals {
  readonly device: GPUDevice;
  readonly tensorMap: { get(dataId: object): { values?: tf.backend_util.BackendValues | null; dtype: tf.DataType; resource?: unknown } };
  readonly commandEncoder: GPUCommandEncoder;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
}

/**
 * A loaded webgpu backend, as ../chooseBackend.ts's LoadedBackend (not imported: chooseBackend.ts imports this
 * file), with the adapter it runs on.
 */
export interface LoadedWebgpu {
  /** Where the shaders run: a software adapter runs them on the CPU. */
  readonly device: 'gpu' | 'cpu';
  readonly note?: string;
  readonly label: string;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  readonly adapter: AdapterReport;
}

let loaded: LoadedWebgpu | null = null;

/**
 * On Linux, whether the Vulkan loader can be found where the dynamic loader looks (the
 * directories of LD_LIBRARY_PATH, then its cache). Without it Dawn finds no adapter and prints a
 * warning to the process's stderr, so the webgpu candidate is skipped before Dawn starts.
 */
export function vulkanLoaderMissing(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | null {
  if (platform !== 'linux') return null;
  const library = 'libvulkan.so.1';
  const dirs = (env['LD_LIBRARY_PATH'] ?? '').split(':').filter((dir) => dir !== '');
  if (dirs.some((dir) => existsSync(join(dir, library)))) return null;
  try {
    if (readFileSync('/etc/ld.so.cache').includes(library)) return null;
  } catch {
    // No cache: look in the usual places below.
  }
  if (['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((dir) => existsSync(join(dir, library)))) return null;
  return `the Vulkan loader (${library}, Debian's libvulkan1) is not installed, so WebGPU has no adapter`;
}

export async function loadWebgpu(): Promise<LoadedWebgpu> {
  if (loaded) {
    if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialise');
    return loaded;
  }
  const missing = vulkanLoaderMissing();
  if (missing) throw new Error(missing);
  // Before the instance exists: dawn.node schedules its event processing from the first request.
  captureDawnEvents();
  let binding: typeof DawnNode;
  try {
    binding = await import('webgpu');
  } catch (error) {
    throw new Error(`the webgpu package (Dawn's Node binding) failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  // tfjs-backend-webgpu uses the WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals.
  Object.assign(globalThis, binding.globals);
  const gpu = binding.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'WebGPU found no adapter: Dawn needs a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; on Linux that is libvulkan1 and the GPU maker\'s Vulkan driver',
    );
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const report = reportAdapter(
    {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
    adapter.limits,
  );
  const limits = adapter.limits;
  // The limits tfjs-backend-webgpu asks for in a browser: the adapter's own, not the defaults.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      // The fused WGSL kernels (./gpuKernels.ts) bind up to `fusedStorageBuffers` buffers.
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');

  class NodeWebGPUBackend extends WebGPUBackend {
    override readSync(dataId: object): tf.backend_util.BackendValues {
      const self = this as unknown as WebgpuInternals;
      const data = self.tensorMap.get(dataId);
      if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') return super.readSync(dataId);
      const source = data.resource as GPUBuffer;
      const staging = self.device.createBuffer({ size: source.size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      try {
        self.ensureCommandEncoderReady();
        self.endComputePassEncoder();
        self.commandEncoder.copyBufferToBuffer(source, 0, staging, 0, source.size);
        self.submitQueue();
        // A failed mapping goes back to 'unmapped' (its promise rejects later, unobserved here).
        staging.mapAsync(GPUMapMode.READ).catch(() => undefined);
        waitFor(() => staging.mapState !== 'pending', 'webgpu readSync');
        if (staging.mapState !== 'mapped') throw new Error('webgpu readSync: the read-back buffer could not be mapped (was the device lost?)');
        const bytes = staging.getMappedRange().slice(0);
        staging.unmap();
        return self.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
      } finally {
        staging.destroy();
      }
    }
  }

  // The backend's constructor checks `navigator.gpu`: Node 20 has no navigator, and Node 21's has
  // no gpu, so the binding's GPU object is put there (the backend never asks it for an adapter).
  const global = globalThis as { navigator?: object };
  global.navigator ??= {};
  if (!('gpu' in global.navigator)) Object.defineProperty(global.navigator, 'gpu', { value: gpu, configurable: true });
  tf.registerBackend('webgpu', () => new NodeWebGPUBackend(device, info));
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialise');
  loaded = {
    device: report.software ? 'cpu' : 'gpu',
    adapter: report,
    ...(report.software ? { note: `${adapterName(report)} runs the shaders on the CPU: for checking correctness, slower than wasm` } : {}),
    label: `webgpu on ${adapterName(report)}`,
    details: {
      vendor: report.vendor,
      architecture: report.architecture,
      description: report.description,
      software: report.software,
      maxBufferSize: report.maxBufferSize,
      maxStorageBufferBindingSize: report.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: report.maxComputeWorkgroupStorageSize,
    },
  };
  return loaded;
}
