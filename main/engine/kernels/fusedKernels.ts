/**
 * Fused float32 kernels for the tfjs-wasm backend (loader for ./fused.wasm).
 *
 * A training step on the wasm backend is 2 matMuls (XNNPACK, fast) plus ~20 elementwise /
 * reduction ops that each cost ~6-9 µs of launch overhead. This module replaces the latter by a
 * handful of SIMD kernels written in AssemblyScript (./assembly/fused.ts, compiled to ./fused.wasm
 * by `npm run build:kernels`). The .wasm IMPORTS the tfjs-wasm backend's own WebAssembly.Memory,
 * so the kernels read and write tfjs tensors in place, by byte offset, with zero copies and no
 * tensor allocation (tf.memory().numTensors is unchanged by any call).
 *
 * Facts this relies on (tfjs-backend-wasm 4.22, checked at load time):
 *  - `tf.backend()` is a BackendWasm whose `.wasm` is the Emscripten Module; the Emscripten glue
 *    sets `Module.asm = instance.exports`, whose `memory` is the heap (HEAPU8 views it).
 *  - `backend.dataIdMap.get(t.dataId).memoryOffset` is the tensor's byte offset in that memory.
 *  - The memory grows when tfjs mallocs, which replaces `memory.buffer` but not the Memory
 *    object, so the imported Memory stays valid; this file never caches a typed-array view.
 *
 * Safety: the kernel module must own no memory (no data segment, no start function, no heap or
 * shadow stack), or instantiating it would overwrite Emscripten's heap. `inspectFusedWasm` parses
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
 * of tf.matMul silently multiplies by the OLD values. Every kernel below therefore drops those
 * caches for each tensor it writes (the backend's own dispose_data + register_tensor for the same
 * id and memory: the disposal callbacks free the cached operators, the tensor stays intact; about
 * 0.1 µs). The next matMul with that right-hand operand repacks it (~40 µs at 128x128), which is
 * why the fastest training step keeps every changing operand on the LEFT: see the transposed-layout
 * kernels (thresholdFromRowNorms, logisticStepT, relativeThresholdGradientRows), where the right-hand
 * operands are the data batches and stay packed while the batch tensors live. Call
 * `invalidateMatMulCache(t)` yourself after mutating a tensor by any other means.
 *
 * Aliasing: on this backend tf.clone and tf.reshape return tensors that SHARE the original's
 * memory, so an in-place update shows through them; snapshot with e.g. tf.add(t, 0) instead.
 *
 * Typical use (workspaces b, invNorm, dbl, GT / G, Gx, margin made once with tf.zeros; the two
 * matMul outputs are disposed by the caller every step):
 *
 *   // training step, row layout (fastest: right-hand operands XbT [d, B], Xb [B, d] are batch
 *   // tensors kept across epochs, so tfjs-wasm packs them once)
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
 * The column-layout training kernels (thresholdFromNorms, logisticStep, relativeThresholdGradient
 * on Wt [d, m], U = Xb @ Wt, dWt = XbT @ G) compute the same step but, because Wt and G are
 * right-hand operands that change every step, tfjs-wasm repacks both each step.
 *
 * The image MLP (../models/mlp.ts, softmax over C classes, a trained output layer V [m, C] and
 * biases) has its own kernels in the row layout (transposeInto, biasActivation, outputLogits,
 * softmaxCrossEntropy, multiclassMarginGradient, outputLayerGradients, hiddenGradient,
 * columnSums, signedColumnSums), used as:
 *
 *   // training step (VT [C, m], Z [B, C], dV, de, dU [B, m], dc: workspaces)
 *   K.transposeInto(V, VT);
 *   const H = tf.matMul(Xb, W);                         // [B, m], W [d, m]
 *   K.biasActivation(H, c, null);                       // ReLU (or b [m]: the symmetric threshold)
 *   K.outputLogits(H, VT, e, Z);
 *   const loss = K.softmaxCrossEntropy(Z, y, scale);    // Z is now dZ
 *   K.outputLayerGradients(H, Z, dV, de);
 *   K.hiddenGradient(H, Z, VT, dU);
 *   K.columnSums(dU, dc);
 *   const dW = tf.matMul(XbT, dU);                      // [d, m]; then the optimiser kernels
 *
 *   // attack step: the same forward, then K.multiclassMarginGradient(Z, y, margin) in place of the
 *   // softmax, K.hiddenGradient(H, Z, VT, dU) and grad = tf.matMul(dU, WT) with WT = W^T made
 *   // once per attack by K.transposeInto.
 *
 * There the right-hand operands are W (repacked once per step, and reused by an attack's steps)
 * and dU (N x m, the smallest operand of dW = X^T dU).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

// The project's lib is ES2022 without DOM and @types/node 20 does not declare the WebAssembly
// namespace, so the few pieces used here are typed locally (no global declarations are added).
/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
/** A compiled WebAssembly.Module (opaque). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmImportDescriptor {
  module: string;
  name: string;
  kind: string;
}
interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(mod: WasmModule): WasmImportDescriptor[];
    exports(mod: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (mod: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Location of the compiled kernels (committed; rebuild with `npm run build:kernels`). */
