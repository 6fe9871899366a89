// Image MLP kernels (AssemblyScript; see ./fused.ts for the memory contract and the numerics).
// ROW layout, one row per sample: X [N, d] @ W [d, m] = U [N, m] (tfjs matMul), H = s(U + c) in
// place, Z = H V + e [N, C], dZ [N, C], dV = H^T dZ [m, C], dU = (dZ V^T) * [H != 0] [N, m],
// then dW = X^T dU (tfjs matMul). In this layout the per-sample work (activation, logits,
// softmax, margin) is row-local, and the matMuls' right-hand operands are W (changes each step,
// but the attack's PGD steps reuse its packed copy, and so does the training step that follows an
// attack) and dU (N x m, the smallest operand of that product). V is used as VT = V^T [C, m]
// (transposeInto, once per step), so every dot product and axpy over the hidden axis is
// contiguous. Neuron i's weights are COLUMN i of W [d, m]: its relative threshold
// b_i = rho ||W[:, i]|| and that threshold's chain rule work on columns.
//
//  thresholdFromNorms:        nrm_i = sqrt(sum_j W[j,i]^2); b_i = rho nrm_i;
//                             invNorm_i = nrm_i > 0 ? 1 / nrm_i : 0.
//  relativeThresholdGradient: dW[j,i] -= dbl_i rho invNorm_i W[j,i].
//  transposeInto:             dst [cols, rows] = src [rows, cols]^T.
//  biasActivation:            H = s(U + c) in place; s = ReLU, or s_b(t) = t - clamp(t, -b, b);
//                             the derivative mask is [H != 0].
//  outputLogits:              z_nk = e_k + sum_i H[n,i] VT[k,i].
//  softmaxCrossEntropy:       in place Z -> dZ_n = s_n (softmax(z_n) - e_{y_n}); returns
//                             sum_n s_n (logsumexp(z_n) - z_{n,y_n}).
//  multiclassMarginGradient:  margin_n = z_{n,y} - max_{j != y} z_nj (j* the first such j);
//                             in place Z -> dZ_n = e_{j*} - e_{y_n} (gradient of -margin).
//  outputLayerGradients:      dV = H^T dZ [m, C]; de = sum_n dZ_n.
//  hiddenGradient:            dU = (dZ VT) * [H != 0].
//  columnSums:                out_i = sum_n A[n,i].
//  signedColumnSums:          out_i = sum_n A[n,i] sign(S[n,i]) (sign bit of S).
//
// The long sums (over the m hidden units in outputLogits, over the N rows in outputLayerGradients
// and the column sums) follow the rule of ./fused.ts; so does the softmax (float64 per row). The
// one short sum, over the C classes in hiddenGradient, is float32 in class order, as the matMul
// dZ V^T it replaces.

import { addPromoted, expNoTable, hsum64, promoteHigh, shrink1, shrink4, signedG } from './common';
import { relativeThresholdGradientColumns, thresholdFromColumnNorms } from './neuronColumns';

/**
 * Column norms of W [d, m]: nrm_i = sqrt(sum_j W[j,i]^2); bOut_i = rho nrm_i;
 * invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0. Blocks of 8 columns, rows inner, float64 accumulators.
 */
export function thresholdFromNorms(w: usize, d: i32, m: i32, rho: f64, bOut: usize, invNormOut: usize): void {
  thresholdFromColumnNorms(w, d, m, m, rho, bOut, invNormOut);
}


/**
 * dW[j,i] -= coef_i W[j,i] with coef_i = dbl_i rho invNorm_i (float32), i.e. the chain rule
 * through b_i = rho ||w_i||. Blocks of 16 columns (one 64-byte line per row) keep the 4 coef
 * vectors in registers while walking the rows.
 */
export function relativeThresholdGradient(dw: usize, w: usize, dbl: usize, invNorm: usize, rho: f64, d: i32, m: i32): void {
  relativeThresholdGradientColumns(dw, w, dbl, invNorm, rho, d, m, m);
}



