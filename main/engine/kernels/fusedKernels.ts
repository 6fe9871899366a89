/**
 * Fused float32 kernels for the tfjs-wasm backend (loader for ./fused.wasm).
 *
 * A training step on the wasm backend is 2 matMuls (XNNPACK, fast) plus ~20 elementwise /
 * reduction ops that each cost ~6-9 µs of launch overhead. This module replaces the latter by a
 * handful of SIMD kernels written in AssemblyScript (./assembly/, one file per kernel family,
 * compiled to ./fused.wasm by `npm run build:kernels`). The .wasm IMPORTS the tfjs-wasm backend's
 * own WebAssembly.Memory, so the kernels read and write tfjs tensors in place, by byte offset,
 * with zero copies and no tensor allocation (tf.memory().numTensors is unchanged by any call).
 *
 * The wrappers mirror the families: ./twoLayerKernels.ts, ./mlpKernels.ts, ./pgdKernels.ts,
 * ./optimiserKernels.ts each hold a family's interface and a table of its arguments' shapes,
 * which ./kernelArgs.ts turns into the checked methods.
 *
 * Facts this relies on (tfjs-backend-wasm 4.22, checked at load time):
 *  - `tf.backend()` is a BackendWasm whose `.wasm` is the Emscripten Module; the Emscripten glue
 *    sets `Module.asm = instance.exports`, whose `memory` is the heap (HEAPU8 views it).
 *  - `backend.dataIdMap.get(t.dataId).memoryOffset` is the tensor's byte offset in that memory.
 *  - The memory grows when tfjs mallocs, which replaces `memory.buffer` but not the Memory
 *    object, so the imported Memory stays valid; this file never caches a typed-array view.
 *
 * Safety: the kernel module must own no memory (no data segment, no start function, no heap or
 * shadow stack), or instantiating it would overwrite Emscripten's heap. ./wasmBinary.ts parses
 * the binary's section table and the loader refuses any binary with a data (11), data-count (12)
 * or start (8) section, or with any import other than the memory `env.memory`.
 *
 * In-place writes: write only into tensors you own (e.g. made once with tf.zeros) and that share
 * no data with other live tensors (a tf.reshape of a tensor shares its data on this backend).
 * Outputs may not overlap any input of the same call; that is checked.
 *
 * STALE-MATMUL HAZARD (measured, and handled here): tfjs-wasm's matMul (XNNPACK fully-connected
 * path, used when neither transpose flag is set) packs its RIGHT-hand operand once and caches the
 * packed copy keyed by that tensor's id until the tensor is disposed (batch_mat_mul_impl.cc,
 * operator_cache). Mutating a tensor in place and then using it again as the right-hand operand
 * of tf.matMul silently multiplies by the OLD values. Every kernel therefore drops those caches
 * for each tensor it writes (the backend's own dispose_data + register_tensor for the same id and
 * memory: the disposal callbacks free the cached operators, the tensor stays intact; about
 * 0.1 µs). The next matMul with that right-hand operand repacks it (~40 µs at 128x128), which is
 * why the two-layer training step keeps every changing operand on the LEFT (./twoLayerKernels.ts).
 * Call `invalidateMatMulCache(t)` yourself after mutating a tensor by any other means.
 *
 * Aliasing: on this backend tf.clone and tf.reshape return tensors that SHARE the original's
 * memory, so an in-place update shows through them; snapshot with e.g. tf.add(t, 0) instead.
 *
 * Typical use (workspaces b, invNorm, dbl, GT, Gx, margin made once with tf.zeros; the two
 * matMul outputs are disposed by the caller every step):
 *
 *   // two-layer training step: right-hand operands XbT [d, B], Xb [B, d] are batch tensors kept
 *   // across epochs, so tfjs-wasm packs them once
 *   const UT = tf.matMul(W, XbT);                       // [m, B]
 *   K.thresholdFromRowNorms(W, rho, b, invNorm);
 *   const loss = K.logisticStepT(UT, b, y, sampleScale, a, GT, dbl);
 *   const dW = tf.matMul(GT, Xb);                       // [m, d]
 *   K.relativeThresholdGradientRows(dW, W, dbl, invNorm, rho);
 *   K.sgdUpdate(W, dW, lr);
 *   UT.dispose(); dW.dispose();
 *
 *   // PGD l2 step (Wt = tf.transpose(W) [d, m] and W fixed during the attack)
 *   const U = tf.matMul(Xadv, Wt);                      // [N, m]
 *   K.marginGradient(U, b, y, a, Gx, margin);
 *   const grad = tf.matMul(Gx, W);                      // [N, d]
 *   K.pgdL2Step(Xadv, X, grad, alpha, eps, 0, 1, true);
 *   U.dispose(); grad.dispose();
 *
 * The image MLP's use is in ./mlpKernels.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { bindKernelTable, type KernelContext, type RawExports, type ResolvedTensor } from './kernelArgs.ts';
import { mlpTable, type MlpKernels } from './mlpKernels.ts';
import { optimiserTable, type OptimiserKernels } from './optimiserKernels.ts';
import { pgdTable, type PgdKernels } from './pgdKernels.ts';
import { twoLayerTable, type TwoLayerKernels } from './twoLayerKernels.ts';
import { inspectWasm, WA, type FusedWasmReport, type WasmMemory, type WasmModule } from './wasmBinary.ts';

export { KernelWorkspace } from './kernelWorkspace.ts';
export type { FusedWasmReport, WasmMemory, WasmModule } from './wasmBinary.ts';

/** Location of the compiled kernels (committed; rebuild with `npm run build:kernels`). */
export const FUSED_WASM_URL = new URL('./fused.wasm', import.meta.url);

