// AssemblyScript source of the fused training / attack kernels (compiled to ../fused.wasm by
// `npm run build:kernels`). This is AssemblyScript, not TypeScript: tsconfig.json excludes this
// folder. The TypeScript side is ../fusedKernels.ts, which resolves tfjs tensors to byte offsets.
//
// MEMORY CONTRACT. The module IMPORTS the tfjs-wasm backend's own WebAssembly.Memory as
// env.memory and reads/writes tensors in place through raw byte pointers passed in by the loader.
// It must never own memory: this file uses no strings, arrays, objects, globals-in-memory or
// allocation, only load<T>/store<T>/v128 on the pointers it is given, and every scalar maths
// routine it calls is table-free (AssemblyScript's Math.exp at -O3 uses a lookup table that would
// become a DATA SEGMENT written over Emscripten's heap at instantiation, so exp is re-implemented
// below from musl's table-free algorithm). The build uses --runtime stub (tree-shaken away because
// nothing allocates), --importMemory --noExportMemory, --noAssert --use abort= (no imports but
// env.memory). ../fusedKernels.ts re-checks the compiled binary before instantiating it: its only
// import must be env.memory, and it must have no data section (id 11), no data-count section
// (id 12) and no start section (id 8); otherwise it refuses to load. test/engine/fusedKernels.test.ts
// checks the same.
//
// LAYOUT. float32, row-major. d = input dimension, m = neurons, B or N = rows.
// Weights are stored transposed, Wt [d, m], so the forward pass is U = X @ Wt. The output weight
// a is one scalar shared by every neuron.
//
// KERNELS (the maths; s_b(t) = ReLU(t - b) - ReLU(-t - b) = t - clamp(t, -b, b) is the symmetric
// thresholded ReLU, mask_ni = [|U_ni| > b_i]):
//  1. thresholdFromNorms:   nrm_i = sqrt(sum_j Wt[j,i]^2); b_i = rho nrm_i;
//                           invNorm_i = nrm_i > 0 ? 1 / nrm_i : 0.
//  2. logisticStep:         act_ni = s_{b_i}(U_ni); f_n = a sum_i act_ni; z_n = y_n f_n;
//                           loss_n = log(1 + exp(-z_n)) = max(-z_n, 0) + log1p(exp(-|z_n|));
//                           g_n = dloss_n/df_n = -y_n sigmoid(-z_n);
//                           c_n = sampleScale_n g_n a; G_ni = c_n mask_ni;
//                           dbl_i = sum_n c_n sign(act_ni) (= sum_n G_ni sign(U_ni));
//                           returns sum_n sampleScale_n loss_n. (dL/db_i = -dbl_i.)
//  3. relativeThresholdGradient: dWt[j,i] -= dbl_i rho invNorm_i Wt[j,i]
//                           (chain rule through b_i = rho ||w_i||).
//  4. sgdUpdate:            p -= lr g.
//     momentumUpdate:       v = mu v + g; p -= lr v.
//     adamUpdate:           m1 = b1 m1 + (1-b1) g; m2 = b2 m2 + (1-b2) g^2;
//                           p -= lr (m1 / bc1) / (sqrt(m2 / bc2) + eps), bc_k = 1 - b_k^t
//                           (bc1, bc2 are computed by the caller in float64).
//  5. marginGradient:       f_n as in 2; margin_n = y_n f_n; Gx_ni = -y_n a mask_ni;
//                           returns the number of rows whose mask is all zero.
//  6. pgdL2Step:            per row: gn = ||grad_n||; if gn > 0: Xadv_n += alpha_n grad_n / gn;
//                           delta = Xadv_n - X_n; if ||delta|| > eps_n: Xadv_n = X_n + delta eps_n/||delta||;
//                           if clip: Xadv_n = clamp(Xadv_n, lo, hi). Returns the zero-gradient row count.
//  7. pgdLinfStep:          Xadv += alpha_n sign(grad); Xadv = X + clamp(Xadv - X, -eps_n, eps_n);
//                           if clip: clamp into [lo, hi]. Returns the zero-gradient row count.
//  Transposed (row) layout for training, W [m, d], UT = U^T [m, B], GT = G^T [m, B] (see the note
//  above the kernels at the end of this file for why):
//  8. thresholdFromRowNorms:  nrm_i = sqrt(sum_j W[i,j]^2); b_i = rho nrm_i; invNorm_i as in 1.
//  9. logisticStepT:          exactly 2. with U_ni read as UT_in and G_ni written as GT_in.
// 10. relativeThresholdGradientRows: dW[i,j] -= dbl_i rho invNorm_i W[i,j].
//  Image MLP, row layout (one row per sample; see the note above those kernels): U = X W [N, m],
//  H [N, m], logits Z and their gradient dZ [N, C], V [m, C] read as VT = V^T [C, m]:
// 11. transposeInto:          dst [cols, rows] = src [rows, cols]^T.
// 12. biasActivation:         H = s(U + c) in place; s = ReLU, or s_b as above; the mask is [H != 0].
// 13. outputLogits:           z_nk = e_k + sum_i H[n,i] VT[k,i].
// 14. softmaxCrossEntropy:    in place Z -> dZ_n = s_n (softmax(z_n) - e_{y_n}); returns
//                             sum_n s_n (logsumexp(z_n) - z_{n,y_n}).
// 15. multiclassMarginGradient: margin_n = z_{n,y} - max_{j != y} z_nj (j* the first such j);
//                             in place Z -> dZ_n = e_{j*} - e_{y_n} (gradient of -margin).
// 16. outputLayerGradients:   dV = H^T dZ [m, C]; de = sum_n dZ_n.
// 17. hiddenGradient:         dU = (dZ VT) * [H != 0].
// 18. columnSums:             out_i = sum_n A[n,i].
// 19. signedColumnSums:       out_i = sum_n A[n,i] sign(S[n,i]) (sign bit of S).
//
// NUMERICS. Elementwise work is float32 (f32x4 SIMD over the contiguous m or d axis, scalar tails).
// Every reduction is accumulated in float64 (f64x2.promote_low_f32x4) over float32 partial sums of
// at most 4 terms per lane (pairwise, so each partial carries <= 2 roundings): the row sums f_n,
// ||grad_n||, ||delta_n||, the column / row norms and the cross-row sums dbl_i. The per-row scalar
// maths (exp, log1p, sigmoid, projection scale) is float64. Results are rounded to float32 once,
// when stored. The MLP kernels follow the same rule for their long sums (over the m hidden units
// in 13, over the N rows in 16, 18, 19) and for the softmax (float64 per row); the one short sum,
// over the C classes in 17, is float32 in class order, as the matMul dZ V^T it replaces.
//
// NaN: clamps use pmin/pmax (one instruction on x64); a NaN in U propagates into act and f.

