// Two-layer network kernels (AssemblyScript; see ./fused.ts for the memory contract and the
// numerics). Neuron weights are ROWS: W [m, d] (row i = neuron i, d = input dimension). The
// output weight a is one scalar shared by every neuron; s_b(t) = t - clamp(t, -b, b) is the
// symmetric thresholded ReLU and mask_ni = [|U_ni| > b_i].
//
// Training works on the transposed activations UT = W @ XbT [m, B] and writes GT [m, B], so that
// both matMuls of a step, UT = W XbT and dW = GT Xb, take the data batch as their right-hand
// operand. tfjs-wasm's XNNPACK matMul packs its right-hand operand once and caches the packed copy
// by tensor id, so the batch stays packed while it lives, while W and GT, which change every step,
// stay on the left. Measured against the column layout (Wt [d, m], U = Xb Wt, dWt = XbT G, both
// changing operands on the right and repacked every step), a training step in this layout is
// 1.38x faster at d = m = 128, B = 100 and 1.24x faster at 784 -> 256, B = 128; the column copy
// of these kernels was dropped for that reason.
//
// The attack (marginGradient) works per sample: U = Xadv @ Wt [N, m] with Wt = W^T made once
// per attack, so that both of its matMuls (U = Xadv Wt, grad = Gx W) have a fixed right operand.
//
//  thresholdFromRowNorms:        nrm_i = sqrt(sum_j W[i,j]^2); b_i = rho nrm_i;
//                                invNorm_i = nrm_i > 0 ? 1 / nrm_i : 0.
//  logisticStepT:                act_in = s_{b_i}(UT_in); f_n = a sum_i act_in; z_n = y_n f_n;
//                                loss_n = log(1 + exp(-z_n)) = max(-z_n, 0) + log1p(exp(-|z_n|));
//                                g_n = dloss_n/df_n = -y_n sigmoid(-z_n); c_n = sampleScale_n g_n a;
//                                GT_in = c_n mask_in; dbl_i = sum_n GT_in sign(UT_in);
//                                returns sum_n sampleScale_n loss_n. (dL/db_i = -dbl_i.)
//  relativeThresholdGradientRows: dW[i,j] -= dbl_i rho invNorm_i W[i,j] (the chain rule through
//                                b_i = rho ||w_i||).
//  marginGradient:               f_n as above on U [N, m]; margin_n = y_n f_n;
//                                Gx_ni = -y_n a mask_ni; returns the rows whose mask is all zero.

import { addPromoted, expNoTable, hsum64, logLoss, promoteHigh, shrink1, shrink4, sigmoidNeg, signMask, subScaled, sumSquares } from './common';

/**
 * Row norms of W [m, d]: nrm_i = sqrt(sum_j W[i,j]^2); bOut_i = rho nrm_i;
 * invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0.
 */
export function thresholdFromRowNorms(w: usize, m: i32, d: i32, rho: f64, bOut: usize, invNormOut: usize): void {
  const rowBytes = <usize>d << 2;
  for (let i: i32 = 0; i < m; ++i) {
    const nrm = Math.sqrt(sumSquares(w + <usize>i * rowBytes, d));
    store<f32>(bOut + (<usize>i << 2), <f32>(rho * nrm));
    store<f32>(invNormOut + (<usize>i << 2), nrm > 0 ? <f32>(1.0 / nrm) : <f32>0);
  }
}

/**
 * logisticStep on UT [m, B] (the transpose of U), writing GT [m, B] (the transpose of G):
 * act_in = s_{b_i}(UT_in); f_n = a sum_i act_in; z_n = y_n f_n; loss_n = log(1 + exp(-z_n));
 * c_n = sampleScale_n a (-y_n sigmoid(-z_n)); GT_in = c_n [|UT_in| > b_i];
 * dbl_i = sum_n GT_in sign(UT_in). Returns sum_n sampleScale_n loss_n.
 * Pass 1: f_n for blocks of 8 (then 4, then 1) columns n, walking the rows i, float32 partial sums
 * of 4 rows then float64 accumulation; c_n is parked in GT's row 0. Pass 2: each row i of GT is
 * written (rows 1..m-1 first, row 0 last, in place over the parked c) and reduced into dbl_i.
 */