export const FUSED_WASM_URL = new URL('./fused.wasm', import.meta.url);

/** What `inspectFusedWasm` reports about a compiled kernel binary. */
export interface FusedWasmReport {
  /** Section ids in file order (0 = custom, 2 = import, 8 = start, 11 = data, 12 = data count). */
  sectionIds: number[];
  imports: WasmImportDescriptor[];
  exports: string[];
  /** True when the binary cannot write to the memory it imports at instantiation. */
  safe: boolean;
  /** Why it is unsafe (empty when safe). */
  problems: string[];
}

const REQUIRED_EXPORTS = [
  'thresholdFromNorms',
  'logisticStep',
  'relativeThresholdGradient',
  'sgdUpdate',
  'momentumUpdate',
  'adamUpdate',
  'marginGradient',
  'pgdL2Step',
  'pgdLinfStep',
  'thresholdFromRowNorms',
  'logisticStepT',
  'relativeThresholdGradientRows',
  'transposeInto',
  'biasActivation',
  'outputLogits',
  'softmaxCrossEntropy',
  'multiclassMarginGradient',
  'outputLayerGradients',
  'hiddenGradient',
  'columnSums',
  'signedColumnSums',
] as const;

/**
 * Parses the section table of a wasm binary and checks the memory contract: exactly one import,
 * the memory env.memory, no data / data-count / start section, and all kernel exports present.
 */
export function inspectFusedWasm(bytes: Uint8Array): FusedWasmReport {
  return inspect(bytes).report;
}

function inspect(bytes: Uint8Array): { report: FusedWasmReport; mod: WasmModule } {
  const problems: string[] = [];
  const sectionIds: number[] = [];
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, k) => bytes[k] !== b)) {
    problems.push('not a wasm v1 binary');
  } else {
    let pos = 8;
    while (pos < bytes.length) {
      const id = bytes[pos++] ?? 0;
      let size = 0;
      let shift = 0;
      for (;;) {
        const byte = bytes[pos++];
        if (byte === undefined) throw new Error('inspectFusedWasm: truncated section header');
        size += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if ((byte & 0x80) === 0) break;
      }
      sectionIds.push(id);
      pos += size;
    }
    if (pos !== bytes.length) problems.push('section table overruns the file');
  }
  if (sectionIds.includes(11)) problems.push('has a data section (would overwrite the tfjs heap)');
  if (sectionIds.includes(12)) problems.push('has a data-count section');
  if (sectionIds.includes(8)) problems.push('has a start function');
  const mod = new WA.Module(bytes);
  const imports = WA.Module.imports(mod);
  const exports = WA.Module.exports(mod).map((e) => e.name);
  const only = imports[0];
  if (imports.length !== 1 || !only || only.module !== 'env' || only.name !== 'memory' || only.kind !== 'memory') {
    problems.push(`imports must be exactly env.memory, got ${JSON.stringify(imports)}`);
  }
  for (const name of REQUIRED_EXPORTS) {
    if (!exports.includes(name)) problems.push(`missing export ${name}`);
  }
  if (exports.includes('memory')) problems.push('exports a memory of its own');
  return { report: { sectionIds, imports, exports, safe: problems.length === 0, problems }, mod };
}

/** The raw wasm exports (pointers are byte offsets into the tfjs-wasm memory). */
interface RawKernels {
  thresholdFromNorms(wt: number, d: number, m: number, rho: number, bOut: number, invNormOut: number): void;
  logisticStep(u: number, b: number, y: number, sampleScale: number, a: number, B: number, m: number, g: number, dbl: number): number;
  relativeThresholdGradient(dwt: number, wt: number, dbl: number, invNorm: number, rho: number, d: number, m: number): void;
  sgdUpdate(p: number, g: number, n: number, lr: number): void;
  momentumUpdate(p: number, g: number, v: number, n: number, lr: number, mu: number): void;
  adamUpdate(
    p: number, g: number, m1: number, m2: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
  ): void;
  marginGradient(u: number, b: number, y: number, a: number, N: number, m: number, gx: number, marginOut: number): number;
  pgdL2Step(xadv: number, x: number, grad: number, alpha: number, eps: number, N: number, d: number, lo: number, hi: number, clip: number): number;
  pgdLinfStep(xadv: number, x: number, grad: number, alpha: number, eps: number, N: number, d: number, lo: number, hi: number, clip: number): number;
  thresholdFromRowNorms(w: number, m: number, d: number, rho: number, bOut: number, invNormOut: number): void;
  logisticStepT(ut: number, b: number, y: number, sampleScale: number, a: number, B: number, m: number, gt: number, dbl: number): number;
  relativeThresholdGradientRows(dw: number, w: number, dbl: number, invNorm: number, rho: number, m: number, d: number): void;
  transposeInto(src: number, rows: number, cols: number, dst: number): void;
  biasActivation(u: number, c: number, b: number, threshold: number, N: number, m: number): void;
  outputLogits(h: number, vt: number, e: number, N: number, m: number, C: number, z: number): void;
  softmaxCrossEntropy(z: number, y: number, scale: number, N: number, C: number): number;
  multiclassMarginGradient(z: number, y: number, N: number, C: number, marginOut: number): void;
  outputLayerGradients(h: number, dz: number, N: number, m: number, C: number, dv: number, de: number): void;
  hiddenGradient(h: number, dz: number, vt: number, N: number, m: number, C: number, du: number): void;
  columnSums(a: number, N: number, m: number, out: number): void;
  signedColumnSums(a: number, s: number, N: number, m: number, out: number): void;
}

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

