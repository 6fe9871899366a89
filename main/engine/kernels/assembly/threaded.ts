// Entry of the threaded kernels (AssemblyScript, compiled to ../threaded.wasm by
// `npm run build:threadKernels` with --enable threads --sharedMemory: the module imports ONE
// shared WebAssembly.Memory, which every thread of ../threadPool.ts instantiates it against).
// The memory contract of ./fused.ts holds unchanged: no data, no globals in memory, no allocation;
// only byte pointers that the pool hands in.
//
// Every export here is one PHASE that a thread runs on its own part: `tid` of `T` threads, on
// rows [tid * chunk, min((tid + 1) * chunk, rows)) where the pool chose `chunk` (a multiple of 4,
// the SIMD width). A phase writes only its own rows, or its own SLOT (a per-thread region at
// base + tid * slotBytes), so the threads never write the same bytes; the pool's barrier sits
// between phases. Sums across threads (the weight gradient and dbl of a training step) are
// reduced slot 0 + slot 1 + ... + slot T-1 in that fixed order, so a run is deterministic for a
// given T, and differs across T only by float32 re-association (~1e-7 relative).
//
//  twoLayerTrainSamples (samples n in the thread's part, Bt of them, X_t = X[n0 : n1]):
//      UT_t = W X_t^T [m, Bt];  logisticStepT(UT_t) -> GT_t [m, Bt], dbl_t [m], loss_t;
//      dW_t = GT_t X_t [m, d]                                   (./twoLayer.ts for the maths)
//  twoLayerTrainUpdate (neurons i in the thread's part):
//      dW_0[i] += dW_1[i] + ... (in order); dbl_0[i] likewise; chain rule through b_i = rho ||w_i||;
//      the optimiser's update of rows i; then b_i, invNorm_i for the next step.
//  twoLayerInputGradient (attack rows n in the thread's part): U = X W^T, the margin kernel,
//      grad = Gx W (the gradient of -margin w.r.t. x), each row's own.
//  mlpTrainSamples, mlpTrainUpdate, mlpInputGradient: the image MLP's, in ./mlpThreaded.ts.
//  stackedTrainStep, stackedInputGradient: K same-shaped networks at once, the threads splitting
//      the members, each member computed by the one-thread path above (./stacked.ts).

import { addInto } from './common';
import { matMulNN, matMulNT } from './matMul';
import { adamUpdate, momentumUpdate, sgdUpdate } from './optimisers';
import { logisticStepT, marginGradient, relativeThresholdGradientRows, thresholdFromRowNorms } from './twoLayer';

export { matMulNN, matMulNT, thresholdFromRowNorms };
export { thresholdFromNorms, transposeInto } from './mlp';
export { mlpInputGradient, mlpTrainSamples, mlpTrainUpdate } from './mlpThreaded';
export { stackedInputGradient, stackedTrainStep } from './stacked';

/** First row of part `tid` (clamped to rows). */
// @ts-ignore: decorator
@inline function partStart(tid: i32, chunk: i32, rows: i32): i32 {
  const s = tid * chunk;
  return s < rows ? s : rows;
}