export function logisticStepT(
  ut: usize, b: usize, y: usize, sampleScale: usize, a: f64, B: i32, m: i32, gt: usize, dbl: usize,
): f64 {
  const rowBytes = <usize>B << 2;
  let lossSum: f64 = 0;
  if (m == 0) {
    // f_n = 0: loss_n = log 2, nothing to write
    for (let n: i32 = 0; n < B; ++n) lossSum += <f64>load<f32>(sampleScale + (<usize>n << 2)) * NativeMath.log1p(1);
    return lossSum;
  }
  // ---- pass 1: per-column sums -> c_n parked in GT row 0
  let n: i32 = 0;
  for (; n + 4 <= B; ) {
    const wide = n + 8 <= B; // 8 columns (2 vectors) or 4 (1 vector)
    const o = <usize>n << 2;
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let p = ut + o;
    let i: i32 = 0;
    for (; i + 4 <= m; i += 4) {
      const bi = b + (<usize>i << 2);
      const b0 = f32x4.splat(load<f32>(bi)), b1 = f32x4.splat(load<f32>(bi, 4));
      const b2 = f32x4.splat(load<f32>(bi, 8)), b3 = f32x4.splat(load<f32>(bi, 12));
      const p1 = p + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
      const s0 = f32x4.add(
        f32x4.add(shrink4(v128.load(p), b0), shrink4(v128.load(p1), b1)),
        f32x4.add(shrink4(v128.load(p2), b2), shrink4(v128.load(p3), b3)));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(s0));
      a1 = f64x2.add(a1, promoteHigh(s0));
      if (wide) {
        const s1 = f32x4.add(
          f32x4.add(shrink4(v128.load(p, 16), b0), shrink4(v128.load(p1, 16), b1)),
          f32x4.add(shrink4(v128.load(p2, 16), b2), shrink4(v128.load(p3, 16), b3)));
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(s1));
        a3 = f64x2.add(a3, promoteHigh(s1));
      }
      p = p3 + rowBytes;
    }
    for (; i < m; ++i) {
      const bv = f32x4.splat(load<f32>(b + (<usize>i << 2)));
      const s0 = shrink4(v128.load(p), bv);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(s0));
      a1 = f64x2.add(a1, promoteHigh(s0));
      if (wide) {
        const s1 = shrink4(v128.load(p, 16), bv);
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(s1));
        a3 = f64x2.add(a3, promoteHigh(s1));
      }
      p += rowBytes;
    }
    const cnt = wide ? 8 : 4;
    for (let k: i32 = 0; k < cnt; ++k) {
      let f: f64;
      if (k == 0) f = f64x2.extract_lane(a0, 0);
      else if (k == 1) f = f64x2.extract_lane(a0, 1);
      else if (k == 2) f = f64x2.extract_lane(a1, 0);
      else if (k == 3) f = f64x2.extract_lane(a1, 1);
      else if (k == 4) f = f64x2.extract_lane(a2, 0);
      else if (k == 5) f = f64x2.extract_lane(a2, 1);
      else if (k == 6) f = f64x2.extract_lane(a3, 0);
      else f = f64x2.extract_lane(a3, 1);
      lossSum += parkC(f * a, n + k, y, sampleScale, a, gt);
    }
    n += cnt;
  }
  for (; n < B; ++n) {
    let s: f64 = 0;
    let p = ut + (<usize>n << 2);
    for (let i: i32 = 0; i < m; ++i) {
      s += <f64>shrink1(load<f32>(p), load<f32>(b + (<usize>i << 2)));
      p += rowBytes;
    }
    lossSum += parkC(s * a, n, y, sampleScale, a, gt);
  }
  // ---- pass 2: GT rows (row 0 last: it holds c) and dbl_i = sum_n GT_in sign(UT_in)
  for (let r: i32 = 1; r <= m; ++r) {
    const i = r == m ? 0 : r;
    const ur = ut + <usize>i * rowBytes;
    const gr = gt + <usize>i * rowBytes;
    const bs = load<f32>(b + (<usize>i << 2));
    const bv = f32x4.splat(bs);
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    let k: i32 = 0;
    for (; k + 8 <= B; k += 8) {
      const o = <usize>k << 2;
      const u0 = v128.load(ur + o), u1 = v128.load(ur + o, 16);
      const g0 = v128.and(v128.load(gt + o), f32x4.gt(f32x4.abs(u0), bv));
      const g1 = v128.and(v128.load(gt + o, 16), f32x4.gt(f32x4.abs(u1), bv));
      v128.store(gr + o, g0);
      v128.store(gr + o, g1, 16);
      const sm = signMask();
      acc0 = addPromoted(acc0, f32x4.add(v128.xor(g0, v128.and(u0, sm)), v128.xor(g1, v128.and(u1, sm))));
    }
    for (; k + 4 <= B; k += 4) {
      const o = <usize>k << 2;
      const u0 = v128.load(ur + o);
      const g0 = v128.and(v128.load(gt + o), f32x4.gt(f32x4.abs(u0), bv));
      v128.store(gr + o, g0);
      acc1 = addPromoted(acc1, v128.xor(g0, v128.and(u0, signMask())));
    }
    let s = hsum64(f64x2.add(acc0, acc1));
    for (; k < B; ++k) {
      const o = <usize>k << 2;
      const uv = load<f32>(ur + o);
      const gv: f32 = Mathf.abs(uv) > bs ? load<f32>(gt + o) : <f32>0;
      store<f32>(gr + o, gv);
      s += <f64>(uv < 0 ? -gv : gv);
    }
    store<f32>(dbl + (<usize>i << 2), <f32>s);
  }
  return lossSum;
}

