// Shared numerics of every kernel family (AssemblyScript; see ./fused.ts for the memory contract).
// Nothing here owns memory: @inline helpers over v128 values and raw byte pointers, and two
// table-free scalar routines. Exports of this file are not wasm exports (only ./fused.ts's are).

/** The float32 sign bit in every lane (a v128.const after inlining). */
// @ts-ignore: decorator
@inline export function signMask(): v128 {
  return i32x4.splat(-2147483648);
}

/** Float64 pair of the upper two float32 lanes of v. */
// @ts-ignore: decorator
@inline export function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Sum of both float64 lanes. */
// @ts-ignore: decorator
@inline export function hsum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** acc + (float64 sum of the 4 float32 lanes of v, as two f64x2 lanes pairs). */
// @ts-ignore: decorator
@inline export function addPromoted(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(v), promoteHigh(v)));
}

/** (G * sign(U)) for 4 lanes at byte address pg / pu: G's sign bit flipped by U's. */
// @ts-ignore: decorator
@inline export function signedG(pg: usize, pu: usize): v128 {
  return v128.xor(v128.load(pg), v128.and(v128.load(pu), signMask()));
}

/** (a*a + b*b) + (c*c + d*d), lane-wise float32 (a pairwise partial sum of 4 squares). */
// @ts-ignore: decorator
@inline export function sumSq4(a: v128, b: v128, c: v128, d: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(a, a), f32x4.mul(b, b)), f32x4.add(f32x4.mul(c, c), f32x4.mul(d, d)));
}

/** act = U - clamp(U, -b, b) for 4 lanes (pmax/pmin: NaN in U stays NaN). */
// @ts-ignore: decorator
@inline export function shrink4(u: v128, b: v128): v128 {
  return f32x4.sub(u, f32x4.pmin(f32x4.pmax(u, f32x4.neg(b)), b));
}

/** Scalar twin of shrink4 (same comparisons, so tails agree with the SIMD lanes bit for bit). */
// @ts-ignore: decorator
@inline export function shrink1(u: f32, b: f32): f32 {
  const nb = -b;
  const lo: f32 = u < nb ? nb : u;
  const c: f32 = b < lo ? b : lo;
  return u - c;
}

/**
 * exp(x) in float64 without lookup tables (musl exp.c, the algorithm AssemblyScript itself uses
 * at shrink level >= 1). Used instead of Math.exp, whose -O3 variant would add a data segment.
 */
export function expNoTable(x: f64): f64 {
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
@inline export function logLoss(z: f64, e: f64): f64 {
  return (z < 0 ? -z : 0) + NativeMath.log1p(e);
}

/** sigmoid(-z) given e = exp(-|z|), stable both ways (one division). */
// @ts-ignore: decorator
@inline export function sigmoidNeg(z: f64, e: f64): f64 {
  const r = 1 / (1 + e);
  return z >= 0 ? e * r : r;
}

/** float64 sum of squares of n contiguous float32 at p (f32 partial sums of <= 4 terms per lane). */
export function sumSquares(p: usize, n: i32): f64 {
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

/** p[k] -= c q[k] for k < n, float32 (16 lanes a step, then 4, then scalar). */
// @ts-ignore: decorator
@inline export function subScaled(p: usize, q: usize, c: f32, n: i32): void {
  const cv = f32x4.splat(c);
  let k: i32 = 0;
  for (; k + 16 <= n; k += 16) {
    const o = <usize>k << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(cv, v128.load(q + o))));
    v128.store(p + o, f32x4.sub(v128.load(p + o, 16), f32x4.mul(cv, v128.load(q + o, 16))), 16);
    v128.store(p + o, f32x4.sub(v128.load(p + o, 32), f32x4.mul(cv, v128.load(q + o, 32))), 32);
    v128.store(p + o, f32x4.sub(v128.load(p + o, 48), f32x4.mul(cv, v128.load(q + o, 48))), 48);
  }
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(cv, v128.load(q + o))));
  }
  for (; k < n; ++k) {
    const o = <usize>k << 2;
    store<f32>(p + o, load<f32>(p + o) - c * load<f32>(q + o));
  }
}

/** p[k] += q[k] for k < n (float32). */
// @ts-ignore: decorator
@inline export function addInto(p: usize, q: usize, n: i32): void {
  let k: i32 = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(p + o, f32x4.add(v128.load(p + o), v128.load(q + o)));
  }
  for (; k < n; ++k) {
    const o = <usize>k << 2;
    store<f32>(p + o, load<f32>(p + o) + load<f32>(q + o));
  }
}