// ---------------------------------------------------------------------------------------------
// Helpers (no memory; the @inline ones are inlined).

/** The float32 sign bit in every lane (a v128.const after inlining). */
// @ts-ignore: decorator
@inline function signMask(): v128 {
  return i32x4.splat(-2147483648);
}

/** Float64 pair of the upper two float32 lanes of v. */
// @ts-ignore: decorator
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Sum of both float64 lanes. */
// @ts-ignore: decorator
@inline function hsum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** acc + (float64 sum of the 4 float32 lanes of v, as two f64x2 lanes pairs). */
// @ts-ignore: decorator
@inline function addPromoted(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(v), promoteHigh(v)));
}

/** (G * sign(U)) for 4 lanes at byte address pg / pu: G's sign bit flipped by U's. */
// @ts-ignore: decorator
@inline function signedG(pg: usize, pu: usize): v128 {
  return v128.xor(v128.load(pg), v128.and(v128.load(pu), signMask()));
}

/** (a*a + b*b) + (c*c + d*d), lane-wise float32 (a pairwise partial sum of 4 squares). */
// @ts-ignore: decorator
@inline function sumSq4(a: v128, b: v128, c: v128, d: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(a, a), f32x4.mul(b, b)), f32x4.add(f32x4.mul(c, c), f32x4.mul(d, d)));
}

/** act = U - clamp(U, -b, b) for 4 lanes (pmax/pmin: NaN in U stays NaN). */
// @ts-ignore: decorator
@inline function shrink4(u: v128, b: v128): v128 {
  return f32x4.sub(u, f32x4.pmin(f32x4.pmax(u, f32x4.neg(b)), b));
}

/** Scalar twin of shrink4 (same comparisons, so tails agree with the SIMD lanes bit for bit). */
// @ts-ignore: decorator
@inline function shrink1(u: f32, b: f32): f32 {
  const nb = -b;
  const lo: f32 = u < nb ? nb : u;
  const c: f32 = b < lo ? b : lo;
  return u - c;
}