/** Fused kernels bound to one tfjs-wasm backend instance. All tensors are float32, row-major. */
export interface FusedKernels {
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

  /**
   * Column norms of Wt [d, m]: nrm_i = sqrt(sum_j Wt[j,i]^2) (float64 accumulation);
   * writes bOut_i = rho nrm_i and invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0 (both [m]).
   */
  thresholdFromNorms(Wt: tf.Tensor, rho: number, bOut: tf.Tensor, invNormOut: tf.Tensor): void;

  /**
   * Logistic loss and gradients of f_n = a sum_i s_{b_i}(U_ni), s_b(t) = t - clamp(t, -b, b).
   * With z_n = y_n f_n, loss_n = log(1 + exp(-z_n)) (stable), g_n = -y_n sigmoid(-z_n) and
   * c_n = sampleScale_n g_n a, writes G [B, m]: G_ni = c_n [|U_ni| > b_i] and
   * dbl [m]: dbl_i = sum_n c_n sign(act_ni) (float64 accumulation; dL/db_i = -dbl_i).
   * Returns sum_n sampleScale_n loss_n. U [B, m], b [m], y [B], sampleScale [B].
   */
  logisticStep(
    U: tf.Tensor, b: tf.Tensor, y: tf.Tensor, sampleScale: tf.Tensor, a: number, G: tf.Tensor, dbl: tf.Tensor,
  ): number;

  /**
   * Chain rule through b_i = rho ||w_i||: dWt[j,i] -= dbl_i rho invNorm_i Wt[j,i], in place on
   * dWt [d, m]. Wt [d, m], dbl [m], invNorm [m].
   */
  relativeThresholdGradient(dWt: tf.Tensor, Wt: tf.Tensor, dbl: tf.Tensor, invNorm: tf.Tensor, rho: number): void;

  /** param -= lr grad, in place (any shape; equal sizes). */
  sgdUpdate(param: tf.Tensor, grad: tf.Tensor, lr: number): void;

  /** velocity = mu velocity + grad; param -= lr velocity, in place. */
  momentumUpdate(param: tf.Tensor, grad: tf.Tensor, velocity: tf.Tensor, lr: number, mu: number): void;

  /**
   * Adam step t (t >= 1): m1 = beta1 m1 + (1-beta1) grad; m2 = beta2 m2 + (1-beta2) grad^2;
   * param -= lr (m1 / (1 - beta1^t)) / (sqrt(m2 / (1 - beta2^t)) + eps), in place.
   */
  adamUpdate(
    param: tf.Tensor, grad: tf.Tensor, m1: tf.Tensor, m2: tf.Tensor,
    lr: number, beta1: number, beta2: number, eps: number, t: number,
  ): void;

  /**
   * margin_n = y_n a sum_i s_{b_i}(U_ni) into margin [N]; Gx [N, m]: Gx_ni = -y_n a [|U_ni| > b_i]
   * (so Gx @ W, W [m, d], is the gradient of -margin w.r.t. x). Returns the number of rows whose
   * mask is all zero. U [N, m], b [m], y [N].
   */
  marginGradient(U: tf.Tensor, b: tf.Tensor, y: tf.Tensor, a: number, Gx: tf.Tensor, margin: tf.Tensor): number;

  /**
   * l2 PGD step in place on Xadv [N, d]: if ||grad_n|| > 0, Xadv_n += alpha_n grad_n / ||grad_n||;
   * then delta = Xadv_n - X_n is projected onto the ball ||delta|| <= eps_n and, if clip, Xadv_n
   * is clamped into [clipLo, clipHi]. X, grad [N, d]; alpha, eps [N]. Returns the number of
   * zero-gradient rows (left where they were, then projected/clipped).
   */
  pgdL2Step(
    Xadv: tf.Tensor, X: tf.Tensor, grad: tf.Tensor, alpha: tf.Tensor, eps: tf.Tensor,
    clipLo: number, clipHi: number, clip: boolean | 0 | 1,
  ): number;

  /**
   * l-inf PGD step in place on Xadv [N, d]: Xadv += alpha_n sign(grad) (sign(0) = 0);
   * Xadv = X + clamp(Xadv - X, -eps_n, eps_n); if clip, clamp into [clipLo, clipHi].
   * Returns the number of all-zero gradient rows.
   */
  pgdLinfStep(
    Xadv: tf.Tensor, X: tf.Tensor, grad: tf.Tensor, alpha: tf.Tensor, eps: tf.Tensor,
    clipLo: number, clipHi: number, clip: boolean | 0 | 1,
  ): number;

