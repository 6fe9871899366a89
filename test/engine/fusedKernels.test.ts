import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FUSED_WASM_URL,
  inspectFusedWasm,
  KERNEL_NAMES,
  loadFusedKernels,
  loadFusedKernelsSync,
  type FusedKernels,
} from '../../main/engine/kernels/fusedKernels.ts';

// ------------------------------------------------------------------------------------------------
// Seeded data and float64 references

/** 32-bit LCG (Numerical Recipes constants); uniform in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function normals(rng: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const u1 = Math.max(rng(), 1e-12);
    const u2 = rng();
    out[k] = scale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

function uniforms(rng: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = lo + (hi - lo) * rng();
  return out;
}

function labels(rng: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = rng() < 0.5 ? -1 : 1;
  return out;
}

const at = (a: ArrayLike<number>, k: number): number => {
  const v = a[k];
  if (v === undefined) throw new Error(`index ${k} out of range`);
  return v;
};

/**
 * |got - ref| <= rtol (|ref| + scale_k) + 1e-36 for every k, with a readable failure. The 1e-36
 * floor admits float32 underflow (results below the normal range, ~1.2e-38, lose precision or flush).
 */
function expectClose(
  name: string, got: ArrayLike<number>, ref: ArrayLike<number>, scale: number | ArrayLike<number> = 0, rtol = 1e-5,
): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  for (let k = 0; k < ref.length; k++) {
    const g = at(got, k);
    const r = at(ref, k);
    const s = typeof scale === 'number' ? scale : at(scale, k);
    const tol = rtol * (Math.abs(r) + s) + 1e-36;
    if (!(Math.abs(g - r) <= tol)) {
      throw new Error(`${name}[${k}]: got ${g}, expected ${r} (tol ${tol})`);
    }
  }
}

const shrink = (u: number, b: number): number => u - Math.min(Math.max(u, -b), b);

/** Row-major [r, c] -> [c, r]. */
function transpose(A: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = at(A, i * c + j);
  return out;
}
const transposeN = (A: number[], r: number, c: number): number[] => Array.from(transpose(Float32Array.from(A), r, c));

function refThreshold(Wt: Float32Array, d: number, m: number, rho: number): { b: number[]; inv: number[] } {
  const b: number[] = [];
  const inv: number[] = [];
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += at(Wt, j * m + i) ** 2;
    const nrm = Math.sqrt(s);
    b.push(rho * nrm);
    inv.push(nrm > 0 ? 1 / nrm : 0);
  }
  return { b, inv };
}

/**
 * Float64 reference of the two-layer logistic step (G [B, m]; logisticStepT writes its transpose).
 * The kernel computes act_ni in float32 (one rounding, as any
 * float32 implementation must) and sums it in float32 partial sums of <= 4 terms, so f_n carries
 * an absolute error up to ~2^-22 |a| sum_i |act_ni|; g_n = -y_n sigmoid(-z_n) and loss_n have a
 * relative (resp. absolute) condition number <= 1 in z_n, so that error passes to c_n and loss_n.
 * The returned *Scale values add that amount (divided by the test's rtol) to the tolerances.
 */
