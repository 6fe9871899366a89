// The image MLP's per-neuron column kernels on a block of columns (AssemblyScript; see ./fused.ts
// for the memory contract). Neuron i's weights are COLUMN i of W [d, m] (./mlp.ts), so a block of
// neurons [i0, i1) is the cols = i1 - i0 columns at W + 4 i0 whose rows lie ld = m floats apart.
// ./mlp.ts runs these on the whole matrix (cols = ld = m); the threads of ./mlpThreaded.ts each on
// their own block of neurons. Not wasm exports of their own: they inline into those callers.

import { promoteHigh, sumSq4 } from './common';

/**
 * thresholdFromNorms on the m columns at w of a matrix whose rows are ld floats apart (a block of
 * neurons of a wider W: ./mlpThreaded.ts). A column's arithmetic depends only on whether it falls
 * in a block of 8 or the scalar tail, so blocks that start at multiples of 8 reproduce the whole.
 */
// @ts-ignore: decorator
@inline export function thresholdFromColumnNorms(w: usize, d: i32, m: i32, ld: i32, rho: f64, bOut: usize, invNormOut: usize): void {
  const stride = <usize>ld << 2;
  let i: i32 = 0;
  for (; i + 8 <= m; i += 8) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let p = w + (<usize>i << 2);
    let j: i32 = 0;
    for (; j + 4 <= d; j += 4) {
      // float32 partial sums of 4 rows' squares, then float64 accumulation
      const p1 = p + stride, p2 = p1 + stride, p3 = p2 + stride;
      const s0 = sumSq4(v128.load(p), v128.load(p1), v128.load(p2), v128.load(p3));
      const s1 = sumSq4(v128.load(p, 16), v128.load(p1, 16), v128.load(p2, 16), v128.load(p3, 16));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(s0));
      a1 = f64x2.add(a1, promoteHigh(s0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(s1));
      a3 = f64x2.add(a3, promoteHigh(s1));
      p = p3 + stride;
    }
    for (; j < d; ++j) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const l0 = f64x2.promote_low_f32x4(v0), h0 = promoteHigh(v0);
      const l1 = f64x2.promote_low_f32x4(v1), h1 = promoteHigh(v1);
      a0 = f64x2.add(a0, f64x2.mul(l0, l0));
      a1 = f64x2.add(a1, f64x2.mul(h0, h0));
      a2 = f64x2.add(a2, f64x2.mul(l1, l1));
      a3 = f64x2.add(a3, f64x2.mul(h1, h1));
      p += stride;
    }
    const nrm0 = f64x2.sqrt(a0), nrm1 = f64x2.sqrt(a1), nrm2 = f64x2.sqrt(a2), nrm3 = f64x2.sqrt(a3);
    const rv = f64x2.splat(rho);
    const ob = bOut + (<usize>i << 2);
    const oi = invNormOut + (<usize>i << 2);
    v128.store(ob, v128.shuffle<f32>(
      f32x4.demote_f64x2_zero(f64x2.mul(rv, nrm0)), f32x4.demote_f64x2_zero(f64x2.mul(rv, nrm1)), 0, 1, 4, 5));
    v128.store(ob, v128.shuffle<f32>(
      f32x4.demote_f64x2_zero(f64x2.mul(rv, nrm2)), f32x4.demote_f64x2_zero(f64x2.mul(rv, nrm3)), 0, 1, 4, 5), 16);
    // 1/nrm where nrm > 0, else 0: and() with the (nrm > 0) mask.
    const one = f64x2.splat(1), zero = f64x2.splat(0);
    const q0 = v128.and(f64x2.div(one, nrm0), f64x2.gt(nrm0, zero));
    const q1 = v128.and(f64x2.div(one, nrm1), f64x2.gt(nrm1, zero));
    const q2 = v128.and(f64x2.div(one, nrm2), f64x2.gt(nrm2, zero));
    const q3 = v128.and(f64x2.div(one, nrm3), f64x2.gt(nrm3, zero));
    v128.store(oi, v128.shuffle<f32>(f32x4.demote_f64x2_zero(q0), f32x4.demote_f64x2_zero(q1), 0, 1, 4, 5));
    v128.store(oi, v128.shuffle<f32>(f32x4.demote_f64x2_zero(q2), f32x4.demote_f64x2_zero(q3), 0, 1, 4, 5), 16);
  }
  for (; i < m; ++i) {
    let acc: f64 = 0;
    let p = w + (<usize>i << 2);
    for (let j: i32 = 0; j < d; ++j) {
      const w = <f64>load<f32>(p);
      acc += w * w;
      p += stride;
    }
    const nrm = Math.sqrt(acc);
    store<f32>(bOut + (<usize>i << 2), <f32>(rho * nrm));
    store<f32>(invNormOut + (<usize>i << 2), nrm > 0 ? <f32>(1.0 / nrm) : <f32>0);
  }
}


/**
 * relativeThresholdGradient on the m columns at dw and w of matrices whose rows are ld floats
 * apart (a block of neurons: ./mlpThreaded.ts); every column's arithmetic is the same in the
 * 16-, 4- and 1-wide paths, so any block reproduces the whole.
 */
// @ts-ignore: decorator
@inline export function relativeThresholdGradientColumns(dw: usize, w: usize, dbl: usize, invNorm: usize, rho: f64, d: i32, m: i32, ld: i32): void {
  const stride = <usize>ld << 2;
  const rv = f32x4.splat(<f32>rho);
  let i: i32 = 0;
  for (; i + 16 <= m; i += 16) {
    const o = <usize>i << 2;
    const c0 = f32x4.mul(f32x4.mul(v128.load(dbl + o), v128.load(invNorm + o)), rv);
    const c1 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 16), v128.load(invNorm + o, 16)), rv);
    const c2 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 32), v128.load(invNorm + o, 32)), rv);
    const c3 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 48), v128.load(invNorm + o, 48)), rv);
    let pd = dw + o, pw = w + o;
    for (let j: i32 = 0; j < d; ++j) {
      v128.store(pd, f32x4.sub(v128.load(pd), f32x4.mul(c0, v128.load(pw))));
      v128.store(pd, f32x4.sub(v128.load(pd, 16), f32x4.mul(c1, v128.load(pw, 16))), 16);
      v128.store(pd, f32x4.sub(v128.load(pd, 32), f32x4.mul(c2, v128.load(pw, 32))), 32);
      v128.store(pd, f32x4.sub(v128.load(pd, 48), f32x4.mul(c3, v128.load(pw, 48))), 48);
      pd += stride;
      pw += stride;
    }
  }
  for (; i + 4 <= m; i += 4) {
    const o = <usize>i << 2;
    const c0 = f32x4.mul(f32x4.mul(v128.load(dbl + o), v128.load(invNorm + o)), rv);
    let pd = dw + o, pw = w + o;
    for (let j: i32 = 0; j < d; ++j) {
      v128.store(pd, f32x4.sub(v128.load(pd), f32x4.mul(c0, v128.load(pw))));
      pd += stride;
      pw += stride;
    }
  }
  const r = <f32>rho;
  for (; i < m; ++i) {
    const o = <usize>i << 2;
    const c = load<f32>(dbl + o) * load<f32>(invNorm + o) * r;
    let pd = dw + o, pw = w + o;
    for (let j: i32 = 0; j < d; ++j) {
      store<f32>(pd, load<f32>(pd) - c * load<f32>(pw));
      pd += stride;
      pw += stride;
    }
  }
}