/** Logistic scalars of column n (f = f_n): stores c_n at gt[n] (GT row 0); returns sampleScale_n loss_n. */
// @ts-ignore: decorator
@inline function parkC(f: f64, n: i32, y: usize, sampleScale: usize, a: f64, gt: usize): f64 {
  const yn = <f64>load<f32>(y + (<usize>n << 2));
  const sc = <f64>load<f32>(sampleScale + (<usize>n << 2));
  const z = yn * f;
  const e = expNoTable(-Math.abs(z));
  store<f32>(gt + (<usize>n << 2), <f32>(sc * (-yn * sigmoidNeg(z, e)) * a));
  return sc * logLoss(z, e);
}

/**
 * Chain rule through b_i = rho ||w_i|| in the row layout: dW[i,:] -= dbl_i rho invNorm_i W[i,:]
 * (dW, W [m, d]).
 */
export function relativeThresholdGradientRows(dw: usize, w: usize, dbl: usize, invNorm: usize, rho: f64, m: i32, d: i32): void {
  const rowBytes = <usize>d << 2;
  const r = <f32>rho;
  for (let i: i32 = 0; i < m; ++i) {
    const cs = load<f32>(dbl + (<usize>i << 2)) * load<f32>(invNorm + (<usize>i << 2)) * r;
    subScaled(dw + <usize>i * rowBytes, w + <usize>i * rowBytes, cs, d);
  }
}

/**
 * margin_n = y_n a sum_i s_{b_i}(U_ni); Gx_ni = -y_n a mask_ni (so Gx @ W is the gradient of
 * -margin w.r.t. x). One pass per row. Returns the number of rows whose mask is all zero.
 */
export function marginGradient(u: usize, b: usize, y: usize, a: f64, N: i32, m: i32, gx: usize, marginOut: usize): i32 {
  const rowBytes = <usize>m << 2;
  const m4 = m & ~3;
  let dead: i32 = 0;
  for (let n: i32 = 0; n < N; ++n) {
    const ur = u + <usize>n * rowBytes;
    const gr = gx + <usize>n * rowBytes;
    const yn = <f64>load<f32>(y + (<usize>n << 2));
    const cs = <f32>(-yn * a);
    const cv = f32x4.splat(cs);
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    let any = i32x4.splat(0);
    let i: i32 = 0;
    for (; i + 16 <= m; i += 16) {
      const o = <usize>i << 2;
      const u0 = v128.load(ur + o), u1 = v128.load(ur + o, 16), u2 = v128.load(ur + o, 32), u3 = v128.load(ur + o, 48);
      const b0 = v128.load(b + o), b1 = v128.load(b + o, 16), b2 = v128.load(b + o, 32), b3 = v128.load(b + o, 48);
      acc0 = addPromoted(acc0, f32x4.add(f32x4.add(shrink4(u0, b0), shrink4(u1, b1)), f32x4.add(shrink4(u2, b2), shrink4(u3, b3))));
      const k0 = f32x4.gt(f32x4.abs(u0), b0), k1 = f32x4.gt(f32x4.abs(u1), b1);
      const k2 = f32x4.gt(f32x4.abs(u2), b2), k3 = f32x4.gt(f32x4.abs(u3), b3);
      any = v128.or(any, v128.or(v128.or(k0, k1), v128.or(k2, k3)));
      v128.store(gr + o, v128.and(cv, k0));
      v128.store(gr + o, v128.and(cv, k1), 16);
      v128.store(gr + o, v128.and(cv, k2), 32);
      v128.store(gr + o, v128.and(cv, k3), 48);
    }
    for (; i < m4; i += 4) {
      const o = <usize>i << 2;
      const u0 = v128.load(ur + o), b0 = v128.load(b + o);
      acc1 = addPromoted(acc1, shrink4(u0, b0));
      const k0 = f32x4.gt(f32x4.abs(u0), b0);
      any = v128.or(any, k0);
      v128.store(gr + o, v128.and(cv, k0));
    }
    let s = hsum64(f64x2.add(acc0, acc1));
    let anyS = v128.any_true(any);
    for (; i < m; ++i) {
      const o = <usize>i << 2;
      const uv = load<f32>(ur + o), bv = load<f32>(b + o);
      s += <f64>shrink1(uv, bv);
      const on = Mathf.abs(uv) > bv;
      anyS = anyS || on;
      store<f32>(gr + o, on ? cs : <f32>0);
    }
    store<f32>(marginOut + (<usize>n << 2), <f32>(yn * a * s));
    if (!anyS) dead++;
  }
  return dead;
}

