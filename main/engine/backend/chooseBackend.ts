/**
 * Choose, load and report the tfjs compute backend.
 *
 * Preference: tensorflow on GPU > webgpu on a hardware adapter > tensorflow on CPU > wasm > cpu.
 * The native backend comes from one optional package, @tensorflow/tfjs-node-gpu: when its
 * TensorFlow finds no usable GPU (CUDA/cuDNN missing or the wrong version) it still runs, on the
 * CPU, and that is reported as CPU, never as GPU. A candidate that fails to load is skipped with
 * its reason, and the reasons travel with the choice (CLI first line, run record).
 * A WebGPU software adapter (SwiftShader, llvmpipe, lavapipe, WARP) runs shaders on the CPU,
 * slower than wasm: it is never chosen automatically, only with `--backend webgpu` (for checking
 * correctness), and the backend line then names it.
 * `--backend NAME` forces one candidate and fails with a clear message when it cannot load;
 * `tensorflow-cpu` hides the CUDA GPUs from TensorFlow before it starts.
 *
 * Loaders are injectable: nothing on the development machine can load the native package, so
 * tests drive the selection with fake loaders (fails / loads without GPU / loads with GPU).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../../../shared/events.ts';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
/** What `--backend` accepts: a backend, or the native one pinned to a device. */
export const backendRequests = ['tensorflow-gpu', 'tensorflow-cpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof backendRequests)[number];

export interface LoadedBackend {
  /** Where the kernels actually run. */
  readonly device: 'gpu' | 'cpu';
  /** Why a GPU package runs on the CPU, or other facts worth showing. */
  readonly note?: string;
  /** How to name it, where the backend's name alone says too little (the WebGPU adapter). */
  readonly label?: string;
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

/** Loads one backend and makes it the active tfjs backend; throws with a reason if it cannot. */
export type BackendLoader = () => Promise<LoadedBackend>;
export type BackendLoaders = Readonly<Record<BackendName, BackendLoader>>;

/** The chosen backend as reported to people and recorded with runs (see shared/events.ts). */
export type BackendChoice = Omit<BackendInfo, 'fusedKernels'>;

export class BackendError extends Error {
  override name = 'BackendError';
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}

/** The real loaders. Each imports its package lazily, so an absent one costs nothing. */
export const defaultLoaders: BackendLoaders = {
  async tensorflow() {
    let binding: unknown;
    try {
      // Registers the 'tensorflow' backend on the shared tfjs-core. Never also load tfjs-node:
      // both packages register the same name.
      binding = await import('@tensorflow/tfjs-node-gpu' as string);
    } catch (error) {
      const text = reasonOf(error);
      if (/Cannot find (module|package)/.test(text)) {
        throw new Error(
          'the optional package @tensorflow/tfjs-node-gpu is not installed (its install step downloads libtensorflow, which needs internet)',
        );
      }
      throw new Error(`@tensorflow/tfjs-node-gpu failed to load: ${text}`);
    }
    void binding;
    if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
    const backend = tf.backend() as unknown as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };
    if (backend.isGPUPackage && backend.isUsingGpuDevice) return { device: 'gpu' };
    return {
      device: 'cpu',
      note: 'the GPU package loaded, but TensorFlow found no usable GPU (it needs CUDA 11.2 and cuDNN 8.1), so it runs on the CPU',
    };
  },
  async webgpu() {
    const { loadWebgpu } = await import('./webgpu/webgpuLoader.ts');
    return loadWebgpu();
  },
  async wasm() {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
    return {
      device: 'cpu',
      details: {
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
        // tfjs #3830: the wasm backend's threads are off in Node; it runs on one core.
        threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
      },
    };
  },
  async cpu() {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
    // The cpu backend prints a banner about tfjs-node on first use; the choice and the reasons
    // for it are already reported by describeBackend, so the banner is switched off.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return { device: 'cpu' };
  },
};

function label(name: BackendName, loaded: LoadedBackend): string {
  return loaded.label ?? (name === 'tensorflow' ? `tensorflow (${loaded.device.toUpperCase()})` : name);
}

function chosen(name: BackendName, loaded: LoadedBackend, skipped: BackendChoice['skipped'], forced: boolean): BackendChoice {
  return {
    name,
    device: loaded.device,
    label: label(name, loaded),
    skipped,
    forced,
    ...(loaded.note ? { note: loaded.note } : {}),
    details: loaded.details ?? {},
  };
}

/** A WebGPU adapter that runs on the CPU (see ./webgpu/adapter.ts): usable when forced only. */
function isSoftware(loaded: LoadedBackend): boolean {
  return loaded.details?.['software'] === true;
}

/**
 * Load the best available backend, or the forced one. Returns what was chosen and why the
 * preferred ones were skipped; throws a BackendError when a forced backend cannot be had.
 */
export async function chooseBackend(options: { request?: BackendRequest | undefined; loaders?: BackendLoaders } = {}): Promise<BackendChoice> {
  const loaders = options.loaders ?? defaultLoaders;
  const request = options.request;
  if (request !== undefined) {
    if (!(backendRequests as readonly string[]).includes(request)) {
      throw new BackendError(`Unknown backend "${request}": expected one of ${backendRequests.join(', ')}`);
    }
    const name: BackendName = request.startsWith('tensorflow') ? 'tensorflow' : (request as BackendName);
    // TensorFlow takes every CUDA GPU it can see when it initialises: hiding them first is the
    // one way to keep it on the CPU (TensorFlow reads CUDA_VISIBLE_DEVICES once, at its start).
    if (request === 'tensorflow-cpu') process.env['CUDA_VISIBLE_DEVICES'] = '-1';
    let loaded: LoadedBackend;
    try {
      loaded = await loaders[name]();
    } catch (error) {
      throw new BackendError(`The ${request} backend was requested with --backend but cannot load: ${reasonOf(error)}`);
    }
    if (request === 'tensorflow-gpu' && loaded.device !== 'gpu') {
      throw new BackendError(`The tensorflow-gpu backend was requested with --backend but ${loaded.note ?? 'no GPU is in use'}`);
    }
    if (request === 'tensorflow-cpu' && loaded.device !== 'cpu') {
      throw new BackendError('The tensorflow-cpu backend was requested with --backend but TensorFlow had already started on a GPU in this process, so it cannot be kept on the CPU');
    }
    return chosen(name, loaded, [], true);
  }
  const skipped: { candidate: string; reason: string }[] = [];
  // tensorflow (GPU): the native package, when its TensorFlow found a GPU.
  let tensorflowOnCpu = false;
  try {
    const loaded = await loaders.tensorflow();
    if (loaded.device === 'gpu') return chosen('tensorflow', loaded, skipped, false);
    skipped.push({ candidate: 'tensorflow (GPU)', reason: loaded.note ?? 'no usable GPU' });
    tensorflowOnCpu = true;
  } catch (error) {
    const reason = reasonOf(error);
    skipped.push({ candidate: 'tensorflow (GPU)', reason }, { candidate: 'tensorflow (CPU)', reason });
  }
  // webgpu on a hardware adapter.
  try {
    const loaded = await loaders.webgpu();
    if (!isSoftware(loaded)) return chosen('webgpu', loaded, skipped, false);
    skipped.push({
      candidate: 'webgpu',
      reason: `${loaded.note ?? 'its adapter is a software adapter, which runs on the CPU'} (--backend webgpu forces it)`,
    });
  } catch (error) {
    skipped.push({ candidate: 'webgpu', reason: reasonOf(error) });
  }
  // tensorflow (CPU), loaded above: made the active backend again (the webgpu attempt switched).
  if (tensorflowOnCpu) {
    try {
      return chosen('tensorflow', await loaders.tensorflow(), skipped, false);
    } catch (error) {
      skipped.push({ candidate: 'tensorflow (CPU)', reason: reasonOf(error) });
    }
  }
  for (const name of ['wasm', 'cpu'] as const) {
    try {
      return chosen(name, await loaders[name](), skipped, false);
    } catch (error) {
      skipped.push({ candidate: name, reason: reasonOf(error) });
    }
  }
  throw new BackendError(`No compute backend could be loaded:\n${skipped.map((s) => `  ${s.candidate}: ${s.reason}`).join('\n')}`);
}

/** One line for the CLI's first line and the UI header. */
export function describeBackend(choice: BackendChoice): string {
  const parts = [`backend: ${choice.label}${choice.forced ? ' (forced by --backend)' : ''}`];
  if (choice.note && choice.name !== 'tensorflow') parts.push(choice.note);
  const flags = Object.entries(choice.details).map(([k, v]) => `${k} ${v === true ? 'on' : v === false ? 'off' : v}`);
  if (flags.length) parts.push(flags.join(', '));
  if (choice.skipped.length) {
    // Candidates skipped for the same reason share one entry: "tensorflow (GPU), tensorflow (CPU): reason".
    const byReason = new Map<string, string[]>();
    for (const s of choice.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.candidate]);
    parts.push('skipped ' + [...byReason].map(([reason, names]) => `${names.join(', ')}: ${reason}`).join('; '));
  }
  return parts.join(' | ');
}

/**
 * Fail before a run starts when the active backend lacks a kernel the experiment needs,
 * naming the kernel (instead of crashing mid-run).
 */
export function assertKernels(kernels: readonly string[], backendName = tf.getBackend()): void {
  const missing = kernels.filter((k) => tf.getKernel(k, backendName) === undefined);
  if (missing.length) {
    throw new BackendError(`The ${backendName} backend lacks the kernel${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that this experiment needs`);
  }
}