/** Zeroes n float32 at p. */
// @ts-ignore: decorator
@inline function zero(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/**
 * One thread's share of a training step's samples: slots ut, gt (m * chunk floats each),
 * dw (m * d), dbl (m), loss (one float64) at base + tid * size.
 */
export function twoLayerTrainSamples(
  tid: i32, chunk: i32, w: usize, x: usize, y: usize, scale: usize, b: usize, a: f64, B: i32, m: i32, d: i32,
  ut: usize, gt: usize, dw: usize, dbl: usize, loss: usize,
): void {
  const n0 = partStart(tid, chunk, B), n1 = partStart(tid + 1, chunk, B);
  const bt = n1 - n0;
  const utT = ut + <usize>tid * <usize>m * <usize>chunk * 4;
  const gtT = gt + <usize>tid * <usize>m * <usize>chunk * 4;
  const dwT = dw + <usize>tid * <usize>m * <usize>d * 4;
  const dblT = dbl + <usize>tid * <usize>m * 4;
  const lossT = loss + (<usize>tid << 3);
  if (bt == 0) {
    zero(dwT, m * d);
    zero(dblT, m);
    store<f64>(lossT, 0);
    return;
  }
  const xT = x + <usize>n0 * <usize>d * 4;
  matMulNT(w, xT, m, bt, d, utT, bt);
  store<f64>(lossT, logisticStepT(utT, b, y + (<usize>n0 << 2), scale + (<usize>n0 << 2), a, bt, m, gtT, dblT));
  matMulNN(gtT, xT, m, bt, d, dwT);
}

/**
 * One thread's share of a training step's update, neurons [i0, i1): reduces the T slots of dw
 * and dbl into slot 0 (in thread order), applies the chain rule through the relative threshold
 * (relative != 0), the optimiser (kind 0 SGD, 1 momentum, 2 Adam with bias corrections bc1, bc2),
 * and refreshes b and invNorm from the updated rows (relative != 0).
 */
export function twoLayerTrainUpdate(
  tid: i32, chunk: i32, T: i32, w: usize, m: i32, d: i32, dw: usize, dbl: usize, b: usize, invNorm: usize,
  rho: f64, relative: i32, kind: i32, lr: f64, mu: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64,
  first: usize, second: usize,
): void {
  const i0 = partStart(tid, chunk, m), i1 = partStart(tid + 1, chunk, m);
  const rows = i1 - i0;
  if (rows == 0) return;
  const rowOff = <usize>i0 * <usize>d * 4;
  const n = rows * d;
  const dwSlot = <usize>m * <usize>d * 4;
  const dblSlot = <usize>m * 4;
  for (let t: i32 = 1; t < T; ++t) {
    addInto(dw + rowOff, dw + <usize>t * dwSlot + rowOff, n);
    addInto(dbl + (<usize>i0 << 2), dbl + <usize>t * dblSlot + (<usize>i0 << 2), rows);
  }
  if (relative != 0) {
    relativeThresholdGradientRows(dw + rowOff, w + rowOff, dbl + (<usize>i0 << 2), invNorm + (<usize>i0 << 2), rho, rows, d);
  }
  if (kind == 2) adamUpdate(w + rowOff, dw + rowOff, first + rowOff, second + rowOff, n, lr, beta1, beta2, eps, bc1, bc2);
  else if (kind == 1) momentumUpdate(w + rowOff, dw + rowOff, first + rowOff, n, lr, mu);
  else sgdUpdate(w + rowOff, dw + rowOff, n, lr);
  if (relative != 0) thresholdFromRowNorms(w + rowOff, rows, d, rho, b + (<usize>i0 << 2), invNorm + (<usize>i0 << 2));
}

/**
 * One thread's share of the attack's input gradients, rows [n0, n1) of x [N, d]: U = x W^T
 * [N, m], margins and Gx [N, m] by the margin kernel, grad = Gx W [N, d]; the count of rows with
 * an all-zero mask goes to the thread's int32 slot dead + 4 tid.
 */
export function twoLayerInputGradient(
  tid: i32, chunk: i32, x: usize, y: usize, N: i32, w: usize, m: i32, d: i32, b: usize, a: f64,
  u: usize, gx: usize, margin: usize, grad: usize, dead: usize,
): void {
  const n0 = partStart(tid, chunk, N), n1 = partStart(tid + 1, chunk, N);
  const rows = n1 - n0;
  let count: i32 = 0;
  if (rows > 0) {
    const uT = u + <usize>n0 * <usize>m * 4;
    const gxT = gx + <usize>n0 * <usize>m * 4;
    matMulNT(x + <usize>n0 * <usize>d * 4, w, rows, m, d, uT, m);
    count = marginGradient(uT, b, y + (<usize>n0 << 2), a, rows, m, gxT, margin + (<usize>n0 << 2));
    matMulNN(gxT, w, rows, m, d, grad + <usize>n0 * <usize>d * 4);
  }
  store<i32>(dead + (<usize>tid << 2), count);
}