/**
 * exp(x) in float64 without lookup tables (musl exp.c, the algorithm AssemblyScript itself uses
 * at shrink level >= 1). Used instead of Math.exp, whose -O3 variant would add a data segment.
 */
function expNoTable(x: f64): f64 {
  const
    ln2hi = reinterpret<f64>(0x3FE62E42FEE00000),
    ln2lo = reinterpret<f64>(0x3DEA39EF35793C76),
    invln2 = reinterpret<f64>(0x3FF71547652B82FE),
    P1 = reinterpret<f64>(0x3FC555555555553E),
    P2 = reinterpret<f64>(0xBF66C16C16BEBD93),
    P3 = reinterpret<f64>(0x3F11566AAF25DE2C),
    P4 = reinterpret<f64>(0xBEBBBD41C5D26BF1),
    P5 = reinterpret<f64>(0x3E66376972BEA4D0),
    overflow = reinterpret<f64>(0x40862E42FEFA39EF),
    underflow = reinterpret<f64>(0xC0874910D52D3051),
    Ox1p1023 = reinterpret<f64>(0x7FE0000000000000);
  let hx = <u32>(reinterpret<u64>(x) >> 32);
  const sign = hx >> 31;
  hx &= 0x7FFFFFFF;
  if (hx >= 0x4086232B) {
    if (isNaN(x)) return x;
    if (x > overflow) return x * Ox1p1023;
    if (x < underflow) return 0;
  }
  let hi: f64 = 0, lo: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3FD62E42) {
    if (hx >= 0x3FF0A2B2) {
      k = <i32>(invln2 * x + copysign<f64>(0.5, x));
    } else {
      k = 1 - <i32>(sign << 1);
    }
    hi = x - <f64>k * ln2hi;
    lo = <f64>k * ln2lo;
    x = hi - lo;
  } else if (hx > 0x3E300000) {
    hi = x;
  } else return 1.0 + x;
  const xs = x * x;
  const xq = xs * xs;
  const c = x - (xs * P1 + xq * ((P2 + xs * P3) + xq * (P4 + xs * P5)));
  const y = 1.0 + (x * c / (2 - c) - lo + hi);
  return k == 0 ? y : NativeMath.scalbn(y, k);
}

/** log(1 + exp(-z)) given e = exp(-|z|), stable for any z. */
// @ts-ignore: decorator
@inline function logLoss(z: f64, e: f64): f64 {
  return (z < 0 ? -z : 0) + NativeMath.log1p(e);
}

/** sigmoid(-z) given e = exp(-|z|), stable both ways (one division). */
// @ts-ignore: decorator
@inline function sigmoidNeg(z: f64, e: f64): f64 {
  const r = 1 / (1 + e);
  return z >= 0 ? e * r : r;
}