/** Every family's table; their keys are exactly the wasm's exports. */
const TABLES = [twoLayerTable, mlpTable, pgdTable, optimiserTable] as const;

/** The names of every kernel the wasm must export. */
export const KERNEL_NAMES: readonly string[] = TABLES.flatMap((table) => Object.keys(table));

/**
 * Parses the section table of a wasm binary and checks the memory contract: exactly one import,
 * the memory env.memory, no data / data-count / start section, and all kernel exports present.
 */
export function inspectFusedWasm(bytes: Uint8Array): FusedWasmReport {
  return inspectWasm(bytes, KERNEL_NAMES).report;
}

/** What every binding offers besides the kernels. */
interface KernelBinding {
  /** The tfjs-wasm memory the kernels operate on. */
  readonly memory: WasmMemory;
  /** Byte offset of a (float32) tensor in `memory` (resolved per call; never cache a view). */
  offsetOf(t: tf.Tensor): number;
  /**
   * Drops tfjs-wasm's cached XNNPACK matMul operators built from `t` (its packed copy as a
   * right-hand operand). Every kernel here does this for the tensors it writes; call it after
   * mutating a tensor's memory by any other means.
   */
  invalidateMatMulCache(t: tf.Tensor): void;
}

/** Fused kernels bound to one tfjs-wasm backend instance. All tensors are float32, row-major. */
export type FusedKernels = KernelBinding & TwoLayerKernels & MlpKernels & PgdKernels & OptimiserKernels;

/** The slice of tfjs-backend-wasm's BackendWasm this module uses. */
interface WasmBackendInternals {
  wasm?: {
    asm?: { memory?: unknown; dispose_data?: unknown; register_tensor?: unknown };
    HEAPU8?: Uint8Array;
  } | null;
  dataIdMap?: {
    get(dataId: object): { id: number; memoryOffset: number | null; dtype: string; shape: number[] } | undefined;
  };
}

let moduleSync: WasmModule | null = null;
let modulePromise: Promise<WasmModule> | null = null;
const instances = new WeakMap<object, FusedKernels>();

function checkedModule(bytes: Uint8Array): WasmModule {
  const { report, mod } = inspectWasm(bytes, KERNEL_NAMES);
  if (!report.safe) {
    throw new Error(`fused.wasm violates the no-owned-memory contract: ${report.problems.join('; ')}`);
  }
  return mod;
}

function compiledSync(): WasmModule {
  moduleSync ??= checkedModule(readFileSync(FUSED_WASM_URL));
  return moduleSync;
}

function compiledAsync(): Promise<WasmModule> {
  if (moduleSync) return Promise.resolve(moduleSync);
  modulePromise ??= readFile(FUSED_WASM_URL).then((bytes) => {
    moduleSync ??= checkedModule(bytes);
    return moduleSync;
  });
  return modulePromise;
}

