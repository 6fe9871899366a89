// Optimiser updates, in place on a parameter of any length n (AssemblyScript; see ./fused.ts for
// the memory contract). Float32 throughout, as the tfjs optimisers they replace.
//
//  sgdUpdate:      p -= lr g.
//  momentumUpdate: v = mu v + g; p -= lr v.
//  adamUpdate:     m1 = b1 m1 + (1-b1) g; m2 = b2 m2 + (1-b2) g^2;
//                  p -= lr (m1 / bc1) / (sqrt(m2 / bc2) + eps), bc_k = 1 - b_k^t
//                  (bc1, bc2 are computed by the caller in float64).

import { subScaled } from './common';

/** p -= lr g. */
export function sgdUpdate(p: usize, g: usize, n: i32, lr: f64): void {
  subScaled(p, g, <f32>lr, n);
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