function refLogistic(
  U: Float32Array, b: Float32Array, y: Float32Array, ss: Float32Array, a: number, B: number, m: number, rtol = 1e-5,
): { G: number[]; GScale: number[]; dbl: number[]; dblScale: number[]; loss: number; lossScale: number } {
  const G = new Array<number>(B * m).fill(0);
  const GScale = new Array<number>(B * m).fill(0);
  const dbl = new Array<number>(m).fill(0);
  const dblScale = new Array<number>(m).fill(0);
  let loss = 0;
  let lossScale = 0;
  for (let n = 0; n < B; n++) {
    let f = 0;
    let fAbs = 0;
    for (let i = 0; i < m; i++) {
      const act = shrink(at(U, n * m + i), at(b, i));
      f += act;
      fAbs += Math.abs(act);
    }
    f *= a;
    const zErr = 2 ** -21 * Math.abs(a) * fAbs; // bound on |z_kernel - z_exact| (2x margin)
    const yn = at(y, n);
    const z = yn * f;
    const l = Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    const sig = z >= 0 ? Math.exp(-z) / (1 + Math.exp(-z)) : 1 / (1 + Math.exp(z));
    const c = at(ss, n) * -yn * sig * a;
    loss += at(ss, n) * l;
    lossScale += Math.abs(at(ss, n) * l) + (Math.abs(at(ss, n)) * zErr) / rtol;
    for (let i = 0; i < m; i++) {
      const u = at(U, n * m + i);
      if (Math.abs(u) > at(b, i)) {
        G[n * m + i] = c;
        GScale[n * m + i] = (Math.abs(c) * zErr) / rtol;
        dbl[i] = at(dbl, i) + c * Math.sign(u);
        dblScale[i] = at(dblScale, i) + Math.abs(c) * (1 + zErr / rtol);
      }
    }
  }
  return { G, GScale, dbl, dblScale, loss, lossScale };
}

function refMargin(
  U: Float32Array, b: Float32Array, y: Float32Array, a: number, N: number, m: number,
): { Gx: number[]; margin: number[]; marginScale: number[]; dead: number } {
  const Gx: number[] = [];
  const margin: number[] = [];
  const marginScale: number[] = [];
  let dead = 0;
  for (let n = 0; n < N; n++) {
    let f = 0;
    let fs = 0;
    let any = false;
    for (let i = 0; i < m; i++) {
      const u = at(U, n * m + i);
      const act = shrink(u, at(b, i));
      f += act;
      fs += Math.abs(act);
      const on = Math.abs(u) > at(b, i);
      any ||= on;
      Gx.push(on ? -at(y, n) * a : 0);
    }
    margin.push(at(y, n) * a * f);
    marginScale.push(Math.abs(a) * fs);
    if (!any) dead++;
  }
  return { Gx, margin, marginScale, dead };
}

function refPgdL2(
  Xadv: Float32Array, X: Float32Array, grad: Float32Array, alpha: Float32Array, eps: Float32Array,
  N: number, d: number, lo: number, hi: number, clip: boolean,
): { out: number[]; zero: number } {
  const out: number[] = [];
  let zero = 0;
  for (let n = 0; n < N; n++) {
    const row = (A: Float32Array): number[] => Array.from(A.subarray(n * d, (n + 1) * d));
    const xa = row(Xadv);
    const x = row(X);
    const g = row(grad);
    const gn = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    if (gn > 0) for (let i = 0; i < d; i++) xa[i] = at(xa, i) + (at(alpha, n) * at(g, i)) / gn;
    else zero++;
    const delta = xa.map((v, i) => v - at(x, i));
    const dn = Math.sqrt(delta.reduce((s, v) => s + v * v, 0));
    const sc = dn > at(eps, n) ? at(eps, n) / dn : 1;
    for (let i = 0; i < d; i++) {
      let v = at(x, i) + at(delta, i) * sc;
      if (clip) v = Math.min(Math.max(v, lo), hi);
      out.push(v);
    }
  }
  return { out, zero };
}

function refPgdLinf(
  Xadv: Float32Array, X: Float32Array, grad: Float32Array, alpha: Float32Array, eps: Float32Array,
  N: number, d: number, lo: number, hi: number, clip: boolean,
): { out: number[]; zero: number } {
  const out: number[] = [];
  let zero = 0;
  for (let n = 0; n < N; n++) {
    let any = false;
    for (let i = 0; i < d; i++) {
      const k = n * d + i;
      const g = at(grad, k);
      if (g !== 0) any = true;
      const e = at(eps, n);
      const delta = Math.min(Math.max(at(Xadv, k) + at(alpha, n) * Math.sign(g) - at(X, k), -e), e);
      let v = at(X, k) + delta;
      if (clip) v = Math.min(Math.max(v, lo), hi);
      out.push(v);
    }
    if (!any) zero++;
  }
  return { out, zero };
}

// ------------------------------------------------------------------------------------------------