/**
 * Loads the kernels against the current tfjs backend. Resolves to null (no throw) when the
 * current backend is not 'wasm'; throws if it is 'wasm' but its internals are not as expected.
 */
export async function loadFusedKernels(): Promise<FusedKernels | null> {
  await tf.ready();
  if (tf.getBackend() !== 'wasm') return null;
  const mod = await compiledAsync();
  return bind(tf.backend(), mod);
}

/** Synchronous variant of `loadFusedKernels` (call after `await tf.setBackend('wasm')`). */
export function loadFusedKernelsSync(): FusedKernels | null {
  if (tf.getBackend() !== 'wasm') return null;
  return bind(tf.backend(), compiledSync());
}

function bind(backend: tf.KernelBackend, mod: WasmModule): FusedKernels {
  const cached = instances.get(backend);
  if (cached) return cached;
  const be = backend as unknown as WasmBackendInternals;
  const memory = be.wasm?.asm?.memory;
  if (!(memory instanceof WA.Memory)) {
    throw new Error('fusedKernels: tfjs-wasm backend has no wasm.asm.memory (unsupported tfjs-backend-wasm version)');
  }
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    throw new Error('fusedKernels: the threaded tfjs-wasm build (shared memory) is not supported');
  }
  if (be.wasm?.HEAPU8 && be.wasm.HEAPU8.buffer !== memory.buffer) {
    throw new Error('fusedKernels: wasm.asm.memory is not the memory tfjs tensors live in');
  }
  const disposeData = be.wasm?.asm?.dispose_data;
  const registerTensor = be.wasm?.asm?.register_tensor;
  if (typeof disposeData !== 'function' || typeof registerTensor !== 'function') {
    throw new Error('fusedKernels: tfjs-wasm exports dispose_data/register_tensor not found (unsupported version)');
  }
  const dataIdMap = be.dataIdMap;
  if (!dataIdMap || typeof dataIdMap.get !== 'function') {
    throw new Error('fusedKernels: tfjs-wasm backend has no dataIdMap (unsupported tfjs-backend-wasm version)');
  }
  const raw = new WA.Instance(mod, { env: { memory } }).exports as RawExports;

  const ctx: KernelContext = {
    checkBackend(fn) {
      if (tf.engine().backend !== backend) {
        throw new Error(`${fn}: these kernels are bound to a tfjs-wasm backend that is no longer the active backend`);
      }
    },
    resolve(fn, name, t) {
      if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor`);
      if (t.isDisposed) throw new Error(`${fn}: ${name} is disposed`);
      if (t.dtype !== 'float32') throw new Error(`${fn}: ${name} must be float32, got ${t.dtype}`);
      const info = dataIdMap.get(t.dataId);
      if (!info || info.memoryOffset == null) throw new Error(`${fn}: ${name} has no wasm memory`);
      return { name, off: info.memoryOffset, bytes: t.size * 4, id: info.id, registeredSize: tf.util.sizeFromShape(info.shape) };
    },
    /**
     * Drops the C++ side's per-tensor caches (XNNPACK operators holding a packed copy of the
     * tensor as a matMul right-hand operand) by disposing and re-registering the same id, size
     * and memory: dispose_data runs the disposal callbacks and forgets the id, register_tensor
     * restores it. The memory itself is untouched (the JS side frees it, not dispose_data).
     */
    invalidate(o: ResolvedTensor) {
      (disposeData as (id: number) => void)(o.id);
      (registerTensor as (id: number, size: number, offset: number) => void)(o.id, o.registeredSize, o.off);
    },
  };

  const kernels: FusedKernels = {
    memory,
    offsetOf: (t) => ctx.resolve('offsetOf', 't', t).off,
    invalidateMatMulCache(t) {
      ctx.checkBackend('invalidateMatMulCache');
      ctx.invalidate(ctx.resolve('invalidateMatMulCache', 't', t));
    },
    ...bindKernelTable(twoLayerTable, raw, ctx),
    ...bindKernelTable(mlpTable, raw, ctx),
    ...bindKernelTable(pgdTable, raw, ctx),
    ...bindKernelTable(optimiserTable, raw, ctx),
  };
  instances.set(backend, kernels);
  return kernels;
}