/** float64 sum of squares of n contiguous float32 at p (f32 partial sums of <= 4 terms per lane). */
function sumSquares(p: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
  let i: i32 = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    acc0 = addPromoted(acc0, sumSq4(v128.load(p + o), v128.load(p + o, 16), v128.load(p + o, 32), v128.load(p + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    acc1 = addPromoted(acc1, f32x4.mul(v, v));
  }
  let s = hsum64(f64x2.add(acc0, acc1));
  for (; i < n; ++i) {
    const v = <f64>load<f32>(p + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// 1. thresholdFromNorms

/**
 * Column norms of Wt [d, m]: nrm_i = sqrt(sum_j Wt[j,i]^2); bOut_i = rho nrm_i;
 * invNormOut_i = nrm_i > 0 ? 1/nrm_i : 0. Blocks of 8 columns, rows inner, float64 accumulators.
 */
export function thresholdFromNorms(wt: usize, d: i32, m: i32, rho: f64, bOut: usize, invNormOut: usize): void {
  const stride = <usize>m << 2;
  let i: i32 = 0;
  for (; i + 8 <= m; i += 8) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let p = wt + (<usize>i << 2);
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
    let p = wt + (<usize>i << 2);
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

// ---------------------------------------------------------------------------------------------
// 2. logisticStep

/**
 * Logistic loss of f_n = a sum_i s_{b_i}(U_ni) against labels y_n, its gradient w.r.t. U
 * (G_ni = c_n mask_ni, c_n = sampleScale_n a g_n) and w.r.t. the thresholds
 * (dbl_i = sum_n G_ni sign(U_ni)). Returns sum_n sampleScale_n loss_n.
 * Pass 1 is row-wise (sum, scalar maths, write G row while it is in L1); pass 2 reduces G
 * over rows in 8-column blocks with float64 accumulators.
 */
export function logisticStep(
  u: usize, b: usize, y: usize, sampleScale: usize, a: f64, B: i32, m: i32, g: usize, dbl: usize,
): f64 {
  const rowBytes = <usize>m << 2;
  const m4 = m & ~3;
  let lossSum: f64 = 0;
  for (let n: i32 = 0; n < B; ++n) {
    const ur = u + <usize>n * rowBytes;
    const gr = g + <usize>n * rowBytes;
    // f_n (float64 sum of float32 act lanes)
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    let i: i32 = 0;
    for (; i + 16 <= m; i += 16) {
      const o = <usize>i << 2;
      const s0 = f32x4.add(shrink4(v128.load(ur + o), v128.load(b + o)), shrink4(v128.load(ur + o, 16), v128.load(b + o, 16)));
      const s1 = f32x4.add(shrink4(v128.load(ur + o, 32), v128.load(b + o, 32)), shrink4(v128.load(ur + o, 48), v128.load(b + o, 48)));
      acc0 = addPromoted(acc0, f32x4.add(s0, s1));
    }
    for (; i < m4; i += 4) {
      const o = <usize>i << 2;
      acc1 = addPromoted(acc1, shrink4(v128.load(ur + o), v128.load(b + o)));
    }
    let s = hsum64(f64x2.add(acc0, acc1));
    for (; i < m; ++i) {
      const o = <usize>i << 2;
      s += <f64>shrink1(load<f32>(ur + o), load<f32>(b + o));
    }
    const f = a * s;
    const yn = <f64>load<f32>(y + (<usize>n << 2));
    const sc = <f64>load<f32>(sampleScale + (<usize>n << 2));
    const z = yn * f;
    const e = expNoTable(-Math.abs(z)); // in (0, 1]
    const gn = -yn * sigmoidNeg(z, e);
    lossSum += sc * logLoss(z, e);
    const c = <f32>(sc * gn * a);
    // G row = c * mask
    const cv = f32x4.splat(c);
    i = 0;
    for (; i + 8 <= m; i += 8) {
      const o = <usize>i << 2;
      v128.store(gr + o, v128.and(cv, f32x4.gt(f32x4.abs(v128.load(ur + o)), v128.load(b + o))));
      v128.store(gr + o, v128.and(cv, f32x4.gt(f32x4.abs(v128.load(ur + o, 16)), v128.load(b + o, 16))), 16);
    }
    for (; i < m4; i += 4) {
      const o = <usize>i << 2;
      v128.store(gr + o, v128.and(cv, f32x4.gt(f32x4.abs(v128.load(ur + o)), v128.load(b + o))));
    }
    for (; i < m; ++i) {
      const o = <usize>i << 2;
      store<f32>(gr + o, Mathf.abs(load<f32>(ur + o)) > load<f32>(b + o) ? c : <f32>0);
    }
  }
  // dbl_i = sum_n G_ni sign(U_ni): flip G's sign bit by U's sign bit (G is 0 where the mask is 0).
  let i: i32 = 0;
  for (; i + 8 <= m; i += 8) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    const o = <usize>i << 2;
    let pu = u + o, pg = g + o;
    let n: i32 = 0;
    for (; n + 4 <= B; n += 4) {
      // float32 partial sums over 4 rows, then float64 accumulation
      const r1 = rowBytes, r2 = rowBytes << 1, r3 = r1 + r2;
      const t0 = f32x4.add(
        f32x4.add(signedG(pg, pu), signedG(pg + r1, pu + r1)), f32x4.add(signedG(pg + r2, pu + r2), signedG(pg + r3, pu + r3)));
      const t1 = f32x4.add(
        f32x4.add(signedG(pg + 16, pu + 16), signedG(pg + r1 + 16, pu + r1 + 16)),
        f32x4.add(signedG(pg + r2 + 16, pu + r2 + 16), signedG(pg + r3 + 16, pu + r3 + 16)));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
      a1 = f64x2.add(a1, promoteHigh(t0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
      a3 = f64x2.add(a3, promoteHigh(t1));
      pu += rowBytes << 2;
      pg += rowBytes << 2;
    }
    for (; n < B; ++n) {
      const t0 = signedG(pg, pu);
      const t1 = signedG(pg + 16, pu + 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(t0));
      a1 = f64x2.add(a1, promoteHigh(t0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(t1));
      a3 = f64x2.add(a3, promoteHigh(t1));
      pu += rowBytes;
      pg += rowBytes;
    }
    v128.store(dbl + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
    v128.store(dbl + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
  }
  for (; i < m; ++i) {
    const o = <usize>i << 2;
    let acc: f64 = 0;
    let pu = u + o, pg = g + o;
    for (let n: i32 = 0; n < B; ++n) {
      const gv = <f64>load<f32>(pg);
      const uv = load<f32>(pu);
      acc += uv < 0 ? -gv : gv;
      pu += rowBytes;
      pg += rowBytes;
    }
    store<f32>(dbl + o, <f32>acc);
  }
  return lossSum;
}

// ---------------------------------------------------------------------------------------------
// 3. relativeThresholdGradient

/**
 * dWt[j,i] -= coef_i Wt[j,i] with coef_i = dbl_i rho invNorm_i (float32), i.e. the chain rule
 * through b_i = rho ||w_i||. Blocks of 16 columns (one 64-byte line per row) keep the 4 coef
 * vectors in registers while walking the rows.
 */
export function relativeThresholdGradient(dwt: usize, wt: usize, dbl: usize, invNorm: usize, rho: f64, d: i32, m: i32): void {
  const stride = <usize>m << 2;
  const rv = f32x4.splat(<f32>rho);
  let i: i32 = 0;
  for (; i + 16 <= m; i += 16) {
    const o = <usize>i << 2;
    const c0 = f32x4.mul(f32x4.mul(v128.load(dbl + o), v128.load(invNorm + o)), rv);
    const c1 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 16), v128.load(invNorm + o, 16)), rv);
    const c2 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 32), v128.load(invNorm + o, 32)), rv);
    const c3 = f32x4.mul(f32x4.mul(v128.load(dbl + o, 48), v128.load(invNorm + o, 48)), rv);
    let pd = dwt + o, pw = wt + o;
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
    let pd = dwt + o, pw = wt + o;
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
    let pd = dwt + o, pw = wt + o;
    for (let j: i32 = 0; j < d; ++j) {
      store<f32>(pd, load<f32>(pd) - c * load<f32>(pw));
      pd += stride;
      pw += stride;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. optimiser updates (any length n, in place)

/** p -= lr g. */
export function sgdUpdate(p: usize, g: usize, n: i32, lr: f64): void {
  const l = f32x4.splat(<f32>lr);
  let k: i32 = 0;
  for (; k + 16 <= n; k += 16) {
    const o = <usize>k << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(l, v128.load(g + o))));
    v128.store(p + o, f32x4.sub(v128.load(p + o, 16), f32x4.mul(l, v128.load(g + o, 16))), 16);
    v128.store(p + o, f32x4.sub(v128.load(p + o, 32), f32x4.mul(l, v128.load(g + o, 32))), 32);
    v128.store(p + o, f32x4.sub(v128.load(p + o, 48), f32x4.mul(l, v128.load(g + o, 48))), 48);
  }
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(l, v128.load(g + o))));
  }
  const ls = <f32>lr;
  for (; k < n; ++k) {
    const o = <usize>k << 2;
    store<f32>(p + o, load<f32>(p + o) - ls * load<f32>(g + o));
  }
}

/** v = mu v + g; p -= lr v. */
export function momentumUpdate(p: usize, g: usize, v: usize, n: i32, lr: f64, mu: f64): void {
  const l = f32x4.splat(<f32>lr), mv = f32x4.splat(<f32>mu);
  let k: i32 = 0;
  for (; k + 8 <= n; k += 8) {
    const o = <usize>k << 2;
    const v0 = f32x4.add(f32x4.mul(mv, v128.load(v + o)), v128.load(g + o));
    const v1 = f32x4.add(f32x4.mul(mv, v128.load(v + o, 16)), v128.load(g + o, 16));
    v128.store(v + o, v0);
    v128.store(v + o, v1, 16);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(l, v0)));
    v128.store(p + o, f32x4.sub(v128.load(p + o, 16), f32x4.mul(l, v1)), 16);
  }
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    const v0 = f32x4.add(f32x4.mul(mv, v128.load(v + o)), v128.load(g + o));
    v128.store(v + o, v0);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(l, v0)));
  }
  const ls = <f32>lr, ms = <f32>mu;
  for (; k < n; ++k) {
    const o = <usize>k << 2;
    const vv = ms * load<f32>(v + o) + load<f32>(g + o);
    store<f32>(v + o, vv);
    store<f32>(p + o, load<f32>(p + o) - ls * vv);
  }
}

