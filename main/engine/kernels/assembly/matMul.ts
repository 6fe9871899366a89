// Blocked SIMD matrix products for the threaded kernels (AssemblyScript; see ./fused.ts for the
// memory contract). tfjs-wasm's matMul (XNNPACK) lives in tfjs's own, unshared memory and runs
// on one thread, so the threaded path (./threaded.ts) multiplies with these, on any slice of rows
// a thread is given. float32 in, float32 accumulation (as XNNPACK), row-major.
//
//  matMulNT: C[r, c] = sum_k A[r, k] B[c, k]   A [R, K], B [Cn, K], C [R, Cn] with row stride ldc
//            (dot products of rows: both operands are read along their contiguous axis).
//  matMulNN: C[r, :] = sum_k A[r, k] B[k, :]   A [R, K], B [K, Cn], C [R, Cn]
//            (rank-1 updates of a C panel held in registers, B read along its rows).
//
// Register blocking: V8 gives wasm SIMD 16 vector registers on x64, so matMulNT keeps a 4 x 2
// block of accumulators (8) plus 6 operand vectors live, and matMulNN a 4 x 8 panel of C
// (8 accumulators) plus 2 B vectors and one broadcast. Column panels are the outer loop of
// matMulNN, so the K x 8 panel of B stays in L1 while every row block of A streams past it.

/** Sum of the 4 float32 lanes, pairwise ((l0 + l1) + (l2 + l3)). */
// @ts-ignore: decorator
@inline function hsum32(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Dot product of K float32 at p and q (4 lanes, then a scalar tail). */
// @ts-ignore: decorator
@inline function dot(p: usize, q: usize, K: i32): f32 {
  let acc = f32x4.splat(0);
  let k: i32 = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(p + o), v128.load(q + o)));
  }
  let s = hsum32(acc);
  for (; k < K; ++k) s += load<f32>(p + (<usize>k << 2)) * load<f32>(q + (<usize>k << 2));
  return s;
}

/** C[r, c] = sum_k A[r, k] B[c, k]: A [R, K], B [Cn, K], C with row stride ldc (elements). */
export function matMulNT(a: usize, b: usize, R: i32, Cn: i32, K: i32, c: usize, ldc: i32): void {
  const rowA = <usize>K << 2;
  const rowC = <usize>ldc << 2;
  const K4 = K & ~3;
  let r: i32 = 0;
  for (; r + 4 <= R; r += 4) {
    const a0 = a + <usize>r * rowA, a1 = a0 + rowA, a2 = a1 + rowA, a3 = a2 + rowA;
    const c0 = c + <usize>r * rowC;
    let j: i32 = 0;
    for (; j + 2 <= Cn; j += 2) {
      const b0 = b + <usize>j * rowA, b1 = b0 + rowA;
      let s00 = f32x4.splat(0), s10 = f32x4.splat(0), s20 = f32x4.splat(0), s30 = f32x4.splat(0);
      let s01 = f32x4.splat(0), s11 = f32x4.splat(0), s21 = f32x4.splat(0), s31 = f32x4.splat(0);
      for (let k: i32 = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(b0 + o), x1 = v128.load(b1 + o);
        const w0 = v128.load(a0 + o), w1 = v128.load(a1 + o), w2 = v128.load(a2 + o), w3 = v128.load(a3 + o);
        s00 = f32x4.add(s00, f32x4.mul(w0, x0));
        s01 = f32x4.add(s01, f32x4.mul(w0, x1));
        s10 = f32x4.add(s10, f32x4.mul(w1, x0));
        s11 = f32x4.add(s11, f32x4.mul(w1, x1));
        s20 = f32x4.add(s20, f32x4.mul(w2, x0));
        s21 = f32x4.add(s21, f32x4.mul(w2, x1));
        s30 = f32x4.add(s30, f32x4.mul(w3, x0));
        s31 = f32x4.add(s31, f32x4.mul(w3, x1));
      }
      let v00 = hsum32(s00), v10 = hsum32(s10), v20 = hsum32(s20), v30 = hsum32(s30);
      let v01 = hsum32(s01), v11 = hsum32(s11), v21 = hsum32(s21), v31 = hsum32(s31);
      for (let k: i32 = K4; k < K; ++k) {
        const o = <usize>k << 2;
        const x0 = load<f32>(b0 + o), x1 = load<f32>(b1 + o);
        v00 += load<f32>(a0 + o) * x0; v01 += load<f32>(a0 + o) * x1;
        v10 += load<f32>(a1 + o) * x0; v11 += load<f32>(a1 + o) * x1;
        v20 += load<f32>(a2 + o) * x0; v21 += load<f32>(a2 + o) * x1;
        v30 += load<f32>(a3 + o) * x0; v31 += load<f32>(a3 + o) * x1;
      }
      const o = <usize>j << 2;
      store<f32>(c0 + o, v00); store<f32>(c0 + o, v01, 4);
      store<f32>(c0 + rowC + o, v10); store<f32>(c0 + rowC + o, v11, 4);
      store<f32>(c0 + 2 * rowC + o, v20); store<f32>(c0 + 2 * rowC + o, v21, 4);
      store<f32>(c0 + 3 * rowC + o, v30); store<f32>(c0 + 3 * rowC + o, v31, 4);
    }
    for (; j < Cn; ++j) {
      const bj = b + <usize>j * rowA;
      const o = <usize>j << 2;
      store<f32>(c0 + o, dot(a0, bj, K));
      store<f32>(c0 + rowC + o, dot(a1, bj, K));
      store<f32>(c0 + 2 * rowC + o, dot(a2, bj, K));
      store<f32>(c0 + 3 * rowC + o, dot(a3, bj, K));
    }
  }
  for (; r < R; ++r) {
    const ar = a + <usize>r * rowA;
    const cr = c + <usize>r * rowC;
    for (let j: i32 = 0; j < Cn; ++j) store<f32>(cr + (<usize>j << 2), dot(ar, b + <usize>j * rowA, K));
  }
}

