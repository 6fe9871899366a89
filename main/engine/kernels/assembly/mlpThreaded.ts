// The image MLP's phases on T threads (AssemblyScript, built into ../threaded.wasm through
// ./threaded.ts, whose contract holds: a phase writes only its own rows or its own slot, the
// pool's barrier sits between phases, and cross-thread sums are reduced slot 0 + slot 1 + ... in
// thread order). The maths and the row layout are those of ./mlp.ts (and Mlp.kernelLossAndGradients):
// X [B, d], W [d, m] (neuron i is column i), H [B, m], Z / dZ [B, C], VT = V^T [C, m].
//
// The parameters live in ONE block of P = d m + m + m C + C floats, [W | c | V | e], and so do
// the optimiser's moments and each thread's gradient slot [dW | dc | dV | de]: a slot sum or an
// optimiser update is then the same offsets in every block.
//
//  mlpTrainSamples (samples n in the thread's part, Bt of them, X_t = X[n0 : n1]):
//      H_t = s(X_t W + c); Z_t = H_t V + e; softmax cross-entropy -> dZ_t, loss_t;
//      dV_t = H_t^T dZ_t, de_t = sum_n dZ_t; dU_t = (dZ_t VT) * [H_t != 0]; dc_t = sum_n dU_t;
//      dbl_t = sum_n dU_t sign(H_t) (threshold); dW_t = X_t^T dU_t (X_t transposed into the
//      thread's scratch, then the kernels' NN product), all into the thread's slot.
//  mlpTrainUpdate (neurons i in the thread's part, a multiple of 8 so that the column kernels'
//      blocks line up with the one-thread ones): sums the T slots of column i of dW, dc_i, row i
//      of dV and dbl_i in thread order; the chain rule through b_i = rho ||W[:, i]||; the
//      optimiser on those parameters; then b_i and invNorm_i for the next step. Thread 0 also
//      takes de and e.
//  mlpInputGradient (attack rows n in the thread's part): the forward above, the margin kernel in
//      place of the softmax, dU = (dZ VT) * [H != 0], grad = dU WT (WT = W^T [m, d]): each row's
//      own, so nothing is summed across threads.

import { addInto } from './common';
import { matMulNN } from './matMul';
import { biasActivation, columnSums, hiddenGradient, multiclassMarginGradient, outputLayerGradients, outputLogits, signedColumnSums, softmaxCrossEntropy, transposeInto } from './mlp';
import { relativeThresholdGradientColumns, thresholdFromColumnNorms } from './neuronColumns';
import { adamUpdate, momentumUpdate, sgdUpdate } from './optimisers';

/** Rows of an attack batch a thread takes at a time (a multiple of 4, the SIMD width). */
const ATTACK_ROWS: i32 = 64;

/** First row (or column) of part `tid` (clamped to rows). */
// @ts-ignore: decorator
@inline function partStart(tid: i32, chunk: i32, rows: i32): i32 {
  const s = tid * chunk;
  return s < rows ? s : rows;
}

/** Floats in the parameter block [W | c | V | e]. */
// @ts-ignore: decorator
@inline function blockSize(d: i32, m: i32, C: i32): i32 {
  return d * m + m + m * C + C;
}

/** Slot 0 += slot 1 + ... + slot T-1 (in that order) for n floats at byte offset o of slots `slot` bytes apart. */
// @ts-ignore: decorator
@inline function sumSlots(base: usize, o: usize, slot: usize, T: i32, n: i32): void {
  for (let t: i32 = 1; t < T; ++t) addInto(base + o, base + <usize>t * slot + o, n);
}

/** The optimiser's update of n parameters at byte offset o (kind 0 SGD, 1 momentum, 2 Adam). */
// @ts-ignore: decorator
@inline function optimise(
  kind: i32, o: usize, params: usize, grads: usize, first: usize, second: usize, n: i32,
  lr: f64, mu: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64,
): void {
  if (kind == 2) adamUpdate(params + o, grads + o, first + o, second + o, n, lr, beta1, beta2, eps, bc1, bc2);
  else if (kind == 1) momentumUpdate(params + o, grads + o, first + o, n, lr, mu);
  else sgdUpdate(params + o, grads + o, n, lr);
}

/**
 * One thread's share of a training step's samples. Slots at base + tid * size: grads (P floats),
 * dbl (m), loss (one float64), xt (d * chunk floats: the thread's X_t^T). h, z, du are [B, m],
 * [B, C], [B, m] by global row. threshold != 0: the symmetric thresholded ReLU with b [m].
 */
export function mlpTrainSamples(
  tid: i32, chunk: i32, x: usize, y: usize, scale: usize, params: usize, b: usize, threshold: i32, vt: usize,
  B: i32, d: i32, m: i32, C: i32, xt: usize, h: usize, z: usize, du: usize, grads: usize, dbl: usize, loss: usize,
): void {
  const n0 = partStart(tid, chunk, B), n1 = partStart(tid + 1, chunk, B);
  const bt = n1 - n0;
  const P = blockSize(d, m, C);
  const dW = grads + <usize>tid * <usize>P * 4;
  const dc = dW + <usize>d * <usize>m * 4;
  const dV = dc + (<usize>m << 2);
  const de = dV + <usize>m * <usize>C * 4;
  const dblT = dbl + <usize>tid * <usize>m * 4;
  const lossT = loss + (<usize>tid << 3);
  if (bt == 0) {
    memory.fill(dW, 0, <usize>P << 2);
    memory.fill(dblT, 0, <usize>m << 2);
    store<f64>(lossT, 0);
    return;
  }
  const W = params;
  const c = W + <usize>d * <usize>m * 4;
  const e = c + (<usize>m << 2) + <usize>m * <usize>C * 4;
  const xT = x + <usize>n0 * <usize>d * 4;
  const hT = h + <usize>n0 * <usize>m * 4;
  const zT = z + <usize>n0 * <usize>C * 4;
  const duT = du + <usize>n0 * <usize>m * 4;
  matMulNN(xT, W, bt, d, m, hT);
  biasActivation(hT, c, b, threshold, bt, m);
  outputLogits(hT, vt, e, bt, m, C, zT);
  store<f64>(lossT, softmaxCrossEntropy(zT, y + (<usize>n0 << 2), scale + (<usize>n0 << 2), bt, C));
  outputLayerGradients(hT, zT, bt, m, C, dV, de);
  hiddenGradient(hT, zT, vt, bt, m, C, duT);
  columnSums(duT, bt, m, dc);
  if (threshold != 0) signedColumnSums(duT, hT, bt, m, dblT);
  const xtT = xt + <usize>tid * <usize>d * <usize>chunk * 4;
  transposeInto(xT, bt, d, xtT);
  matMulNN(xtT, duT, d, bt, m, dW);
}