  // ---- transposed (row) layout for training: W [m, d], UT = W @ XbT [m, B], GT [m, B]

  /**
   * Row norms of W [m, d]: nrm_i = sqrt(sum_j W[i,j]^2) (float64 accumulation);
   * writes bOut_i = rho nrm_i and invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0 (both [m]).
   */
  thresholdFromRowNorms(W: tf.Tensor, rho: number, bOut: tf.Tensor, invNormOut: tf.Tensor): void;

  /**
   * `logisticStep` on UT = U^T [m, B], writing GT = G^T [m, B]: f_n = a sum_i s_{b_i}(UT_in),
   * z_n = y_n f_n, loss_n = log(1 + exp(-z_n)), c_n = sampleScale_n a (-y_n sigmoid(-z_n)),
   * GT_in = c_n [|UT_in| > b_i], dbl_i = sum_n c_n sign(act_in) (float64 accumulation).
   * Returns sum_n sampleScale_n loss_n. b [m], y [B], sampleScale [B].
   */
  logisticStepT(
    UT: tf.Tensor, b: tf.Tensor, y: tf.Tensor, sampleScale: tf.Tensor, a: number, GT: tf.Tensor, dbl: tf.Tensor,
  ): number;

  /**
   * Chain rule through b_i = rho ||w_i|| in the row layout: dW[i,j] -= dbl_i rho invNorm_i W[i,j],
   * in place on dW [m, d]. W [m, d], dbl [m], invNorm [m].
   */
  relativeThresholdGradientRows(dW: tf.Tensor, W: tf.Tensor, dbl: tf.Tensor, invNorm: tf.Tensor, rho: number): void;

  // ---- image MLP, row layout (one row per sample): U = X W [N, m], H [N, m], Z / dZ [N, C],
  //      V [m, C] used as VT = V^T [C, m]. Float32 elementwise; long sums (over the hidden units or
  //      the rows) are float32 partial sums of <= 4 terms per lane accumulated in float64.

  /** dst [cols, rows] = src [rows, cols]^T (4 x 4 tiles in registers). */
  transposeInto(src: tf.Tensor, dst: tf.Tensor): void;

  /**
   * H = s(U + c) in place on U [N, m] (c [m]): ReLU max(t, 0) when `b` is null, else the symmetric
   * thresholded ReLU s_b(t) = t - clamp(t, -b_i, b_i) with b [m] (b_i >= 0). Either way the
   * derivative mask is [H != 0], which the backward kernels read from H.
   */
  biasActivation(U: tf.Tensor, c: tf.Tensor, b: tf.Tensor | null): void;

  /** Logits Z [N, C] = H VT^T + e: z_nk = e_k + sum_i H[n,i] VT[k,i]. H [N, m], VT [C, m], e [C]. */
  outputLogits(H: tf.Tensor, VT: tf.Tensor, e: tf.Tensor, Z: tf.Tensor): void;

  /**
   * Softmax cross-entropy in place on the logits Z [N, C], which become dZ_n = s_n (softmax(z_n) -
   * e_{y_n}); returns sum_n s_n (logsumexp(z_n) - z_{n,y_n}) (float64 per row). y [N] holds class
   * indices (as float32; truncated like tf.cast; outside 0..C-1: no target, as tf.oneHot gives);
   * s = scale [N].
   */
  softmaxCrossEntropy(Z: tf.Tensor, y: tf.Tensor, scale: tf.Tensor): number;

  /**
   * The multi-class margin in place on the logits Z [N, C] (C >= 2), which become the gradient of the
   * NEGATIVE margin, dZ_n = e_{j*} - e_{y_n}: margin_n = z_{n,y} - z_{n,j*} into margin [N], j* the
   * first j != y_n of largest z_nj (a tie gives margin 0, which counts as a failure).
   */
  multiclassMarginGradient(Z: tf.Tensor, y: tf.Tensor, margin: tf.Tensor): void;

  /** Output-layer gradients: dV [m, C] = H^T dZ and de [C] = sum_n dZ_n. H [N, m], dZ [N, C]. */
  outputLayerGradients(H: tf.Tensor, dZ: tf.Tensor, dV: tf.Tensor, de: tf.Tensor): void;

  /**
   * Hidden-layer gradient dU [N, m] = (dZ VT) * [H != 0] (the sum over classes in float32, zero
   * entries of dZ skipped). H [N, m], dZ [N, C], VT [C, m].
   */
  hiddenGradient(H: tf.Tensor, dZ: tf.Tensor, VT: tf.Tensor, dU: tf.Tensor): void;

  /** out_i = sum_n A[n,i] (A [N, m], out [m]): a bias gradient. */
  columnSums(A: tf.Tensor, out: tf.Tensor): void;

  /**
   * out_i = sum_n A[n,i] sign(S[n,i]) (sign from S's sign bit; A, S [N, m]). With A = dU, S = H it
   * is dbl_i, the threshold term of `relativeThresholdGradient` (dL/db_i = -dbl_i).
   */
  signedColumnSums(A: tf.Tensor, S: tf.Tensor, out: tf.Tensor): void;
}

