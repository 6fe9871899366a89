// Projected gradient steps of the PGD attack, for any model (AssemblyScript; see ./fused.ts for
// the memory contract). Rows are samples: Xadv, X, grad [N, d]; each row carries its own step
// alpha_n and radius eps_n.
//
//  pgdL2Step:   per row: gn = ||grad_n||; if gn > 0: Xadv_n += alpha_n grad_n / gn;
//               delta = Xadv_n - X_n; if ||delta|| > eps_n: Xadv_n = X_n + delta eps_n/||delta||;
//               if clip: Xadv_n = clamp(Xadv_n, lo, hi). Returns the zero-gradient row count.
//  pgdLinfStep: Xadv += alpha_n sign(grad); Xadv = X + clamp(Xadv - X, -eps_n, eps_n);
//               if clip: clamp into [lo, hi]. Returns the zero-gradient row count.

import { addPromoted, hsum64, signMask, sumSq4, sumSquares } from './common';

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