/**
 * dst [cols, rows] = src [rows, cols]^T. 4 x 4 tiles transposed in registers (two shuffle
 * rounds); a block of 4 source rows is swept across all columns, so the 4-float pieces written
 * into each destination row land in lines that the next 3 blocks complete while they are in L1.
 */
export function transposeInto(src: usize, rows: i32, cols: i32, dst: usize): void {
  const srcRow = <usize>cols << 2;
  const dstRow = <usize>rows << 2;
  let r: i32 = 0;
  for (; r + 4 <= rows; r += 4) {
    const s0 = src + <usize>r * srcRow, s1 = s0 + srcRow, s2 = s1 + srcRow, s3 = s2 + srcRow;
    const dr = dst + (<usize>r << 2);
    let c: i32 = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const a = v128.load(s0 + o), b = v128.load(s1 + o), e = v128.load(s2 + o), f = v128.load(s3 + o);
      const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5); // a0 b0 a1 b1
      const t1 = v128.shuffle<f32>(e, f, 0, 4, 1, 5); // e0 f0 e1 f1
      const t2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7); // a2 b2 a3 b3
      const t3 = v128.shuffle<f32>(e, f, 2, 6, 3, 7); // e2 f2 e3 f3
      const p = dr + <usize>c * dstRow;
      v128.store(p, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(p + dstRow, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(p + 2 * dstRow, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(p + 3 * dstRow, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; c < cols; ++c) {
      const o = <usize>c << 2;
      const p = dr + <usize>c * dstRow;
      store<f32>(p, load<f32>(s0 + o));
      store<f32>(p, load<f32>(s1 + o), 4);
      store<f32>(p, load<f32>(s2 + o), 8);
      store<f32>(p, load<f32>(s3 + o), 12);
    }
  }
  for (; r < rows; ++r) {
    const s = src + <usize>r * srcRow;
    const dr = dst + (<usize>r << 2);
    for (let c: i32 = 0; c < cols; ++c) store<f32>(dr + <usize>c * dstRow, load<f32>(s + (<usize>c << 2)));
  }
}

/**
 * H = s(U + c) in place on U [N, m]: s = ReLU, max(t, 0) (threshold == 0), or the symmetric
 * thresholded ReLU s_b(t) = t - clamp(t, -b_i, b_i) (threshold != 0). Either way the derivative
 * mask is [H != 0], which is what the backward kernels read (no mask is stored).
 */
export function biasActivation(u: usize, c: usize, b: usize, threshold: i32, N: i32, m: i32): void {
  const rowBytes = <usize>m << 2;
  const m4 = m & ~3;
  const zero = f32x4.splat(0);
  for (let n: i32 = 0; n < N; ++n) {
    const ur = u + <usize>n * rowBytes;
    let i: i32 = 0;
    if (threshold) {
      for (; i < m4; i += 4) {
        const o = <usize>i << 2;
        v128.store(ur + o, shrink4(f32x4.add(v128.load(ur + o), v128.load(c + o)), v128.load(b + o)));
      }
      for (; i < m; ++i) {
        const o = <usize>i << 2;
        store<f32>(ur + o, shrink1(load<f32>(ur + o) + load<f32>(c + o), load<f32>(b + o)));
      }
    } else {
      for (; i < m4; i += 4) {
        const o = <usize>i << 2;
        // pmax(t, 0) = t < 0 ? 0 : t (a NaN stays NaN)
        v128.store(ur + o, f32x4.pmax(f32x4.add(v128.load(ur + o), v128.load(c + o)), zero));
      }
      for (; i < m; ++i) {
        const o = <usize>i << 2;
        const t = load<f32>(ur + o) + load<f32>(c + o);
        store<f32>(ur + o, t < 0 ? <f32>0 : t);
      }
    }
  }
}

/** Pairwise float32 sum of the 4 lane-wise products p[0..16) * (v0, v1, v2, v3): <= 4 terms per lane. */
// @ts-ignore: decorator
@inline function dot16(p: usize, v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  return f32x4.add(
    f32x4.add(f32x4.mul(v128.load(p), v0), f32x4.mul(v128.load(p, 16), v1)),
    f32x4.add(f32x4.mul(v128.load(p, 32), v2), f32x4.mul(v128.load(p, 48), v3)));
}

/** float64 dot product of n float32 at p and q (float32 partial sums of <= 4 terms per lane). */
function dotRow(p: usize, q: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
  let i: i32 = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    acc0 = addPromoted(acc0, dot16(p + o, v128.load(q + o), v128.load(q + o, 16), v128.load(q + o, 32), v128.load(q + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc1 = addPromoted(acc1, f32x4.mul(v128.load(p + o), v128.load(q + o)));
  }
  let s = hsum64(f64x2.add(acc0, acc1));
  for (; i < n; ++i) {
    const o = <usize>i << 2;
    s += <f64>load<f32>(p + o) * <f64>load<f32>(q + o);
  }
  return s;
}

/**
 * Logits Z [N, C]: z_nk = e_k + sum_i H[n,i] VT[k,i] (VT = V^T [C, m]). Four rows at a time share
 * each load of VT[k, :]; float32 products summed pairwise in groups of 4 per lane, accumulated in
 * float64, e_k added in float64, rounded once.
 */
export function outputLogits(h: usize, vt: usize, e: usize, N: i32, m: i32, C: i32, z: usize): void {
  const rowBytes = <usize>m << 2;
  const zRow = <usize>C << 2;
  let n: i32 = 0;
  for (; n + 4 <= N; n += 4) {
    const h0 = h + <usize>n * rowBytes, h1 = h0 + rowBytes, h2 = h1 + rowBytes, h3 = h2 + rowBytes;
    const z0 = z + <usize>n * zRow;
    for (let k: i32 = 0; k < C; ++k) {
      const vr = vt + <usize>k * rowBytes;
      let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
      let i: i32 = 0;
      for (; i + 16 <= m; i += 16) {
        const o = <usize>i << 2;
        const v0 = v128.load(vr + o), v1 = v128.load(vr + o, 16), v2 = v128.load(vr + o, 32), v3 = v128.load(vr + o, 48);
        a0 = addPromoted(a0, dot16(h0 + o, v0, v1, v2, v3));
        a1 = addPromoted(a1, dot16(h1 + o, v0, v1, v2, v3));
        a2 = addPromoted(a2, dot16(h2 + o, v0, v1, v2, v3));
        a3 = addPromoted(a3, dot16(h3 + o, v0, v1, v2, v3));
      }
      for (; i + 4 <= m; i += 4) {
        const o = <usize>i << 2;
        const v0 = v128.load(vr + o);
        a0 = addPromoted(a0, f32x4.mul(v128.load(h0 + o), v0));
        a1 = addPromoted(a1, f32x4.mul(v128.load(h1 + o), v0));
        a2 = addPromoted(a2, f32x4.mul(v128.load(h2 + o), v0));
        a3 = addPromoted(a3, f32x4.mul(v128.load(h3 + o), v0));
      }
      const ek = <f64>load<f32>(e + (<usize>k << 2));
      let s0 = hsum64(a0) + ek, s1 = hsum64(a1) + ek, s2 = hsum64(a2) + ek, s3 = hsum64(a3) + ek;
      for (; i < m; ++i) {
        const o = <usize>i << 2;
        const v = <f64>load<f32>(vr + o);
        s0 += <f64>load<f32>(h0 + o) * v;
        s1 += <f64>load<f32>(h1 + o) * v;
        s2 += <f64>load<f32>(h2 + o) * v;
        s3 += <f64>load<f32>(h3 + o) * v;
      }
      const zk = z0 + (<usize>k << 2);
      store<f32>(zk, <f32>s0);
      store<f32>(zk + zRow, <f32>s1);
      store<f32>(zk + 2 * zRow, <f32>s2);
      store<f32>(zk + 3 * zRow, <f32>s3);
    }
  }
  for (; n < N; ++n) {
    const hr = h + <usize>n * rowBytes;
    const zr = z + <usize>n * zRow;
    for (let k: i32 = 0; k < C; ++k) {
      store<f32>(zr + (<usize>k << 2), <f32>(dotRow(hr, vt + <usize>k * rowBytes, m) + <f64>load<f32>(e + (<usize>k << 2))));
    }
  }
}

/**
 * The class index of label y (stored as float) when it is one of 0..C-1 after truncation
 * toward zero (as tf.cast to int32 does), else -1 (no target: a one-hot row of zeros).
 */
// @ts-ignore: decorator
@inline function classIndex(y: f32, C: i32): i32 {
  return y > -1 && y < <f32>C ? <i32>y : -1;
}

/**
 * Softmax cross-entropy in place on Z [N, C], which becomes dZ: with mx = max_k z_nk,
 * lse_n = mx + log(sum_k exp(z_nk - mx)), loss_n = lse_n - z_{n,y_n} and
 * dz_nk = s_n (softmax(z_n)_k - [k = y_n]). Returns sum_n s_n loss_n. Per row in float64
 * (exp / log1p without tables; log(S) = log1p(S - 1), S in [1, C]). A label outside 0..C-1 has
 * no target (loss_n = 0, dz_n = s_n softmax(z_n)), as a one-hot row of zeros gives.
 */
export function softmaxCrossEntropy(z: usize, y: usize, scale: usize, N: i32, C: i32): f64 {
  const zRow = <usize>C << 2;
  let lossSum: f64 = 0;
  for (let n: i32 = 0; n < N; ++n) {
    const zr = z + <usize>n * zRow;
    const yi = classIndex(load<f32>(y + (<usize>n << 2)), C);
    const sc = <f64>load<f32>(scale + (<usize>n << 2));
    let mx = <f64>load<f32>(zr);
    for (let k: i32 = 1; k < C; ++k) mx = Math.max(mx, <f64>load<f32>(zr + (<usize>k << 2)));
    const zy: f64 = yi >= 0 ? <f64>load<f32>(zr + (<usize>yi << 2)) : 0;
    // exp(z - mx) kept in the row (float32) while the float64 sum runs
    let se: f64 = 0;
    for (let k: i32 = 0; k < C; ++k) {
      const p = zr + (<usize>k << 2);
      const ex = expNoTable(<f64>load<f32>(p) - mx);
      se += ex;
      store<f32>(p, <f32>ex);
    }
    if (yi >= 0) lossSum += sc * (mx + NativeMath.log1p(se - 1) - zy);
    const q = sc / se;
    for (let k: i32 = 0; k < C; ++k) {
      const p = zr + (<usize>k << 2);
      const t: f64 = k == yi ? sc : 0;
      store<f32>(p, <f32>(<f64>load<f32>(p) * q - t));
    }
  }
  return lossSum;
}

/**
 * The multi-class margin and its gradient, in place on Z [N, C], which becomes dZ:
 * margin_n = z_{n,y} - z_{n,j*} with j* the runner-up (the first j != y of largest z_nj);
 * dz_n = e_{j*} - e_y, the gradient of the NEGATIVE margin. A tie gives margin 0 (a failure).
 * A label outside 0..C-1 counts z_y as 0 and j* as the first largest class, as a one-hot row of
 * zeros gives. C >= 2.
 */
export function multiclassMarginGradient(z: usize, y: usize, N: i32, C: i32, marginOut: usize): void {
  const zRow = <usize>C << 2;
  for (let n: i32 = 0; n < N; ++n) {
    const zr = z + <usize>n * zRow;
    const yi = classIndex(load<f32>(y + (<usize>n << 2)), C);
    let best: i32 = -1;
    let bv: f32 = 0;
    for (let k: i32 = 0; k < C; ++k) {
      if (k == yi) continue;
      const v = load<f32>(zr + (<usize>k << 2));
      if (best < 0 || v > bv) {
        best = k;
        bv = v;
      }
    }
    const zy: f32 = yi >= 0 ? load<f32>(zr + (<usize>yi << 2)) : 0;
    store<f32>(marginOut + (<usize>n << 2), zy - bv);
    for (let k: i32 = 0; k < C; ++k) store<f32>(zr + (<usize>k << 2), 0);
    store<f32>(zr + (<usize>best << 2), 1);
    if (yi >= 0) store<f32>(zr + (<usize>yi << 2), -1);
  }
}

/**
 * Output-layer gradients: dV [m, C], dV[i,k] = sum_n H[n,i] dZ[n,k], and de [C], de_k = sum_n dZ[n,k].
 * Blocks of 8 hidden units (2 vectors) per class walk the rows 4 at a time: float32 partial sums
 * of 4 rows per lane, float64 accumulation.
 */
export function outputLayerGradients(h: usize, dz: usize, N: i32, m: i32, C: i32, dv: usize, de: usize): void {
  const rowBytes = <usize>m << 2;
  const zRow = <usize>C << 2;
  let i: i32 = 0;
  for (; i + 8 <= m; i += 8) {
    for (let k: i32 = 0; k < C; ++k) {
      let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
      let ph = h + (<usize>i << 2);
      let pz = dz + (<usize>k << 2);
      let n: i32 = 0;
      for (; n + 4 <= N; n += 4) {
        const q1 = ph + rowBytes, q2 = q1 + rowBytes, q3 = q2 + rowBytes;
        const z0 = f32x4.splat(load<f32>(pz)), z1 = f32x4.splat(load<f32>(pz + zRow));
        const z2 = f32x4.splat(load<f32>(pz + 2 * zRow)), z3 = f32x4.splat(load<f32>(pz + 3 * zRow));
        const t0 = f32x4.add(
          f32x4.add(f32x4.mul(v128.load(ph), z0), f32x4.mul(v128.load(q1), z1)),
          f32x4.add(f32x4.mul(v128.load(q2), z2), f32x4.mul(v128.load(q3), z3)));
        const t1 = f32x4.add(
          f32x4.add(f32x4.mul(v128.load(ph, 16), z0), f32x4.mul(v128.load(q1, 16), z1)),
          f32x4.add(f32x4.mul(v128.load(q2, 16), z2), f32x4.mul(v128.load(q3, 16), z3)));
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
        a1 = f64x2.add(a1, promoteHigh(t0));
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
        a3 = f64x2.add(a3, promoteHigh(t1));
        ph = q3 + rowBytes;
        pz += zRow << 2;
      }
      for (; n < N; ++n) {
        const z0 = f32x4.splat(load<f32>(pz));
        const t0 = f32x4.mul(v128.load(ph), z0);
        const t1 = f32x4.mul(v128.load(ph, 16), z0);
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
        a1 = f64x2.add(a1, promoteHigh(t0));
        a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
        a3 = f64x2.add(a3, promoteHigh(t1));
        ph += rowBytes;
        pz += zRow;
      }
      const p = dv + (<usize>i * zRow) + (<usize>k << 2);
      store<f32>(p, <f32>f64x2.extract_lane(a0, 0));
      store<f32>(p + zRow, <f32>f64x2.extract_lane(a0, 1));
      store<f32>(p + 2 * zRow, <f32>f64x2.extract_lane(a1, 0));
      store<f32>(p + 3 * zRow, <f32>f64x2.extract_lane(a1, 1));
      store<f32>(p + 4 * zRow, <f32>f64x2.extract_lane(a2, 0));
      store<f32>(p + 5 * zRow, <f32>f64x2.extract_lane(a2, 1));
      store<f32>(p + 6 * zRow, <f32>f64x2.extract_lane(a3, 0));
      store<f32>(p + 7 * zRow, <f32>f64x2.extract_lane(a3, 1));
    }
  }
  for (; i < m; ++i) {
    for (let k: i32 = 0; k < C; ++k) {
      let s: f64 = 0;
      for (let n: i32 = 0; n < N; ++n) {
        s += <f64>load<f32>(h + <usize>n * rowBytes + (<usize>i << 2)) * <f64>load<f32>(dz + <usize>n * zRow + (<usize>k << 2));
      }
      store<f32>(dv + <usize>i * zRow + (<usize>k << 2), <f32>s);
    }
  }
  for (let k: i32 = 0; k < C; ++k) {
    let s: f64 = 0;
    for (let n: i32 = 0; n < N; ++n) s += <f64>load<f32>(dz + <usize>n * zRow + (<usize>k << 2));
    store<f32>(de + (<usize>k << 2), <f32>s);
  }
}

/**
 * The hidden layer's gradient dU [N, m]: dU[n,i] = [H[n,i] != 0] sum_k dZ[n,k] VT[k,i], the sum
 * over the C classes in float32 in class order, as the matMul dZ V^T it replaces. Classes whose
 * dZ[n,k] is 0 are skipped (exactly: they add 0), so a margin gradient (2 nonzeros per row) costs
 * 2 axpys per row instead of C. Blocks of 16 hidden units stay in registers across the classes.
 */
export function hiddenGradient(h: usize, dz: usize, vt: usize, N: i32, m: i32, C: i32, du: usize): void {
  const rowBytes = <usize>m << 2;
  const zRow = <usize>C << 2;
  const zero = f32x4.splat(0);
  for (let n: i32 = 0; n < N; ++n) {
    const hr = h + <usize>n * rowBytes;
    const dr = du + <usize>n * rowBytes;
    const zr = dz + <usize>n * zRow;
    let i: i32 = 0;
    for (; i + 16 <= m; i += 16) {
      const o = <usize>i << 2;
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      for (let k: i32 = 0; k < C; ++k) {
        const g = load<f32>(zr + (<usize>k << 2));
        if (g == 0) continue;
        const gv = f32x4.splat(g);
        const vr = vt + <usize>k * rowBytes + o;
        a0 = f32x4.add(a0, f32x4.mul(gv, v128.load(vr)));
        a1 = f32x4.add(a1, f32x4.mul(gv, v128.load(vr, 16)));
        a2 = f32x4.add(a2, f32x4.mul(gv, v128.load(vr, 32)));
        a3 = f32x4.add(a3, f32x4.mul(gv, v128.load(vr, 48)));
      }
      v128.store(dr + o, v128.and(a0, f32x4.ne(v128.load(hr + o), zero)));
      v128.store(dr + o, v128.and(a1, f32x4.ne(v128.load(hr + o, 16), zero)), 16);
      v128.store(dr + o, v128.and(a2, f32x4.ne(v128.load(hr + o, 32), zero)), 32);
      v128.store(dr + o, v128.and(a3, f32x4.ne(v128.load(hr + o, 48), zero)), 48);
    }
    for (; i + 4 <= m; i += 4) {
      const o = <usize>i << 2;
      let a0 = zero;
      for (let k: i32 = 0; k < C; ++k) {
        const g = load<f32>(zr + (<usize>k << 2));
        if (g == 0) continue;
        a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(g), v128.load(vt + <usize>k * rowBytes + o)));
      }
      v128.store(dr + o, v128.and(a0, f32x4.ne(v128.load(hr + o), zero)));
    }
    for (; i < m; ++i) {
      const o = <usize>i << 2;
      let s: f32 = 0;
      for (let k: i32 = 0; k < C; ++k) {
        const g = load<f32>(zr + (<usize>k << 2));
        if (g == 0) continue;
        s += g * load<f32>(vt + <usize>k * rowBytes + o);
      }
      store<f32>(dr + o, load<f32>(hr + o) != 0 ? s : <f32>0);
    }
  }
}

/**
 * out_i = sum_n A[n,i] (signed == false) or sum_n A[n,i] sign(S[n,i]) (signed == true: A's sign
 * bit flipped by S's, so S = -0 reads as negative; with A = dU and S = H, A is 0 wherever H is
 * +-0) over A, S [N, m]. Blocks of 8 columns, float32 partial sums of 4 rows, float64 accumulation.
 */
// @ts-ignore: decorator
@inline function columnSumsOf(a: usize, s: usize, signed: bool, N: i32, m: i32, out: usize): void {
  const rowBytes = <usize>m << 2;
  let i: i32 = 0;
  for (; i + 8 <= m; i += 8) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    const o = <usize>i << 2;
    let pa = a + o, ps = s + o;
    let n: i32 = 0;
    for (; n + 4 <= N; n += 4) {
      const r1 = rowBytes, r2 = rowBytes << 1, r3 = r1 + r2;
      let t0: v128, t1: v128;
      if (signed) {
        t0 = f32x4.add(f32x4.add(signedG(pa, ps), signedG(pa + r1, ps + r1)), f32x4.add(signedG(pa + r2, ps + r2), signedG(pa + r3, ps + r3)));
        t1 = f32x4.add(
          f32x4.add(signedG(pa + 16, ps + 16), signedG(pa + r1 + 16, ps + r1 + 16)),
          f32x4.add(signedG(pa + r2 + 16, ps + r2 + 16), signedG(pa + r3 + 16, ps + r3 + 16)));
      } else {
        t0 = f32x4.add(f32x4.add(v128.load(pa), v128.load(pa + r1)), f32x4.add(v128.load(pa + r2), v128.load(pa + r3)));
        t1 = f32x4.add(f32x4.add(v128.load(pa, 16), v128.load(pa + r1, 16)), f32x4.add(v128.load(pa + r2, 16), v128.load(pa + r3, 16)));
      }
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
      a1 = f64x2.add(a1, promoteHigh(t0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
      a3 = f64x2.add(a3, promoteHigh(t1));
      pa += rowBytes << 2;
      ps += rowBytes << 2;
    }
    for (; n < N; ++n) {
      const t0 = signed ? signedG(pa, ps) : v128.load(pa);
      const t1 = signed ? signedG(pa + 16, ps + 16) : v128.load(pa, 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
      a1 = f64x2.add(a1, promoteHigh(t0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
      a3 = f64x2.add(a3, promoteHigh(t1));
      pa += rowBytes;
      ps += rowBytes;
    }
    v128.store(out + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
    v128.store(out + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
  }
  for (; i < m; ++i) {
    const o = <usize>i << 2;
    let acc: f64 = 0;
    let pa = a + o, ps = s + o;
    for (let n: i32 = 0; n < N; ++n) {
      const av = <f64>load<f32>(pa);
      acc += signed && reinterpret<i32>(load<f32>(ps)) < 0 ? -av : av;
      pa += rowBytes;
      ps += rowBytes;
    }
    store<f32>(out + o, <f32>acc);
  }
}

/** Column sums of A [N, m]: out_i = sum_n A[n,i] (the bias gradient dc = sum_n dU[n,:]). */
export function columnSums(a: usize, N: i32, m: i32, out: usize): void {
  columnSumsOf(a, a, false, N, m, out);
}

/**
 * Signed column sums: out_i = sum_n A[n,i] sign(S[n,i]) (A, S [N, m]); with A = dU and S = H this
 * is dbl_i = sum_n dU[n,i] sign(U[n,i]), so dL/db_i = -dbl_i for the thresholds b_i.
 */
export function signedColumnSums(a: usize, s: usize, N: i32, m: i32, out: usize): void {
  columnSumsOf(a, s, true, N, m, out);
}