/**
 * Adam with bias correction: m1 = b1 m1 + (1-b1) g; m2 = b2 m2 + (1-b2) g^2;
 * p -= (lr/bc1) m1 / (sqrt(m2/bc2) + eps), where bc1 = 1 - b1^t and bc2 = 1 - b2^t.
 */
export function adamUpdate(
  p: usize, g: usize, m1: usize, m2: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64,
): void {
  const stepS = <f32>(lr / bc1), invBc2S = <f32>(1.0 / bc2);
  const b1S = <f32>beta1, b2S = <f32>beta2, c1S = <f32>(1.0 - beta1), c2S = <f32>(1.0 - beta2), eS = <f32>eps;
  const step = f32x4.splat(stepS), invBc2 = f32x4.splat(invBc2S);
  const b1 = f32x4.splat(b1S), b2 = f32x4.splat(b2S), c1 = f32x4.splat(c1S), c2 = f32x4.splat(c2S), e = f32x4.splat(eS);
  let k: i32 = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m1 + o)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(m2 + o)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    v128.store(m1 + o, mv);
    v128.store(m2 + o, vv);
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vv, invBc2)), e);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(step, mv), den)));
  }
  for (; k < n; ++k) {
    const o = <usize>k << 2;
    const gv = load<f32>(g + o);
    const mv = b1S * load<f32>(m1 + o) + c1S * gv;
    const vv = b2S * load<f32>(m2 + o) + c2S * (gv * gv);
    store<f32>(m1 + o, mv);
    store<f32>(m2 + o, vv);
    const den = Mathf.sqrt(vv * invBc2S) + eS;
    store<f32>(p + o, load<f32>(p + o) - (stepS * mv) / den);
  }
}