/**
 * Workspace tensors for kernel outputs, by name and shape: made once (tf.zeros, kept out of any
 * enclosing tf.tidy), then overwritten in place by the kernels. `put` hands over a tensor made
 * elsewhere (e.g. a matMul result) under a name, freeing the one it replaces.
 */
export class KernelWorkspace {
  private readonly tensors = new Map<string, tf.Tensor>();

  get(name: string, shape: readonly number[]): tf.Tensor {
    const key = `${name}:${shape.join('x')}`;
    let t = this.tensors.get(key);
    if (!t) {
      t = tf.keep(tf.zeros([...shape]));
      this.tensors.set(key, t);
    }
    return t;
  }

  put<T extends tf.Tensor>(name: string, t: T): T {
    const old = this.tensors.get(name);
    if (old && old !== t) old.dispose();
    this.tensors.set(name, tf.keep(t));
    return t;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

// ---------------------------------------------------------------------------------------------

let moduleSync: WasmModule | null = null;
let modulePromise: Promise<WasmModule> | null = null;
const instances = new WeakMap<object, FusedKernels>();

function checkedModule(bytes: Uint8Array): WasmModule {
  const { report, mod } = inspect(bytes);
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
  const instance = new WA.Instance(mod, { env: { memory } });
  const raw = instance.exports as unknown as RawKernels;
  const cacheOps: CacheOps = {
    disposeData: disposeData as (id: number) => void,
    registerTensor: registerTensor as (id: number, size: number, offset: number) => void,
  };
  const kernels = makeKernels(backend, dataIdMap, memory, raw, cacheOps);
  instances.set(backend, kernels);
  return kernels;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

interface Arg {
  name: string;
  off: number;
  bytes: number;
  /** The backend's numeric tensor id (what the C++ side keys its caches on). */
  id: number;
  /** Element count the id was registered with. */
  registeredSize: number;
}

/** The backend's raw C exports used to drop per-tensor caches. */
interface CacheOps {
  disposeData(id: number): void;
  registerTensor(id: number, size: number, offset: number): void;
}

function makeKernels(
  backend: tf.KernelBackend,
  dataIdMap: NonNullable<WasmBackendInternals['dataIdMap']>,
  memory: WasmMemory,
  raw: RawKernels,
  cacheOps: CacheOps,
): FusedKernels {
  const checkBackend = (fn: string): void => {
    if (tf.engine().backend !== backend) {
      throw new Error(`${fn}: these kernels are bound to a tfjs-wasm backend that is no longer the active backend`);
    }
  };

  const arg = (fn: string, name: string, t: tf.Tensor): Arg => {
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor`);
    if (t.isDisposed) throw new Error(`${fn}: ${name} is disposed`);
    if (t.dtype !== 'float32') throw new Error(`${fn}: ${name} must be float32, got ${t.dtype}`);
    const info = dataIdMap.get(t.dataId);
    if (!info || info.memoryOffset == null) throw new Error(`${fn}: ${name} has no wasm memory`);
    return {
      name, off: info.memoryOffset, bytes: t.size * 4, id: info.id, registeredSize: tf.util.sizeFromShape(info.shape),
    };
  };

  /**
   * Drops the C++ side's per-tensor caches (XNNPACK operators holding a packed copy of the tensor
   * as a matMul right-hand operand) by disposing and re-registering the same id, size and memory:
   * dispose_data runs the disposal callbacks and forgets the id, register_tensor restores it.
   * The memory itself is untouched (the JS side frees it, not dispose_data).
   */
  const invalidate = (...outs: Arg[]): void => {
    for (const o of outs) {
      cacheOps.disposeData(o.id);
      cacheOps.registerTensor(o.id, o.registeredSize, o.off);
    }
  };

  const mat = (fn: string, name: string, t: tf.Tensor, rows: number | null, cols: number | null): Arg => {
    if (t.rank !== 2) throw new Error(`${fn}: ${name} must be rank 2, got shape [${t.shape.join(', ')}]`);
    const [r, c] = t.shape as [number, number];
    if ((rows !== null && r !== rows) || (cols !== null && c !== cols)) {
      throw new Error(`${fn}: ${name} must have shape [${rows ?? '*'}, ${cols ?? '*'}], got [${r}, ${c}]`);
    }
    return arg(fn, name, t);
  };

  /** A vector of length n: shape [n] or [n, 1]. */
  const vec = (fn: string, name: string, t: tf.Tensor, n: number): Arg => {
    const ok = (t.rank === 1 && t.shape[0] === n) || (t.rank === 2 && t.shape[0] === n && t.shape[1] === 1);
    if (!ok) throw new Error(`${fn}: ${name} must have shape [${n}] (or [${n}, 1]), got [${t.shape.join(', ')}]`);
    return arg(fn, name, t);
  };

  const sameSize = (fn: string, name: string, t: tf.Tensor, n: number): Arg => {
    if (t.size !== n) throw new Error(`${fn}: ${name} must have ${n} elements, got ${t.size} ([${t.shape.join(', ')}])`);
    return arg(fn, name, t);
  };

  const num = (fn: string, name: string, x: number): number => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${fn}: ${name} must be a finite number, got ${x}`);
    return x;
  };

  /** Each output must not share bytes with any other argument (inputs or outputs). */
  const noOverlap = (fn: string, outputs: Arg[], all: Arg[]): void => {
    for (const o of outputs) {
      if (o.bytes === 0) continue;
      for (const x of all) {
        if (x === o || x.bytes === 0) continue;
        if (o.off < x.off + x.bytes && x.off < o.off + o.bytes) {
          throw new Error(`${fn}: output ${o.name} overlaps ${x.name} in memory (they must be distinct tensors)`);
        }
      }
    }
  };

  return {
    memory,

    offsetOf(t) {
      return arg('offsetOf', 't', t).off;
    },

    invalidateMatMulCache(t) {
      checkBackend('invalidateMatMulCache');
      invalidate(arg('invalidateMatMulCache', 't', t));
    },

    thresholdFromNorms(Wt, rho, bOut, invNormOut) {
      const fn = 'thresholdFromNorms';
      checkBackend(fn);
      const w = mat(fn, 'Wt', Wt, null, null);
      const [d, m] = Wt.shape as [number, number];
      const bo = vec(fn, 'bOut', bOut, m);
      const io = vec(fn, 'invNormOut', invNormOut, m);
      num(fn, 'rho', rho);
      noOverlap(fn, [bo, io], [w, bo, io]);
      raw.thresholdFromNorms(w.off, d, m, rho, bo.off, io.off);
      invalidate(bo, io);
    },

    logisticStep(U, b, y, sampleScale, a, G, dbl) {
      const fn = 'logisticStep';
      checkBackend(fn);
      const u = mat(fn, 'U', U, null, null);
      const [B, m] = U.shape as [number, number];
      const bb = vec(fn, 'b', b, m);
      const yy = vec(fn, 'y', y, B);
      const ss = vec(fn, 'sampleScale', sampleScale, B);
      const g = mat(fn, 'G', G, B, m);
      const db = vec(fn, 'dbl', dbl, m);
      num(fn, 'a', a);
      noOverlap(fn, [g, db], [u, bb, yy, ss, g, db]);
      const loss = raw.logisticStep(u.off, bb.off, yy.off, ss.off, a, B, m, g.off, db.off);
      invalidate(g, db);
      return loss;
    },

    relativeThresholdGradient(dWt, Wt, dbl, invNorm, rho) {
      const fn = 'relativeThresholdGradient';
      checkBackend(fn);
      const w = mat(fn, 'Wt', Wt, null, null);
      const [d, m] = Wt.shape as [number, number];
      const dw = mat(fn, 'dWt', dWt, d, m);
      const db = vec(fn, 'dbl', dbl, m);
      const inv = vec(fn, 'invNorm', invNorm, m);
      num(fn, 'rho', rho);
      noOverlap(fn, [dw], [dw, w, db, inv]);
      raw.relativeThresholdGradient(dw.off, w.off, db.off, inv.off, rho, d, m);
      invalidate(dw);
    },

    sgdUpdate(param, grad, lr) {
      const fn = 'sgdUpdate';
      checkBackend(fn);
      const p = arg(fn, 'param', param);
      const g = sameSize(fn, 'grad', grad, param.size);
      num(fn, 'lr', lr);
      noOverlap(fn, [p], [p, g]);
      raw.sgdUpdate(p.off, g.off, param.size, lr);
      invalidate(p);
    },

    momentumUpdate(param, grad, velocity, lr, mu) {
      const fn = 'momentumUpdate';
      checkBackend(fn);
      const p = arg(fn, 'param', param);
      const g = sameSize(fn, 'grad', grad, param.size);
      const v = sameSize(fn, 'velocity', velocity, param.size);
      num(fn, 'lr', lr);
      num(fn, 'mu', mu);
      noOverlap(fn, [p, v], [p, g, v]);
      raw.momentumUpdate(p.off, g.off, v.off, param.size, lr, mu);
      invalidate(p, v);
    },

    adamUpdate(param, grad, m1, m2, lr, beta1, beta2, eps, t) {
      const fn = 'adamUpdate';
      checkBackend(fn);
      const p = arg(fn, 'param', param);
      const g = sameSize(fn, 'grad', grad, param.size);
      const a1 = sameSize(fn, 'm1', m1, param.size);
      const a2 = sameSize(fn, 'm2', m2, param.size);
      num(fn, 'lr', lr);
      num(fn, 'eps', eps);
      if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`${fn}: beta1 must be in [0, 1), got ${beta1}`);
      if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`${fn}: beta2 must be in [0, 1), got ${beta2}`);
      if (!Number.isInteger(t) || t < 1) throw new Error(`${fn}: t must be an integer >= 1, got ${t}`);
      noOverlap(fn, [p, a1, a2], [p, g, a1, a2]);
      const bc1 = 1 - Math.pow(beta1, t);
      const bc2 = 1 - Math.pow(beta2, t);
      raw.adamUpdate(p.off, g.off, a1.off, a2.off, param.size, lr, beta1, beta2, eps, bc1, bc2);
      invalidate(p, a1, a2);
    },

    marginGradient(U, b, y, a, Gx, margin) {
      const fn = 'marginGradient';
      checkBackend(fn);
      const u = mat(fn, 'U', U, null, null);
      const [N, m] = U.shape as [number, number];
      const bb = vec(fn, 'b', b, m);
      const yy = vec(fn, 'y', y, N);
      const gx = mat(fn, 'Gx', Gx, N, m);
      const mg = vec(fn, 'margin', margin, N);
      num(fn, 'a', a);
      noOverlap(fn, [gx, mg], [u, bb, yy, gx, mg]);
      const dead = raw.marginGradient(u.off, bb.off, yy.off, a, N, m, gx.off, mg.off);
      invalidate(gx, mg);
      return dead;
    },

    pgdL2Step(Xadv, X, grad, alpha, eps, clipLo, clipHi, clip) {
      const fn = 'pgdL2Step';
      checkBackend(fn);
      const xa = mat(fn, 'Xadv', Xadv, null, null);
      const [N, d] = Xadv.shape as [number, number];
      const x = mat(fn, 'X', X, N, d);
      const g = mat(fn, 'grad', grad, N, d);
      const al = vec(fn, 'alpha', alpha, N);
      const ep = vec(fn, 'eps', eps, N);
      const c = clip ? 1 : 0;
      if (c) {
        num(fn, 'clipLo', clipLo);
        num(fn, 'clipHi', clipHi);
        if (!(clipLo <= clipHi)) throw new Error(`${fn}: clipLo (${clipLo}) must be <= clipHi (${clipHi})`);
      }
      noOverlap(fn, [xa], [xa, x, g, al, ep]);
      const zero = raw.pgdL2Step(xa.off, x.off, g.off, al.off, ep.off, N, d, c ? clipLo : 0, c ? clipHi : 0, c);
      invalidate(xa);
      return zero;
    },

    pgdLinfStep(Xadv, X, grad, alpha, eps, clipLo, clipHi, clip) {
      const fn = 'pgdLinfStep';
      checkBackend(fn);
      const xa = mat(fn, 'Xadv', Xadv, null, null);
      const [N, d] = Xadv.shape as [number, number];
      const x = mat(fn, 'X', X, N, d);
      const g = mat(fn, 'grad', grad, N, d);
      const al = vec(fn, 'alpha', alpha, N);
      const ep = vec(fn, 'eps', eps, N);
      const c = clip ? 1 : 0;
      if (c) {
        num(fn, 'clipLo', clipLo);
        num(fn, 'clipHi', clipHi);
        if (!(clipLo <= clipHi)) throw new Error(`${fn}: clipLo (${clipLo}) must be <= clipHi (${clipHi})`);
      }
      noOverlap(fn, [xa], [xa, x, g, al, ep]);
      const zero = raw.pgdLinfStep(xa.off, x.off, g.off, al.off, ep.off, N, d, c ? clipLo : 0, c ? clipHi : 0, c);
      invalidate(xa);
      return zero;
    },

    thresholdFromRowNorms(W, rho, bOut, invNormOut) {
      const fn = 'thresholdFromRowNorms';
      checkBackend(fn);
      const w = mat(fn, 'W', W, null, null);
      const [m, d] = W.shape as [number, number];
      const bo = vec(fn, 'bOut', bOut, m);
      const io = vec(fn, 'invNormOut', invNormOut, m);
      num(fn, 'rho', rho);
      noOverlap(fn, [bo, io], [w, bo, io]);
      raw.thresholdFromRowNorms(w.off, m, d, rho, bo.off, io.off);
      invalidate(bo, io);
    },

    logisticStepT(UT, b, y, sampleScale, a, GT, dbl) {
      const fn = 'logisticStepT';
      checkBackend(fn);
      const u = mat(fn, 'UT', UT, null, null);
      const [m, B] = UT.shape as [number, number];
      const bb = vec(fn, 'b', b, m);
      const yy = vec(fn, 'y', y, B);
      const ss = vec(fn, 'sampleScale', sampleScale, B);
      const g = mat(fn, 'GT', GT, m, B);
      const db = vec(fn, 'dbl', dbl, m);
      num(fn, 'a', a);
      noOverlap(fn, [g, db], [u, bb, yy, ss, g, db]);
      const loss = raw.logisticStepT(u.off, bb.off, yy.off, ss.off, a, B, m, g.off, db.off);
      invalidate(g, db);
      return loss;
    },

    relativeThresholdGradientRows(dW, W, dbl, invNorm, rho) {
      const fn = 'relativeThresholdGradientRows';
      checkBackend(fn);
      const w = mat(fn, 'W', W, null, null);
      const [m, d] = W.shape as [number, number];
      const dw = mat(fn, 'dW', dW, m, d);
      const db = vec(fn, 'dbl', dbl, m);
      const inv = vec(fn, 'invNorm', invNorm, m);
      num(fn, 'rho', rho);
      noOverlap(fn, [dw], [dw, w, db, inv]);
      raw.relativeThresholdGradientRows(dw.off, w.off, db.off, inv.off, rho, m, d);
      invalidate(dw);
    },

    transposeInto(src, dst) {
      const fn = 'transposeInto';
      checkBackend(fn);
      const s = mat(fn, 'src', src, null, null);
      const [rows, cols] = src.shape as [number, number];
      const t = mat(fn, 'dst', dst, cols, rows);
      noOverlap(fn, [t], [s, t]);
      raw.transposeInto(s.off, rows, cols, t.off);
      invalidate(t);
    },

    biasActivation(U, c, b) {
      const fn = 'biasActivation';
      checkBackend(fn);
      const u = mat(fn, 'U', U, null, null);
      const [N, m] = U.shape as [number, number];
      const cc = vec(fn, 'c', c, m);
      const bb = b ? vec(fn, 'b', b, m) : null;
      noOverlap(fn, [u], bb ? [u, cc, bb] : [u, cc]);
      raw.biasActivation(u.off, cc.off, bb ? bb.off : 0, bb ? 1 : 0, N, m);
      invalidate(u);
    },

    outputLogits(H, VT, e, Z) {
      const fn = 'outputLogits';
      checkBackend(fn);
      const h = mat(fn, 'H', H, null, null);
      const [N, m] = H.shape as [number, number];
      const vt = mat(fn, 'VT', VT, null, m);
      const C = VT.shape[0] as number;
      const ee = vec(fn, 'e', e, C);
      const z = mat(fn, 'Z', Z, N, C);
      noOverlap(fn, [z], [h, vt, ee, z]);
      raw.outputLogits(h.off, vt.off, ee.off, N, m, C, z.off);
      invalidate(z);
    },

    softmaxCrossEntropy(Z, y, scale) {
      const fn = 'softmaxCrossEntropy';
      checkBackend(fn);
      const z = mat(fn, 'Z', Z, null, null);
      const [N, C] = Z.shape as [number, number];
      if (C < 1) throw new Error(`${fn}: Z needs at least one class`);
      const yy = vec(fn, 'y', y, N);
      const ss = vec(fn, 'scale', scale, N);
      noOverlap(fn, [z], [z, yy, ss]);
      const loss = raw.softmaxCrossEntropy(z.off, yy.off, ss.off, N, C);
      invalidate(z);
      return loss;
    },

    multiclassMarginGradient(Z, y, margin) {
      const fn = 'multiclassMarginGradient';
      checkBackend(fn);
      const z = mat(fn, 'Z', Z, null, null);
      const [N, C] = Z.shape as [number, number];
      if (C < 2) throw new Error(`${fn}: the margin needs at least two classes, Z has ${C}`);
      const yy = vec(fn, 'y', y, N);
      const mg = vec(fn, 'margin', margin, N);
      noOverlap(fn, [z, mg], [z, yy, mg]);
      raw.multiclassMarginGradient(z.off, yy.off, N, C, mg.off);
      invalidate(z, mg);
    },

    outputLayerGradients(H, dZ, dV, de) {
      const fn = 'outputLayerGradients';
      checkBackend(fn);
      const h = mat(fn, 'H', H, null, null);
      const [N, m] = H.shape as [number, number];
      const z = mat(fn, 'dZ', dZ, N, null);
      const C = dZ.shape[1] as number;
      const dv = mat(fn, 'dV', dV, m, C);
      const dee = vec(fn, 'de', de, C);
      noOverlap(fn, [dv, dee], [h, z, dv, dee]);
      raw.outputLayerGradients(h.off, z.off, N, m, C, dv.off, dee.off);
      invalidate(dv, dee);
    },

    hiddenGradient(H, dZ, VT, dU) {
      const fn = 'hiddenGradient';
      checkBackend(fn);
      const h = mat(fn, 'H', H, null, null);
      const [N, m] = H.shape as [number, number];
      const z = mat(fn, 'dZ', dZ, N, null);
      const C = dZ.shape[1] as number;
      const vt = mat(fn, 'VT', VT, C, m);
      const du = mat(fn, 'dU', dU, N, m);
      noOverlap(fn, [du], [h, z, vt, du]);
      raw.hiddenGradient(h.off, z.off, vt.off, N, m, C, du.off);
      invalidate(du);
    },

    columnSums(A, out) {
      const fn = 'columnSums';
      checkBackend(fn);
      const a = mat(fn, 'A', A, null, null);
      const [N, m] = A.shape as [number, number];
      const o = vec(fn, 'out', out, m);
      noOverlap(fn, [o], [a, o]);
      raw.columnSums(a.off, N, m, o.off);
      invalidate(o);
    },

    signedColumnSums(A, S, out) {
      const fn = 'signedColumnSums';
      checkBackend(fn);
      const a = mat(fn, 'A', A, null, null);
      const [N, m] = A.shape as [number, number];
      const s = mat(fn, 'S', S, N, m);
      const o = vec(fn, 'out', out, m);
      noOverlap(fn, [o], [a, s, o]);
      raw.signedColumnSums(a.off, s.off, N, m, o.off);
      invalidate(o);
    },
  };
}