let K: FusedKernels;
const live: tf.Tensor[] = [];
/** A float32 tensor from values (tracked for disposal). */
function T(values: Float32Array, shape: number[]): tf.Tensor {
  const t = tf.tensor(values, shape, 'float32');
  live.push(t);
  return t;
}
const read = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

beforeAll(async () => {
  await tf.setBackend('wasm');
  const k = await loadFusedKernels();
  if (!k) throw new Error('fused kernels did not load on the wasm backend');
  K = k;
});

afterAll(() => {
  for (const t of live) t.dispose();
});

describe('fused.wasm binary', () => {
  it('imports only env.memory and owns no memory (no data, data-count or start section)', () => {
    const report = inspectFusedWasm(readFileSync(FUSED_WASM_URL));
    expect(report.problems).toEqual([]);
    expect(report.safe).toBe(true);
    expect(report.sectionIds).not.toContain(11);
    expect(report.sectionIds).not.toContain(12);
    expect(report.sectionIds).not.toContain(8);
    expect(report.imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it('exports exactly the kernels the wrapper tables describe (one two-layer layout: rows)', () => {
    const { exports } = inspectFusedWasm(readFileSync(FUSED_WASM_URL));
    expect([...exports].sort()).toEqual([...KERNEL_NAMES].sort());
    expect(new Set(KERNEL_NAMES).size).toBe(KERNEL_NAMES.length);
    // The column-layout copy of the two-layer training kernel is gone; the row layout remains.
    expect(exports).not.toContain('logisticStep');
    expect(exports).toContain('logisticStepT');
  });

  it('rejects a binary with a data segment', () => {
    // (module (import "env" "memory" (memory 0)) (data (i32.const 0) "x"))
    const bad = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00,
      0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x78,
    ]);
    const report = inspectFusedWasm(bad);
    expect(report.safe).toBe(false);
    expect(report.sectionIds).toContain(11);
  });

  it('binds to the tfjs-wasm memory (same buffer as the backend heap), cached per backend', () => {
    const be = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
    expect(K.memory.buffer).toBe(be.wasm.HEAPU8.buffer);
    expect(loadFusedKernelsSync()).toBe(K);
  });
});

const SIZES = [
  { B: 7, m: 13, d: 5 },
  { B: 3, m: 37, d: 9 },
  { B: 1, m: 1, d: 1 },
  { B: 100, m: 128, d: 128 },
];

describe.each(SIZES)('kernels vs float64 reference, B=$B m=$m d=$d', ({ B, m, d }) => {
  const seed = B * 1000 + m * 10 + d;

  it('thresholdFromNorms', () => {
    const rng = lcg(seed);
    const Wv = normals(rng, d * m, 1 / Math.sqrt(d));
    if (m > 2) for (let j = 0; j < d; j++) Wv[j * m + 2] = 0; // a zero column: invNorm must be 0
    const Wt = T(Wv, [d, m]);
    const b = T(new Float32Array(m).fill(7), [m]);
    const inv = T(new Float32Array(m).fill(7), [m]);
    const rho = 0.7;
    K.thresholdFromNorms(Wt, rho, b, inv);
    const ref = refThreshold(Wv, d, m, rho);
    expectClose('b', read(b), ref.b);
    expectClose('invNorm', read(inv), ref.inv);
    if (m > 2) expect(at(read(inv), 2)).toBe(0);
  });

  it('relativeThresholdGradient', () => {
    const rng = lcg(seed + 2);
    const dWv = normals(rng, d * m);
    const Wv = normals(rng, d * m);
    const dblv = normals(rng, m);
    const invv = uniforms(rng, m, 0.2, 2);
    const rho = 0.6;
    const dWt = T(dWv, [d, m]);
    K.relativeThresholdGradient(dWt, T(Wv, [d, m]), T(dblv, [m]), T(invv, [m]), rho);
    const ref: number[] = [];
    const scale: number[] = [];
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < m; i++) {
        const corr = at(dblv, i) * rho * at(invv, i) * at(Wv, j * m + i);
        ref.push(at(dWv, j * m + i) - corr);
        scale.push(Math.abs(at(dWv, j * m + i)) + Math.abs(corr));
      }
    }
    expectClose('dWt', read(dWt), ref, scale);
  });

  it('thresholdFromRowNorms (W [m, d])', () => {
    const rng = lcg(seed + 7);
    const Wtv = normals(rng, d * m, 1 / Math.sqrt(d));
    if (m > 2) for (let j = 0; j < d; j++) Wtv[j * m + 2] = 0; // zero neuron
    const W = T(transpose(Wtv, d, m), [m, d]);
    const b = T(new Float32Array(m).fill(7), [m]);
    const inv = T(new Float32Array(m).fill(7), [m]);
    K.thresholdFromRowNorms(W, 0.7, b, inv);
    const ref = refThreshold(Wtv, d, m, 0.7);
    expectClose('b', read(b), ref.b);
    expectClose('invNorm', read(inv), ref.inv);
  });

  it.each([1.3, 40])('logisticStepT on UT [m, B] (a=%s)', (a) => {
    const rng = lcg(seed + 8);
    const Uv = normals(rng, B * m);
    const bv = uniforms(rng, m, 0, 1.2);
    if (B > 1) Uv.fill(0.25, m, 2 * m);
    const yv = labels(rng, B);
    const ssv = uniforms(rng, B, 0.5 / B, 1.5 / B);
    const GT = T(new Float32Array(B * m).fill(9), [m, B]);
    const dbl = T(new Float32Array(m).fill(9), [m]);
    const loss = K.logisticStepT(T(transpose(Uv, B, m), [m, B]), T(bv, [m]), T(yv, [B]), T(ssv, [B]), a, GT, dbl);
    const ref = refLogistic(Uv, bv, yv, ssv, a, B, m);
    expectClose('loss', [loss], [ref.loss], ref.lossScale);
    expectClose('GT', read(GT), transposeN(ref.G, B, m), transposeN(ref.GScale, B, m));
    expectClose('dbl', read(dbl), ref.dbl, ref.dblScale);
  });

  it('relativeThresholdGradientRows (dW, W [m, d])', () => {
    const rng = lcg(seed + 9);
    const dWv = normals(rng, m * d);
    const Wv = normals(rng, m * d);
    const dblv = normals(rng, m);
    const invv = uniforms(rng, m, 0.2, 2);
    const dW = T(dWv, [m, d]);
    K.relativeThresholdGradientRows(dW, T(Wv, [m, d]), T(dblv, [m]), T(invv, [m]), 0.6);
    const ref: number[] = [];
    const scale: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < d; j++) {
        const corr = at(dblv, i) * 0.6 * at(invv, i) * at(Wv, i * d + j);
        ref.push(at(dWv, i * d + j) - corr);
        scale.push(Math.abs(at(dWv, i * d + j)) + Math.abs(corr));
      }
    }
    expectClose('dW', read(dW), ref, scale);
  });

  it('sgdUpdate / momentumUpdate / adamUpdate', () => {
    const n = d * m + 3; // any length, never a multiple of 16
    const rng = lcg(seed + 3);
    const pv = normals(rng, n);
    const gv = normals(rng, n);
    const vv = normals(rng, n);
    const m1v = normals(rng, n, 0.1);
    const m2v = uniforms(rng, n, 0, 0.5);
    const lr = 0.05;
    const mu = 0.9;

    const p1 = T(pv, [n]);
    const g = T(gv, [n]);
    K.sgdUpdate(p1, g, lr);
    expectClose('sgd', read(p1), Array.from(pv, (p, k) => p - lr * at(gv, k)), Array.from(gv, (x) => Math.abs(lr * x)));

    const p2 = T(pv, [n]);
    const v = T(vv, [n]);
    K.momentumUpdate(p2, g, v, lr, mu);
    const vRef = Array.from(vv, (x, k) => mu * x + at(gv, k));
    expectClose('momentum v', read(v), vRef, Array.from(vv, (x, k) => Math.abs(mu * x) + Math.abs(at(gv, k))));
    expectClose('momentum p', read(p2), Array.from(pv, (p, k) => p - lr * at(vRef, k)),
      Array.from(vRef, (x) => Math.abs(lr * x) * 2));

    for (const t of [1, 7]) {
      const p3 = T(pv, [n]);
      const m1 = T(m1v, [n]);
      const m2 = T(m2v, [n]);
      const [b1, b2, eps] = [0.9, 0.999, 1e-8];
      K.adamUpdate(p3, g, m1, m2, lr, b1, b2, eps, t);
      const m1Ref = Array.from(m1v, (x, k) => b1 * x + (1 - b1) * at(gv, k));
      const m2Ref = Array.from(m2v, (x, k) => b2 * x + (1 - b2) * at(gv, k) ** 2);
      const step = m1Ref.map((mm, k) => (lr * (mm / (1 - b1 ** t))) / (Math.sqrt(at(m2Ref, k) / (1 - b2 ** t)) + eps));
      expectClose(`adam m1 t=${t}`, read(m1), m1Ref, Array.from(m1v, (x, k) => Math.abs(x) + Math.abs(at(gv, k))));
      expectClose(`adam m2 t=${t}`, read(m2), m2Ref);
      expectClose(`adam p t=${t}`, read(p3), Array.from(pv, (p, k) => p - at(step, k)), step.map(Math.abs));
    }
  });

  it('marginGradient (incl. all-zero-mask rows)', () => {
    const rng = lcg(seed + 4);
    const Uv = normals(rng, B * m);
    const bv = uniforms(rng, m, 0.1, 1.5);
    Uv.fill(0, 0, m); // row 0 dead: |U| = 0 <= b everywhere
    const yv = labels(rng, B);
    const a = 0.8;
    const Gx = T(new Float32Array(B * m).fill(5), [B, m]);
    const margin = T(new Float32Array(B).fill(5), [B]);
    const dead = K.marginGradient(T(Uv, [B, m]), T(bv, [m]), T(yv, [B]), a, Gx, margin);
    const ref = refMargin(Uv, bv, yv, a, B, m);
    expect(dead).toBe(ref.dead);
    expect(dead).toBeGreaterThanOrEqual(1);
    expectClose('Gx', read(Gx), ref.Gx);
    expectClose('margin', read(margin), ref.margin, ref.marginScale);
  });

  it.each([false, true])('pgdL2Step (clip=%s)', (clip) => {
    const rng = lcg(seed + 5 + (clip ? 100 : 0));
    const Xv = uniforms(rng, B * d, 0, 1);
    const Xadv = Float32Array.from(Xv, (x) => x + 0.05 * (rng() - 0.5));
    const gv = normals(rng, B * d);
    gv.fill(0, 0, d); // row 0: zero gradient
    const alpha = uniforms(rng, B, 0.01, 0.6);
    const eps = uniforms(rng, B, 0.05, 0.5); // some rows end inside the ball, some are projected
    const Xa = T(Xadv, [B, d]);
    const zero = K.pgdL2Step(Xa, T(Xv, [B, d]), T(gv, [B, d]), T(alpha, [B]), T(eps, [B]), 0, 1, clip);
    const ref = refPgdL2(Xadv, Xv, gv, alpha, eps, B, d, 0, 1, clip);
    expect(zero).toBe(ref.zero);
    expectClose('Xadv', read(Xa), ref.out, 1);
    if (clip) for (const v of read(Xa)) expect(v >= 0 && v <= 1).toBe(true);
  });

  it.each([false, true])('pgdLinfStep (clip=%s)', (clip) => {
    const rng = lcg(seed + 6 + (clip ? 100 : 0));
    const Xv = uniforms(rng, B * d, 0, 1);
    const Xadv = Float32Array.from(Xv, (x) => x + 0.05 * (rng() - 0.5));
    const gv = normals(rng, B * d);
    gv.fill(0, 0, d); // row 0: zero gradient
    for (let k = d; k < gv.length; k += 3) gv[k] = 0; // scattered zeros: sign(0) = 0
    const alpha = uniforms(rng, B, 0.01, 0.1);
    const eps = uniforms(rng, B, 0.02, 0.2);
    const Xa = T(Xadv, [B, d]);
    const zero = K.pgdLinfStep(Xa, T(Xv, [B, d]), T(gv, [B, d]), T(alpha, [B]), T(eps, [B]), 0, 1, clip);
    const ref = refPgdLinf(Xadv, Xv, gv, alpha, eps, B, d, 0, 1, clip);
    expect(zero).toBe(ref.zero);
    expectClose('Xadv', read(Xa), ref.out, 1);
  });
});