// ---------------------------------------------------------------------------------------------
// 5. marginGradient

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

// ---------------------------------------------------------------------------------------------
// 6. pgdL2Step

/**
 * Per row: gn = ||grad_n||; if gn > 0: Xadv_n += (alpha_n / gn) grad_n; delta = Xadv_n - X_n;
 * if ||delta|| > eps_n: Xadv_n = X_n + delta (eps_n / ||delta||); if clip: clamp to [lo, hi].
 * Three sweeps over a row that stays in L1. Returns the number of zero-gradient rows.
 */
export function pgdL2Step(
  xadv: usize, x: usize, grad: usize, alpha: usize, eps: usize, N: i32, d: i32, lo: f64, hi: f64, clip: i32,
): i32 {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const loS = <f32>lo, hiS = <f32>hi;
  const lov = f32x4.splat(loS), hiv = f32x4.splat(hiS);
  let zeroRows: i32 = 0;
  for (let n: i32 = 0; n < N; ++n) {
    const xa = xadv + <usize>n * rowBytes;
    const xr = x + <usize>n * rowBytes;
    const gr = grad + <usize>n * rowBytes;
    // step along grad / ||grad|| (skipped for a zero-gradient row), accumulate ||delta||^2
    const gn = Math.sqrt(sumSquares(gr, d));
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    let i: i32 = 0;
    let dss: f64 = 0;
    if (gn > 0) {
      const kS = <f32>(<f64>load<f32>(alpha + (<usize>n << 2)) / gn);
      const kv = f32x4.splat(kS);
      i = 0;
      for (; i + 16 <= d; i += 16) {
        const o = <usize>i << 2;
        const n0 = f32x4.add(v128.load(xa + o), f32x4.mul(kv, v128.load(gr + o)));
        const n1 = f32x4.add(v128.load(xa + o, 16), f32x4.mul(kv, v128.load(gr + o, 16)));
        const n2 = f32x4.add(v128.load(xa + o, 32), f32x4.mul(kv, v128.load(gr + o, 32)));
        const n3 = f32x4.add(v128.load(xa + o, 48), f32x4.mul(kv, v128.load(gr + o, 48)));
        v128.store(xa + o, n0);
        v128.store(xa + o, n1, 16);
        v128.store(xa + o, n2, 32);
        v128.store(xa + o, n3, 48);
        acc0 = addPromoted(acc0, sumSq4(
          f32x4.sub(n0, v128.load(xr + o)), f32x4.sub(n1, v128.load(xr + o, 16)),
          f32x4.sub(n2, v128.load(xr + o, 32)), f32x4.sub(n3, v128.load(xr + o, 48))));
      }
      for (; i < d4; i += 4) {
        const o = <usize>i << 2;
        const nv = f32x4.add(v128.load(xa + o), f32x4.mul(kv, v128.load(gr + o)));
        v128.store(xa + o, nv);
        const dv = f32x4.sub(nv, v128.load(xr + o));
        acc1 = addPromoted(acc1, f32x4.mul(dv, dv));
      }
      dss = hsum64(f64x2.add(acc0, acc1));
      for (; i < d; ++i) {
        const o = <usize>i << 2;
        const nv = load<f32>(xa + o) + kS * load<f32>(gr + o);
        store<f32>(xa + o, nv);
        const dv = <f64>(nv - load<f32>(xr + o));
        dss += dv * dv;
      }
    } else {
      zeroRows++;
      i = 0;
      for (; i < d4; i += 4) {
        const o = <usize>i << 2;
        const dv = f32x4.sub(v128.load(xa + o), v128.load(xr + o));
        acc1 = addPromoted(acc1, f32x4.mul(dv, dv));
      }
      dss = hsum64(f64x2.add(acc0, acc1));
      for (; i < d; ++i) {
        const o = <usize>i << 2;
        const dv = <f64>(load<f32>(xa + o) - load<f32>(xr + o));
        dss += dv * dv;
      }
    }
    // project onto the eps ball (only when outside it), then clip
    const dn = Math.sqrt(dss);
    const en = <f64>load<f32>(eps + (<usize>n << 2));
    if (dn > en) {
      const sS = <f32>(en / dn);
      const sv = f32x4.splat(sS);
      i = 0;
      for (; i < d4; i += 4) {
        const o = <usize>i << 2;
        const xv = v128.load(xr + o);
        let nv = f32x4.add(xv, f32x4.mul(f32x4.sub(v128.load(xa + o), xv), sv));
        if (clip) nv = f32x4.pmin(f32x4.pmax(nv, lov), hiv);
        v128.store(xa + o, nv);
      }
      for (; i < d; ++i) {
        const o = <usize>i << 2;
        const xv = load<f32>(xr + o);
        let nv = xv + (load<f32>(xa + o) - xv) * sS;
        if (clip) { nv = nv < loS ? loS : nv; nv = hiS < nv ? hiS : nv; }
        store<f32>(xa + o, nv);
      }
    } else if (clip) {
      i = 0;
      for (; i < d4; i += 4) {
        const o = <usize>i << 2;
        v128.store(xa + o, f32x4.pmin(f32x4.pmax(v128.load(xa + o), lov), hiv));
      }
      for (; i < d; ++i) {
        const o = <usize>i << 2;
        let nv = load<f32>(xa + o);
        nv = nv < loS ? loS : nv;
        nv = hiS < nv ? hiS : nv;
        store<f32>(xa + o, nv);
      }
    }
  }
  return zeroRows;
}