/**
 * One thread's share of a training step's update, neurons [i0, i1) (chunk a multiple of 8): the
 * slot sums in thread order into slot 0, the chain rule through b_i = rho ||W[:, i]|| (threshold
 * != 0), the optimiser (kind 0 SGD, 1 momentum, 2 Adam with bias corrections bc1, bc2; moments in
 * first and second, laid out as the parameter block), then b and invNorm of the updated columns.
 */
export function mlpTrainUpdate(
  tid: i32, chunk: i32, T: i32, params: usize, d: i32, m: i32, C: i32, grads: usize, dbl: usize, b: usize, invNorm: usize,
  rho: f64, threshold: i32, kind: i32, lr: f64, mu: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64,
  first: usize, second: usize,
): void {
  const i0 = partStart(tid, chunk, m), i1 = partStart(tid + 1, chunk, m);
  const cols = i1 - i0;
  const slot = <usize>blockSize(d, m, C) * 4;
  const row = <usize>m << 2;
  const cAt = <usize>d * row;
  const vAt = cAt + row;
  const eAt = vAt + <usize>m * <usize>C * 4;
  if (cols > 0) {
    const col = <usize>i0 << 2;
    for (let j: i32 = 0; j < d; ++j) sumSlots(grads, <usize>j * row + col, slot, T, cols);
    sumSlots(grads, cAt + col, slot, T, cols);
    const vRows = vAt + <usize>i0 * <usize>C * 4;
    sumSlots(grads, vRows, slot, T, cols * C);
    if (threshold != 0) {
      sumSlots(dbl, col, row, T, cols);
      relativeThresholdGradientColumns(grads + col, params + col, dbl + col, invNorm + col, rho, d, cols, m);
    }
    for (let j: i32 = 0; j < d; ++j) optimise(kind, <usize>j * row + col, params, grads, first, second, cols, lr, mu, beta1, beta2, eps, bc1, bc2);
    optimise(kind, cAt + col, params, grads, first, second, cols, lr, mu, beta1, beta2, eps, bc1, bc2);
    optimise(kind, vRows, params, grads, first, second, cols * C, lr, mu, beta1, beta2, eps, bc1, bc2);
    if (threshold != 0) thresholdFromColumnNorms(params + col, d, cols, m, rho, b + col, invNorm + col);
  }
  if (tid == 0) {
    sumSlots(grads, eAt, slot, T, C);
    optimise(kind, eAt, params, grads, first, second, C, lr, mu, beta1, beta2, eps, bc1, bc2);
  }
}

/**
 * One thread's share of the attack's input gradients, rows [n0, n1) of x [N, d]: margins into
 * margin [N] and the gradient of the NEGATIVE margin into grad [N, d]. h, z, du: [N, m], [N, C],
 * [N, m] by global row; wt = W^T [m, d].
 */
export function mlpInputGradient(
  tid: i32, chunk: i32, x: usize, y: usize, N: i32, params: usize, b: usize, threshold: i32, vt: usize, wt: usize,
  d: i32, m: i32, C: i32, h: usize, z: usize, du: usize, margin: usize, grad: usize,
): void {
  const n0 = partStart(tid, chunk, N), n1 = partStart(tid + 1, chunk, N);
  const W = params;
  const c = W + <usize>d * <usize>m * 4;
  const e = c + (<usize>m << 2) + <usize>m * <usize>C * 4;
  // Blocks of ATTACK_ROWS rows, so that the rows a matMul streams past each panel of W (or W^T)
  // stay in L2 (an attack batch of 512 MNIST rows is 1.6 MB); every row's result is its own, and
  // the matMul's per-entry arithmetic does not depend on the block, so blocking changes nothing.
  for (let r0 = n0; r0 < n1; r0 += ATTACK_ROWS) {
    const rows = min(ATTACK_ROWS, n1 - r0);
    const hT = h + <usize>r0 * <usize>m * 4;
    const zT = z + <usize>r0 * <usize>C * 4;
    const duT = du + <usize>r0 * <usize>m * 4;
    matMulNN(x + <usize>r0 * <usize>d * 4, W, rows, d, m, hT);
    biasActivation(hT, c, b, threshold, rows, m);
    outputLogits(hT, vt, e, rows, m, C, zT);
    multiclassMarginGradient(zT, y + (<usize>r0 << 2), rows, C, margin + (<usize>r0 << 2));
    hiddenGradient(hT, zT, vt, rows, m, C, duT);
    matMulNN(duT, wt, rows, m, d, grad + <usize>r0 * <usize>d * 4);
  }
}