describe('memory discipline', () => {
  it('allocates no tensors and leaves every non-output tensor unchanged', () => {
    const B = 100, m = 128, d = 128;
    const rng = lcg(42);
    const Wt = T(normals(rng, d * m, 1 / Math.sqrt(d)), [d, m]);
    const W = T(normals(rng, m * d, 1 / Math.sqrt(d)), [m, d]);
    const U = T(normals(rng, B * m), [B, m]);
    const y = T(labels(rng, B), [B]);
    const ss = T(new Float32Array(B).fill(1 / B), [B]);
    const X = T(uniforms(rng, B * d, 0, 1), [B, d]);
    const grad = T(normals(rng, B * d), [B, d]);
    const alpha = T(new Float32Array(B).fill(0.1), [B]);
    const eps = T(new Float32Array(B).fill(0.3), [B]);
    const b = T(new Float32Array(m), [m]);
    const inv = T(new Float32Array(m), [m]);
    const dbl = T(new Float32Array(m), [m]);
    const dWt = T(normals(rng, d * m), [d, m]);
    const Gx = T(new Float32Array(B * m), [B, m]);
    const margin = T(new Float32Array(B), [B]);
    const Xadv = T(read(X).slice(), [B, d]);
    const vel = T(new Float32Array(d * m), [d, m]);
    const m1 = T(new Float32Array(d * m), [d, m]);
    const m2 = T(new Float32Array(d * m), [d, m]);
    const param = T(normals(rng, d * m), [d, m]);
    const sentinelBefore = T(normals(rng, 1000), [1000]); // a bystander tensor
    const UT = T(normals(rng, m * B), [m, B]);
    const GT = T(new Float32Array(m * B), [m, B]);
    const dW = T(normals(rng, m * d), [m, d]);
    const inputs = { Wt, W, U, UT, y, ss, X, grad, alpha, eps, sentinelBefore };
    const snapshot = new Map(Object.entries(inputs).map(([k, t]) => [k, read(t).slice()]));

    const before = tf.memory().numTensors;
    K.thresholdFromNorms(Wt, 0.5, b, inv);
    K.relativeThresholdGradient(dWt, Wt, dbl, inv, 0.5);
    K.marginGradient(U, b, y, 1, Gx, margin);
    K.pgdL2Step(Xadv, X, grad, alpha, eps, 0, 1, true);
    K.pgdLinfStep(Xadv, X, grad, alpha, eps, 0, 1, 1);
    K.thresholdFromRowNorms(W, 0.5, b, inv);
    K.logisticStepT(UT, b, y, ss, 1, GT, dbl);
    K.relativeThresholdGradientRows(dW, W, dbl, inv, 0.5);
    K.sgdUpdate(param, dWt, 0.1);
    K.momentumUpdate(m1, dWt, vel, 0.1, 0.9);
    K.adamUpdate(m2, dWt, vel, m1, 0.01, 0.9, 0.999, 1e-8, 3);
    expect(tf.memory().numTensors).toBe(before);
    for (const [k, t] of Object.entries(inputs)) expect(read(t), k).toEqual(snapshot.get(k));
  });
});