// ---------------------------------------------------------------------------------------------
// 7. pgdLinfStep

/**
 * Xadv += alpha_n sign(grad) (sign(0) = 0); Xadv = X + clamp(Xadv - X, -eps_n, eps_n);
 * if clip: clamp into [lo, hi]. One sweep. Returns the number of all-zero gradient rows.
 */
export function pgdLinfStep(
  xadv: usize, x: usize, grad: usize, alpha: usize, eps: usize, N: i32, d: i32, lo: f64, hi: f64, clip: i32,
): i32 {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const loS = <f32>lo, hiS = <f32>hi;
  const lov = f32x4.splat(loS), hiv = f32x4.splat(hiS);
  const zero4 = f32x4.splat(0);
  let zeroRows: i32 = 0;
  for (let n: i32 = 0; n < N; ++n) {
    const xa = xadv + <usize>n * rowBytes;
    const xr = x + <usize>n * rowBytes;
    const gr = grad + <usize>n * rowBytes;
    const aS = load<f32>(alpha + (<usize>n << 2));
    const eS = load<f32>(eps + (<usize>n << 2));
    const av = f32x4.splat(aS), ev = f32x4.splat(eS), nev = f32x4.splat(-eS);
    let any = i32x4.splat(0);
    let i: i32 = 0;
    for (; i < d4; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(gr + o);
      const nz = f32x4.ne(gv, zero4);
      any = v128.or(any, nz);
      // alpha * sign(g): alpha with its sign bit flipped by g's, masked to 0 where g == 0
      const stepv = v128.and(nz, v128.xor(av, v128.and(gv, signMask())));
      const xv = v128.load(xr + o);
      const dv = f32x4.sub(f32x4.add(v128.load(xa + o), stepv), xv);
      let nv = f32x4.add(xv, f32x4.pmin(f32x4.pmax(dv, nev), ev));
      if (clip) nv = f32x4.pmin(f32x4.pmax(nv, lov), hiv);
      v128.store(xa + o, nv);
    }
    let anyS = v128.any_true(any);
    for (; i < d; ++i) {
      const o = <usize>i << 2;
      const gv = load<f32>(gr + o);
      const st: f32 = gv != 0 ? (reinterpret<i32>(gv) < 0 ? -aS : aS) : <f32>0;
      if (gv != 0) anyS = true;
      const xv = load<f32>(xr + o);
      let dv = (load<f32>(xa + o) + st) - xv;
      dv = dv < -eS ? -eS : dv;
      dv = eS < dv ? eS : dv;
      let nv = xv + dv;
      if (clip) { nv = nv < loS ? loS : nv; nv = hiS < nv ? hiS : nv; }
      store<f32>(xa + o, nv);
    }
    if (!anyS) zeroRows++;
  }
  return zeroRows;
}