/** C[r, :] = sum_k A[r, k] B[k, :]: A [R, K], B [K, Cn], C [R, Cn] (overwritten). */
export function matMulNN(a: usize, b: usize, R: i32, K: i32, Cn: i32, c: usize): void {
  const rowA = <usize>K << 2;
  const rowB = <usize>Cn << 2;
  let j: i32 = 0;
  // panels of 8 columns, 4 rows at a time
  for (; j + 8 <= Cn; j += 8) {
    const oj = <usize>j << 2;
    let r: i32 = 0;
    for (; r + 4 <= R; r += 4) {
      const a0 = a + <usize>r * rowA, a1 = a0 + rowA, a2 = a1 + rowA, a3 = a2 + rowA;
      let c00 = f32x4.splat(0), c10 = f32x4.splat(0), c20 = f32x4.splat(0), c30 = f32x4.splat(0);
      let c01 = f32x4.splat(0), c11 = f32x4.splat(0), c21 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pb = b + oj;
      for (let k: i32 = 0; k < K; ++k) {
        const ok = <usize>k << 2;
        const x0 = v128.load(pb), x1 = v128.load(pb, 16);
        const w0 = f32x4.splat(load<f32>(a0 + ok));
        c00 = f32x4.add(c00, f32x4.mul(w0, x0));
        c01 = f32x4.add(c01, f32x4.mul(w0, x1));
        const w1 = f32x4.splat(load<f32>(a1 + ok));
        c10 = f32x4.add(c10, f32x4.mul(w1, x0));
        c11 = f32x4.add(c11, f32x4.mul(w1, x1));
        const w2 = f32x4.splat(load<f32>(a2 + ok));
        c20 = f32x4.add(c20, f32x4.mul(w2, x0));
        c21 = f32x4.add(c21, f32x4.mul(w2, x1));
        const w3 = f32x4.splat(load<f32>(a3 + ok));
        c30 = f32x4.add(c30, f32x4.mul(w3, x0));
        c31 = f32x4.add(c31, f32x4.mul(w3, x1));
        pb += rowB;
      }
      const pc = c + <usize>r * rowB + oj;
      v128.store(pc, c00);
      v128.store(pc, c01, 16);
      v128.store(pc + rowB, c10);
      v128.store(pc + rowB, c11, 16);
      v128.store(pc + 2 * rowB, c20);
      v128.store(pc + 2 * rowB, c21, 16);
      v128.store(pc + 3 * rowB, c30);
      v128.store(pc + 3 * rowB, c31, 16);
    }
    for (; r < R; ++r) {
      const ar = a + <usize>r * rowA;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
      let pb = b + oj;
      for (let k: i32 = 0; k < K; ++k) {
        const w = f32x4.splat(load<f32>(ar + (<usize>k << 2)));
        c0 = f32x4.add(c0, f32x4.mul(w, v128.load(pb)));
        c1 = f32x4.add(c1, f32x4.mul(w, v128.load(pb, 16)));
        pb += rowB;
      }
      const pc = c + <usize>r * rowB + oj;
      v128.store(pc, c0);
      v128.store(pc, c1, 16);
    }
  }
  // a last panel of 4 columns, row by row
  if (j + 4 <= Cn) {
    const oj = <usize>j << 2;
    for (let r: i32 = 0; r < R; ++r) {
      const ar = a + <usize>r * rowA;
      let c0 = f32x4.splat(0);
      let pb = b + oj;
      for (let k: i32 = 0; k < K; ++k) {
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ar + (<usize>k << 2))), v128.load(pb)));
        pb += rowB;
      }
      v128.store(c + <usize>r * rowB + oj, c0);
    }
    j += 4;
  }
  // the last Cn % 4 columns, scalar
  for (; j < Cn; ++j) {
    const oj = <usize>j << 2;
    for (let r: i32 = 0; r < R; ++r) {
      const ar = a + <usize>r * rowA;
      let s: f32 = 0;
      for (let k: i32 = 0; k < K; ++k) s += load<f32>(ar + (<usize>k << 2)) * load<f32>(b + <usize>k * rowB + oj);
      store<f32>(c + <usize>r * rowB + oj, s);
    }
  }
}
