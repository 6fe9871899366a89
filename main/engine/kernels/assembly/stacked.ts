// The phases of a STACK: K two-layer networks of the same shapes (m neurons, d inputs) that train
// side by side, one kernel call per step for all of them (AssemblyScript, part of the threaded
// build, ./threaded.ts). Each member is described by one row of a table of float64 fields in the
// shared memory (its pointers and its own scalars: lr, rho, the optimiser's constants, its batch
// size), so members differ in everything but their shapes.
//
// The threads split the MEMBERS, not the samples: thread tid takes members
// [tid * chunk, min((tid + 1) * chunk, K)) and computes each of them whole, on its own scratch
// slot, by calling the one-thread path of the threaded trainer's phases (./threaded.ts) with
// tid = 0 of T = 1. So a member computes exactly the floats it computes alone on one thread, for
// any T and any stack, and no barrier sits between members: T threads share out K whole steps,
// which scales further than splitting one small batch.

import { twoLayerInputGradient, twoLayerTrainSamples, twoLayerTrainUpdate } from './threaded';

/** Float64 fields per member of a training step's table (STEP_* are the field numbers). */
const STEP_FIELDS: i32 = 22;
// W [m, d], the batch X [B, d], labels Y [B], loss weights S [B], thresholds b [m] and invNorm [m],
// the moments (0 when the optimiser has none), the member's loss (one float64, written)
const STEP_W = 0, STEP_X = 1, STEP_Y = 2, STEP_S = 3, STEP_B = 4, STEP_INV_NORM = 5, STEP_FIRST = 6, STEP_SECOND = 7, STEP_LOSS = 8;
// batch size (0: the member sits this step out), output weight a, rho, relative (0/1), kind (0 SGD, 1 momentum, 2 Adam)
const STEP_ROWS = 9, STEP_A = 10, STEP_RHO = 11, STEP_RELATIVE = 12, STEP_KIND = 13;
const STEP_LR = 14, STEP_MU = 15, STEP_BETA1 = 16, STEP_BETA2 = 17, STEP_EPS = 18, STEP_BC1 = 19, STEP_BC2 = 20;

/** Float64 fields per member of an input-gradient table. */
const GRADIENT_FIELDS: i32 = 8;
// the points X [N, d], labels Y [N], W, b, the gradient out [N, d], the dead-row count out (int32)
const GRAD_X = 0, GRAD_Y = 1, GRAD_W = 2, GRAD_B = 3, GRAD_OUT = 4, GRAD_DEAD = 5, GRAD_ROWS = 6, GRAD_A = 7;

/** Field f of member k of a table (float64 rows of `fields`). */
// @ts-ignore: decorator
@inline function field(table: usize, fields: i32, k: i32, f: i32): f64 {
  return load<f64>(table + ((<usize>k * <usize>fields + <usize>f) << 3));
}

// @ts-ignore: decorator
@inline function pointer(table: usize, fields: i32, k: i32, f: i32): usize {
  return <usize>field(table, fields, k, f);
}

/** Rows rounded up to the SIMD width: the one-thread chunk of ./threaded.ts's phases. */
// @ts-ignore: decorator
@inline function oneThreadChunk(rows: i32): i32 {
  return (rows + 3) & ~3;
}

/**
 * One training step of the thread's members. Per-thread scratch slots at base + tid * slot:
 * ut and gt (m * maxRows floats each), dw (m * d), dbl (m).
 */
export function stackedTrainStep(tid: i32, chunk: i32, table: usize, K: i32, m: i32, d: i32, maxRows: i32, ut: usize, gt: usize, dw: usize, dbl: usize): void {
  const k0 = min(tid * chunk, K), k1 = min((tid + 1) * chunk, K);
  const utT = ut + <usize>tid * <usize>m * <usize>maxRows * 4;
  const gtT = gt + <usize>tid * <usize>m * <usize>maxRows * 4;
  const dwT = dw + <usize>tid * <usize>m * <usize>d * 4;
  const dblT = dbl + <usize>tid * <usize>m * 4;
  const F = STEP_FIELDS;
  for (let k = k0; k < k1; ++k) {
    const B = <i32>field(table, F, k, STEP_ROWS);
    if (B == 0) continue;
    const w = pointer(table, F, k, STEP_W), b = pointer(table, F, k, STEP_B);
    twoLayerTrainSamples(
      0, oneThreadChunk(B), w, pointer(table, F, k, STEP_X), pointer(table, F, k, STEP_Y), pointer(table, F, k, STEP_S), b,
      field(table, F, k, STEP_A), B, m, d, utT, gtT, dwT, dblT, pointer(table, F, k, STEP_LOSS),
    );
    twoLayerTrainUpdate(
      0, m, 1, w, m, d, dwT, dblT, b, pointer(table, F, k, STEP_INV_NORM), field(table, F, k, STEP_RHO),
      <i32>field(table, F, k, STEP_RELATIVE), <i32>field(table, F, k, STEP_KIND), field(table, F, k, STEP_LR),
      field(table, F, k, STEP_MU), field(table, F, k, STEP_BETA1), field(table, F, k, STEP_BETA2), field(table, F, k, STEP_EPS),
      field(table, F, k, STEP_BC1), field(table, F, k, STEP_BC2), pointer(table, F, k, STEP_FIRST), pointer(table, F, k, STEP_SECOND),
    );
  }
}

/**
 * The input gradients (of -margin) of the thread's members, each on its own points. Per-thread
 * scratch slots at base + tid * slot: u and gx (maxRows * m floats each), margin (maxRows).
 */
export function stackedInputGradient(tid: i32, chunk: i32, table: usize, K: i32, m: i32, d: i32, maxRows: i32, u: usize, gx: usize, margin: usize): void {
  const k0 = min(tid * chunk, K), k1 = min((tid + 1) * chunk, K);
  const uT = u + <usize>tid * <usize>maxRows * <usize>m * 4;
  const gxT = gx + <usize>tid * <usize>maxRows * <usize>m * 4;
  const marginT = margin + <usize>tid * <usize>maxRows * 4;
  const F = GRADIENT_FIELDS;
  for (let k = k0; k < k1; ++k) {
    const N = <i32>field(table, F, k, GRAD_ROWS);
    if (N == 0) continue;
    twoLayerInputGradient(
      0, oneThreadChunk(N), pointer(table, F, k, GRAD_X), pointer(table, F, k, GRAD_Y), N, pointer(table, F, k, GRAD_W), m, d,
      pointer(table, F, k, GRAD_B), field(table, F, k, GRAD_A), uT, gxT, marginT, pointer(table, F, k, GRAD_OUT), pointer(table, F, k, GRAD_DEAD),
    );
  }
}