// ---------------------------------------------------------------------------------------------
// Training kernels in the TRANSPOSED layout: W [m, d] (row i = neuron i), UT = W @ XbT [m, B],
// GT [m, B]. With tfjs-wasm's XNNPACK matMul, the right-hand operand is packed once and cached
// by tensor id, so a right-hand operand that changes every step (Wt, G in the [d, m] / [B, m]
// layout) must be repacked every step (~40 µs each at d = m = 128). In this layout the changing
// operands (W, GT) are left-hand and the right-hand operands are the data batch (XbT, Xb), which
// stay packed for as long as the batch tensors live.

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
    const cv = f32x4.splat(cs);
    const pd = dw + <usize>i * rowBytes, pw = w + <usize>i * rowBytes;
    let k: i32 = 0;
    for (; k + 16 <= d; k += 16) {
      const o = <usize>k << 2;
      v128.store(pd + o, f32x4.sub(v128.load(pd + o), f32x4.mul(cv, v128.load(pw + o))));
      v128.store(pd + o, f32x4.sub(v128.load(pd + o, 16), f32x4.mul(cv, v128.load(pw + o, 16))), 16);
      v128.store(pd + o, f32x4.sub(v128.load(pd + o, 32), f32x4.mul(cv, v128.load(pw + o, 32))), 32);
      v128.store(pd + o, f32x4.sub(v128.load(pd + o, 48), f32x4.mul(cv, v128.load(pw + o, 48))), 48);
    }
    for (; k + 4 <= d; k += 4) {
      const o = <usize>k << 2;
      v128.store(pd + o, f32x4.sub(v128.load(pd + o), f32x4.mul(cv, v128.load(pw + o))));
    }
    for (; k < d; ++k) {
      const o = <usize>k << 2;
      store<f32>(pd + o, load<f32>(pd + o) - cs * load<f32>(pw + o));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Image MLP kernels, ROW layout (one row per sample): X [N, d] @ W [d, m] = U [N, m] (tfjs
// matMul), H = s(U + c) in place, Z = H V + e [N, C], dZ [N, C], dV = H^T dZ [m, C],
// dU = (dZ V^T) * [H != 0] [N, m], then dW = X^T dU (tfjs matMul). In this layout the per-sample
// work (activation, logits, softmax, margin) is row-local, and the matMuls' right-hand operands
// are W (changes each step, but the attack's PGD steps reuse its packed copy, and so does the
// training step that follows an attack) and dU (N x m, the smallest operand of that product).
// V is used as VT = V^T [C, m] (transposeInto, once per step), so every dot product and axpy
// over the hidden axis is contiguous.

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