describe('loader behaviour', () => {
  it('drops tfjs-wasm\'s packed-matMul cache for every tensor it writes (no stale tf.matMul)', () => {
    const rng = lcg(99);
    const X = T(normals(rng, 20 * 16), [20, 16]);
    const Wt = T(normals(rng, 16 * 24), [16, 24]);
    const G = T(normals(rng, 16 * 24), [16, 24]);
    const before = tf.matMul(X, Wt); // packs Wt and caches it under Wt's id
    K.sgdUpdate(Wt, G, 0.5); // in place
    const after = tf.matMul(X, Wt);
    const copy = tf.add(Wt, 0); // a fresh tensor with the updated values
    const fresh = tf.matMul(X, copy);
    expect(read(after)).toEqual(read(fresh));
    expect(read(after)).not.toEqual(read(before));
    for (const t of [before, after, copy, fresh]) t.dispose();
  });

  it('invalidateMatMulCache makes a raw in-memory write visible to tf.matMul', () => {
    const X = T(new Float32Array(8).fill(1), [2, 4]);
    const Wt = T(new Float32Array(12).fill(1), [4, 3]);
    const r1 = tf.matMul(X, Wt);
    new Float32Array(K.memory.buffer, K.offsetOf(Wt), 12).fill(2); // mutate behind tfjs' back
    const stale = tf.matMul(X, Wt);
    K.invalidateMatMulCache(Wt);
    const r2 = tf.matMul(X, Wt);
    expect(Array.from(read(r1))).toEqual(new Array(6).fill(4));
    expect(Array.from(read(stale))).toEqual(new Array(6).fill(4)); // the hazard itself
    expect(Array.from(read(r2))).toEqual(new Array(6).fill(8));
    for (const t of [r1, stale, r2]) t.dispose();
  });

  it('keeps working after the tfjs heap grows (no cached views)', () => {
    const d = 5, m = 13;
    const rng = lcg(7);
    const Wv = normals(rng, d * m);
    const Wt = T(Wv, [d, m]);
    const b = T(new Float32Array(m), [m]);
    const inv = T(new Float32Array(m), [m]);
    const bytesBefore = K.memory.buffer.byteLength;
    const big = tf.zeros([bytesBefore / 4]); // as large as the whole heap: forces memory.grow
    expect(K.memory.buffer.byteLength).toBeGreaterThan(bytesBefore);
    K.thresholdFromNorms(Wt, 2, b, inv);
    big.dispose();
    expectClose('b after grow', read(b), refThreshold(Wv, d, m, 2).b);
  });

  it('validates dtypes, shapes and aliasing with clear errors', () => {
    const Wt = T(new Float32Array(20), [4, 5]);
    const b = T(new Float32Array(5), [5]);
    const inv = T(new Float32Array(5), [5]);
    const ints = tf.zeros([5], 'int32');
    live.push(ints);
    expect(() => K.thresholdFromNorms(Wt, 1, ints, inv)).toThrow(/bOut must be float32/);
    expect(() => K.thresholdFromNorms(Wt, 1, T(new Float32Array(4), [4]), inv)).toThrow(/bOut must have shape \[5\]/);
    expect(() => K.thresholdFromNorms(Wt, 1, b, b)).toThrow(/overlaps/);
    expect(() => K.thresholdFromNorms(Wt, Number.NaN, b, inv)).toThrow(/rho must be a finite number/);
    expect(() => K.sgdUpdate(Wt, Wt, 0.1)).toThrow(/overlaps/);
    const view = tf.reshape(Wt, [20]); // shares Wt's memory on the wasm backend
    live.push(view);
    expect(() => K.sgdUpdate(view, Wt, 0.1)).toThrow(/overlaps/);
    expect(() => K.adamUpdate(Wt, T(new Float32Array(20), [20]), T(new Float32Array(20), [20]),
      T(new Float32Array(20), [20]), 0.1, 0.9, 0.999, 1e-8, 0)).toThrow(/t must be an integer >= 1/);
    const disposed = tf.zeros([5]);
    disposed.dispose();
    expect(() => K.thresholdFromNorms(Wt, 1, disposed, inv)).toThrow(/disposed/);
  });

  it('returns null (no throw) on a backend other than wasm, and refuses a stale binding', async () => {
    await tf.setBackend('cpu');
    try {
      expect(await loadFusedKernels()).toBeNull();
      expect(loadFusedKernelsSync()).toBeNull();
    } finally {
      await tf.setBackend('wasm');
    }
    expect(await loadFusedKernels()).toBe(K);
  });
});
