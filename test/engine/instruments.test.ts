import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { dictionaryCoefficients, mixtureStats } from '../../main/engine/instruments/mixture.ts';
import { cleanToRobustDecomposition } from '../../main/engine/instruments/decomposition.ts';
import { updateRank } from '../../main/engine/instruments/updateRank.ts';
import { summarize, histogram, wilsonInterval } from '../../shared/distribution.ts';

/** Deterministic PRNG (mulberry32) so the random dictionary is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random [d, D] row-major matrix with orthonormal columns, by modified Gram–Schmidt. */
function randomOrthonormal(d: number, D: number, seed: number): Float64Array {
  const rand = rng(seed);
  const cols: Float64Array[] = [];
  for (let k = 0; k < D; k++) {
    const v = new Float64Array(d);
    for (let t = 0; t < d; t++) v[t] = rand() * 2 - 1;
    for (const q of cols) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += (v[t] as number) * (q[t] as number);
      for (let t = 0; t < d; t++) v[t] = (v[t] as number) - dot * (q[t] as number);
    }
    let norm = 0;
    for (let t = 0; t < d; t++) norm += (v[t] as number) ** 2;
    norm = Math.sqrt(norm);
    for (let t = 0; t < d; t++) v[t] = (v[t] as number) / norm;
    cols.push(v);
  }
  const M = new Float64Array(d * D);
  for (let t = 0; t < d; t++) for (let k = 0; k < D; k++) M[t * D + k] = (cols[k] as Float64Array)[t] as number;
  return M;
}

/** Weights whose dictionary coefficients are the given rows: w_i = M c_i, [m, d] row-major. */
function weightsFromCoefficients(coeffs: number[][], M: Float64Array, d: number, D: number): Float64Array {
  const W = new Float64Array(coeffs.length * d);
  coeffs.forEach((c, i) => {
    for (let t = 0; t < d; t++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += (M[t * D + k] as number) * (c[k] as number);
      W[i * d + t] = s;
    }
  });
  return W;
}

const d = 12;
const D = 8;
const M = randomOrthonormal(d, D, 7);
const wstar = [1, -1, -1, 1, 1, -1, 1, -1];

describe('random dictionary', () => {
  it('has orthonormal columns and is not the identity', () => {
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        let dot = 0;
        for (let t = 0; t < d; t++) dot += (M[t * D + a] as number) * (M[t * D + b] as number);
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
    expect(Math.abs(M[0] as number)).toBeLessThan(0.99);
  });
});

describe('dictionaryCoefficients', () => {
  it('recovers the coefficients a neuron was built from (C = W M)', () => {
    const coeffs = [
      [0.5, -1, 2, 0, 0, 3, -0.25, 1],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ];
    const W = weightsFromCoefficients(coeffs, M, d, D);
    const C = dictionaryCoefficients(W, 2, d, M, D);
    expect(C.length).toBe(2 * D);
    coeffs.flat().forEach((c, idx) => expect(C[idx]).toBeCloseTo(c, 12));
  });

  it('accepts Float32 weights and rejects short buffers', () => {
    const W = Float32Array.from(weightsFromCoefficients([[1, 0, 0, 0, 0, 0, 0, 0]], M, d, D));
    const C = dictionaryCoefficients(W, 1, d, M, D);
    expect(C[0]).toBeCloseTo(1, 6);
    expect(() => dictionaryCoefficients(W, 2, d, M, D)).toThrow(RangeError);
  });
});

describe('mixtureStats', () => {
  const j = 2;

  it('a pure neuron (w = 3 M_j) has mixture ratio 0, PR 1, coherence 0', () => {
    const c = new Array<number>(D).fill(0);
    c[j] = 3;
    const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
    const s = mixtureStats(C, 1, D, wstar);
    expect(s.principalAtom[0]).toBe(j);
    expect(s.mixtureRatio[0]).toBeCloseTo(0, 12);
    expect(s.participationRatio[0]).toBeCloseTo(1, 12);
    // The off-atom coefficients are round-off, not a mixture: coherence must not be their random cosine.
    expect(s.coherence[0]).toBe(0);
  });

  it('a uniform neuron has PR = D and mixture ratio (D-1)/D', () => {
    const c = wstar.map((w) => 0.5 * w);
    const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
    const s = mixtureStats(C, 1, D, wstar);
    expect(s.participationRatio[0]).toBeCloseTo(D, 10);
    expect(s.mixtureRatio[0]).toBeCloseTo((D - 1) / D, 12);
  });

  it('mixture ratio with s principal atoms counts energy outside the top s', () => {
    const c = [0, 4, 0, -3, 1, 0, 2, 0]; // energy 30; top-1 = 16, top-2 = 25
    const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
    expect(mixtureStats(C, 1, D, wstar, 1).mixtureRatio[0]).toBeCloseTo(14 / 30, 12);
    expect(mixtureStats(C, 1, D, wstar, 2).mixtureRatio[0]).toBeCloseTo(5 / 30, 12);
    expect(mixtureStats(C, 1, D, wstar, D).mixtureRatio[0]).toBeCloseTo(0, 12);
    // PR = 30^2 / (256 + 81 + 1 + 16)
    expect(mixtureStats(C, 1, D, wstar).participationRatio[0]).toBeCloseTo(900 / 354, 12);
  });

  /**
   * The statistics of three neurons with `principal` on atom j and a 0.1 mixture off it: along
   * s*wstar (s the sign of principal * wstar_j), against it, and orthogonal to it (+wstar on
   * atom 0, -wstar on atom 5, so the dot product cancels).
   */
  function alignedNegatedOrthogonal(principal: number) {
    const sign = Math.sign(principal * (wstar[j] as number));
    const aligned = wstar.map((w, k) => (k === j ? principal : 0.1 * sign * w));
    const negated = wstar.map((w, k) => (k === j ? principal : -0.1 * sign * w));
    const orthogonal = wstar.map((w, k) => (k === j ? principal : k === 0 ? 0.1 * w : k === 5 ? -0.1 * w : 0));
    const C = dictionaryCoefficients(weightsFromCoefficients([aligned, negated, orthogonal], M, d, D), 3, d, M, D);
    return mixtureStats(C, 3, D, wstar);
  }

  it('coherence is +1 for a mixture along s*wstar, -1 when negated, 0 when orthogonal', () => {
    for (const principal of [3, -3]) {
      const s = alignedNegatedOrthogonal(principal);
      expect(Array.from(s.principalAtom)).toEqual([j, j, j]);
      expect(s.coherence[0]).toBeCloseTo(1, 12);
      expect(s.coherence[1]).toBeCloseTo(-1, 12);
      expect(s.coherence[2]).toBeCloseTo(0, 12);
    }
  });

  it('coherence of a partial mixture is the cosine computed by hand', () => {
    // Mixture = 0.1 * wstar on atoms 0 and 1 only: cos with wstar off atom j = 2 / sqrt(2 * 7).
    const c = wstar.map((w, k) => (k === j ? 3 : k < 2 ? 0.1 * w : 0));
    const sign = Math.sign(3 * (wstar[j] as number));
    const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
    expect(mixtureStats(C, 1, D, wstar).coherence[0]).toBeCloseTo((sign * 2) / Math.sqrt(14), 12);
  });

  it('with two principal atoms both are masked before the cosine', () => {
    // Atoms 2 and 4 are the feature; atom 4 opposes wstar and would spoil the cosine if left in.
    const c = wstar.map((w, k) => (k === 2 ? 3 * w : k === 4 ? -2 * w : 0.1 * w));
    const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
    expect(mixtureStats(C, 1, D, wstar, 2).coherence[0]).toBeCloseTo(1, 12);
    expect(mixtureStats(C, 1, D, wstar, 1).coherence[0]).toBeLessThan(0.5);
  });

  describe('coherent mixture share kappa = <c_off, u> / ||c||', () => {
    it('is 0 for a pure neuron (round-off off the principal atom is not a mixture)', () => {
      const c = new Array<number>(D).fill(0);
      c[j] = -3;
      const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
      expect(mixtureStats(C, 1, D, wstar).coherentShare[0]).toBe(0);
    });

    it('is +sqrt(mixture energy / total) along s*wstar, its negative when anti-aligned, 0 when orthogonal', () => {
      // 7 off-principal entries of 0.1: ||c_off||^2 = 0.07, ||c||^2 = 9.07; aligned, <c_off, u> = ||c_off||.
      const kappa = Math.sqrt(0.07 / 9.07);
      for (const principal of [3, -3]) {
        const s = alignedNegatedOrthogonal(principal);
        expect(s.coherentShare[0]).toBeCloseTo(kappa, 12);
        expect(s.coherentShare[1]).toBeCloseTo(-kappa, 12);
        expect(s.coherentShare[2]).toBeCloseTo(0, 12);
      }
    });

    it('a mixture on two atoms: <c_off, u> = 0.2 s / sqrt(7), over ||c|| = sqrt(9.02)', () => {
      const c = wstar.map((w, k) => (k === j ? 3 : k < 2 ? 0.1 * w : 0));
      const sign = Math.sign(3 * (wstar[j] as number));
      const C = dictionaryCoefficients(weightsFromCoefficients([c], M, d, D), 1, d, M, D);
      expect(mixtureStats(C, 1, D, wstar).coherentShare[0]).toBeCloseTo((sign * 0.2) / Math.sqrt(7) / Math.sqrt(9.02), 12);
    });

    it('scales with the mixture: doubling the aligned mixture of a neuron raises kappa by the hand-computed amount', () => {
      const sign = Math.sign(3 * (wstar[j] as number));
      const rows = [0.1, 0.2].map((a) => wstar.map((w, k) => (k === j ? 3 : a * sign * w)));
      const C = dictionaryCoefficients(weightsFromCoefficients(rows, M, d, D), 2, d, M, D);
      const s = mixtureStats(C, 2, D, wstar);
      expect(s.coherentShare[0]).toBeCloseTo(Math.sqrt(0.07 / 9.07), 12);
      expect(s.coherentShare[1]).toBeCloseTo(Math.sqrt(0.28 / 9.28), 12);
    });

    it('equals coherence * sqrt(mixture ratio) on random neurons, with s = 1 and s = 3', () => {
      const rand = rng(5);
      const rows = Array.from({ length: 20 }, () => Array.from({ length: D }, () => rand() * 2 - 1));
      const C = dictionaryCoefficients(weightsFromCoefficients(rows, M, d, D), 20, d, M, D);
      for (const sAtoms of [1, 3]) {
        const s = mixtureStats(C, 20, D, wstar, sAtoms);
        for (let i = 0; i < 20; i++) {
          expect(s.coherentShare[i]).toBeCloseTo((s.coherence[i] as number) * Math.sqrt(s.mixtureRatio[i] as number), 12);
        }
      }
    });

    it('is about 0 in median over random neurons although their mixture ratio is near 1', () => {
      const n = 128;
      const big = randomOrthonormal(n, n, 3);
      const rand = rng(17);
      const W = Float64Array.from({ length: n * n }, () => rand() - 0.5);
      const ws = Array.from({ length: n }, (_, k) => (k % 3 === 0 ? -1 : 1));
      const s = mixtureStats(dictionaryCoefficients(W, n, n, big, n), n, n, ws);
      expect(summarize(s.mixtureRatio).median).toBeGreaterThan(0.9);
      // One random neuron has kappa ~ N(0, 1/D) (std 0.09); the median of 128 of them is within a few hundredths of 0.
      expect(Math.abs(summarize(s.coherentShare).median)).toBeLessThan(0.04);
    });
  });

  it('a zero neuron is NaN (excluded from summaries) with principal atom -1', () => {
    const s = mixtureStats(new Float64Array(D), 1, D, wstar);
    expect(s.principalAtom[0]).toBe(-1);
    expect(s.mixtureRatio[0]).toBeNaN();
    expect(s.participationRatio[0]).toBeNaN();
    expect(s.coherence[0]).toBeNaN();
    expect(s.coherentShare[0]).toBeNaN();
  });

  it('handles m = d = D = 128 quickly', () => {
    const n = 128;
    const big = randomOrthonormal(n, n, 3);
    const rand = rng(11);
    const W = Float32Array.from({ length: n * n }, () => rand() - 0.5);
    const ws = Array.from({ length: n }, (_, k) => (k % 3 === 0 ? -1 : 1));
    const t0 = performance.now();
    const C = dictionaryCoefficients(W, n, n, big, n);
    const s = mixtureStats(C, n, n, ws);
    const ms = performance.now() - t0;
    expect(s.mixtureRatio.every((r) => r > 0 && r < 1)).toBe(true);
    expect(ms).toBeLessThan(500);
  });
});

describe('cleanToRobustDecomposition', () => {
  it('Wclean = 2 Wrobust gives beta 2, v = 0, ratio Infinity, share 1', () => {
    const Wr = [1, -2, 0.5, 3, 0, 1, -1, 2];
    const Wc = Wr.map((x) => 2 * x);
    const W0 = [1, 0, 0, 0, 0, 1, 0, 0];
    const r = cleanToRobustDecomposition(Wc, Wr, W0, 2, 4);
    expect(Array.from(r.beta)).toEqual([2, 2]);
    expect(Array.from(r.residual)).toEqual(new Array(8).fill(0));
    expect(Array.from(r.residualNorm)).toEqual([0, 0]);
    expect(Array.from(r.normRatio)).toEqual([Infinity, Infinity]);
    expect(r.shareAboveOne).toBe(1);
  });

  it('robust neuron plus a big orthogonal vector gives the hand-computed ratio < 1', () => {
    // Neuron 0: w' = (2,0,0), w = (2,3,0): beta 1, v = (0,3,0), ratio 2/3.
    // Neuron 1: w' = (1,1,0), w = w' + (4,-4,1) = (5,-3,1): beta 1, v = (4,-4,1), ratio sqrt(2)/sqrt(33).
    // Neuron 2: w' = (1,0,0), w = (3,0.5,0): beta 3, v = (0,0.5,0), ratio 3/0.5 = 6.
    const Wr = [2, 0, 0, 1, 1, 0, 1, 0, 0];
    const Wc = [2, 3, 0, 5, -3, 1, 3, 0.5, 0];
    const W0 = [1, 0, 0, 0, 0, 1, 0, 1, 0];
    const r = cleanToRobustDecomposition(Wc, Wr, W0, 3, 3);
    expect(r.beta[0]).toBeCloseTo(1, 14);
    expect(r.beta[1]).toBeCloseTo(1, 14);
    expect(r.beta[2]).toBeCloseTo(3, 14);
    expect(Array.from(r.residual.subarray(3, 6))).toEqual([4, -4, 1]);
    expect(r.normRatio[0]).toBeCloseTo(2 / 3, 14);
    expect(r.normRatio[1]).toBeCloseTo(Math.sqrt(2) / Math.sqrt(33), 14);
    expect(r.normRatio[2]).toBeCloseTo(6, 12);
    expect(r.shareAboveOne).toBeCloseTo(1 / 3, 14);
    // cos(w, w0): (2,3,0)·(1,0,0) = 2 / sqrt(13); (5,-3,1)·(0,0,1) = 1 / sqrt(35); (3,0.5,0)·(0,1,0) = 0.5 / sqrt(9.25).
    expect(r.cosCleanInit[0]).toBeCloseTo(2 / Math.sqrt(13), 14);
    expect(r.cosCleanInit[1]).toBeCloseTo(1 / Math.sqrt(35), 14);
    expect(r.cosCleanInit[2]).toBeCloseTo(0.5 / Math.sqrt(9.25), 14);
    // cos(w', w0): 1, 0, 0.
    expect(r.cosRobustInit[0]).toBeCloseTo(1, 14);
    expect(r.cosRobustInit[1]).toBeCloseTo(0, 14);
    expect(r.cosRobustInit[2]).toBeCloseTo(0, 14);
  });

  it('a negative beta still gives a positive norm ratio; degenerate neurons are documented values', () => {
    // Neuron 0: w = -w' exactly: beta -1, ratio Infinity. Neuron 1: w' = 0: beta 0, v = w, ratio 0.
    // Neuron 2: both zero: ratio NaN, excluded from the share; cosines with a zero vector are NaN.
    const Wr = [1, 2, 0, 0, 0, 0];
    const Wc = [-1, -2, 3, 4, 0, 0];
    const W0 = [1, 0, 1, 0, 1, 0];
    const r = cleanToRobustDecomposition(Wc, Wr, W0, 3, 2);
    expect(Array.from(r.beta)).toEqual([-1, 0, 0]);
    expect(r.normRatio[0]).toBe(Infinity);
    expect(r.normRatio[1]).toBe(0);
    expect(r.normRatio[2]).toBeNaN();
    expect(r.shareAboveOne).toBe(0.5);
    expect(r.cosCleanInit[0]).toBeCloseTo(-1 / Math.sqrt(5), 14);
    expect(r.cosRobustInit[1]).toBeNaN();
    expect(r.cosCleanInit[2]).toBeNaN();
  });
});

describe('updateRank', () => {
  it('a rank-one update u v^T has one singular value ||u|| ||v||, effective and stable rank 1', () => {
    const u = [1, 2, 2]; // ||u|| = 3
    const v = [0, 3, 4, 0]; // ||v|| = 5
    const before = new Float64Array(12).fill(1); // ||.||_F = sqrt(12)
    const after = before.map((b, idx) => b + (u[Math.floor(idx / 4)] as number) * (v[idx % 4] as number));
    for (const [B, A, rows, cols] of [
      [before, after, 3, 4],
      // Same update transposed (tall): exercises the other SVD orientation.
      [before, Float64Array.from({ length: 12 }, (_, idx) => 1 + (u[idx % 3] as number) * (v[Math.floor(idx / 3)] as number)), 4, 3],
    ] as const) {
      const r = updateRank(B, A, rows, cols);
      expect(r.singularValues.length).toBe(3);
      expect(r.singularValues[0]).toBeCloseTo(15, 10);
      expect(r.singularValues[1]).toBeCloseTo(0, 10);
      expect(r.singularValues[2]).toBeCloseTo(0, 10);
      expect(r.effectiveRank).toBeCloseTo(1, 10);
      expect(r.stableRank).toBeCloseTo(1, 10);
      expect(r.frobeniusNorm).toBeCloseTo(15, 12);
      expect(r.relativeChange).toBeCloseTo(15 / Math.sqrt(12), 12);
    }
  });

  it('c * I (n x n) has effective rank n and stable rank n', () => {
    const n = 5;
    const before = new Float64Array(n * n);
    const after = new Float64Array(n * n);
    for (let i = 0; i < n; i++) after[i * n + i] = 0.7;
    const r = updateRank(before, after, n, n);
    expect(Array.from(r.singularValues).every((s) => Math.abs(s - 0.7) < 1e-12)).toBe(true);
    expect(r.effectiveRank).toBeCloseTo(n, 10);
    expect(r.stableRank).toBeCloseTo(n, 10);
    expect(r.relativeChange).toBe(Infinity);
  });

  it('diag(3, 4) has sorted singular values and the hand-computed entropy rank', () => {
    const before = [1, 1, 1, 1];
    const after = [4, 1, 1, 5];
    const r = updateRank(before, after, 2, 2);
    expect(r.singularValues[0]).toBeCloseTo(4, 12);
    expect(r.singularValues[1]).toBeCloseTo(3, 12);
    const p = [4 / 7, 3 / 7];
    expect(r.effectiveRank).toBeCloseTo(Math.exp(-p.reduce((h, q) => h + q * Math.log(q), 0)), 12);
    expect(r.stableRank).toBeCloseTo(25 / 16, 12);
    expect(r.relativeChange).toBeCloseTo(5 / 2, 12);
  });

  it('an update with NaN or Inf weights is unavailable, with the reason, never a spectrum', () => {
    const before = new Float64Array(12).fill(1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const after = before.map((b, k) => (k === 5 ? bad : b + k));
      const r = updateRank(before, after, 3, 4);
      expect(r.unavailable).toBe("update spectrum unavailable: 1 of the 12 entries of W or W' are NaN or infinite (the training diverged)");
      expect(r.singularValues.length).toBe(0);
      expect(r.effectiveRank).toBeNaN();
      expect(r.stableRank).toBeNaN();
    }
    const r = updateRank(before.map(() => NaN), before, 3, 4);
    expect(r.unavailable).toMatch(/12 of the 12 entries/);
  });

  it('an exactly rank-one 64 x 64 update (identical rows) returns; ml-matrix looped forever on it', () => {
    // Run in a child with a deadline, so a hang fails this test instead of hanging the runner.
    const script = `
      import { updateRank } from ${JSON.stringify(fileURLToPath(new URL('../../main/engine/instruments/updateRank.ts', import.meta.url)))};
      const n = 64, before = new Float64Array(n * n), after = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) after[i * n + j] = Math.fround(Math.sin(1.7 * j + 0.3));
      const r = updateRank(before, after, n, n);
      console.log(JSON.stringify({ first: r.singularValues[0], second: r.singularValues[1], effectiveRank: r.effectiveRank, stableRank: r.stableRank, frobeniusNorm: r.frobeniusNorm }));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.error?.message ?? child.stderr).toBe('');
    expect(child.status).toBe(0);
    const r = JSON.parse(child.stdout) as { first: number; second: number; effectiveRank: number; stableRank: number; frobeniusNorm: number };
    // Rank one: sigma_1 = ||Delta||_F = 8 ||row||, every other singular value is round-off.
    expect(r.first).toBeCloseTo(r.frobeniusNorm, 9);
    expect(r.second / r.first).toBeLessThan(1e-14);
    expect(r.effectiveRank).toBeCloseTo(1, 10);
    expect(r.stableRank).toBeCloseTo(1, 10);
  });

  it('matches the singular values of a known dense matrix (tall and wide)', () => {
    // Q diag(5, 2, 0.5) with orthonormal Q [4, 3]: the singular values are 5, 2, 0.5 whichever way round.
    const Q = randomOrthonormal(4, 3, 7);
    const s = [5, 2, 0.5];
    const tall = Float64Array.from({ length: 12 }, (_, k) => (Q[k] as number) * (s[k % 3] as number));
    const wide = Float64Array.from({ length: 12 }, (_, k) => tall[(k % 4) * 3 + Math.floor(k / 4)] as number);
    for (const [m, rows, cols] of [[tall, 4, 3], [wide, 3, 4]] as const) {
      const r = updateRank(new Float64Array(12), m, rows, cols);
      expect(Array.from(r.singularValues).map((v) => Number(v.toFixed(12)))).toEqual([5, 2, 0.5]);
      expect(r.unavailable).toBeUndefined();
    }
  });

  it('no change gives zeros', () => {
    const W = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const r = updateRank(W, W, 2, 3);
    expect(r.relativeChange).toBe(0);
    expect(r.effectiveRank).toBe(0);
    expect(r.stableRank).toBe(0);
    expect(Array.from(r.singularValues)).toEqual([0, 0]);
  });
});

describe('distribution', () => {
  it('summarize matches numpy linear quantiles and skips NaN', () => {
    const s = summarize([4, NaN, 1, 3, 2]);
    expect(s).toEqual({ n: 4, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4, mean: 2.5 });
    // numpy.percentile([1..10], [25, 50, 75]) = [3.25, 5.5, 7.75]
    const t = summarize(Float32Array.from({ length: 10 }, (_, i) => 10 - i));
    expect([t.q1, t.median, t.q3]).toEqual([3.25, 5.5, 7.75]);
    // numpy.percentile([0, 1, 10], 25) = 0.5, 75 -> 5.5
    const u = summarize([10, 0, 1]);
    expect([u.q1, u.median, u.q3]).toEqual([0.5, 1, 5.5]);
    expect(summarize([7])).toEqual({ n: 1, min: 7, q1: 7, median: 7, q3: 7, max: 7, mean: 7 });
  });

  it('summarize keeps infinities without inventing NaN', () => {
    const s = summarize([1, 2, Infinity, Infinity]);
    expect(s.max).toBe(Infinity);
    expect(s.q3).toBe(Infinity);
    expect(s.median).toBe(Infinity);
    expect(s.q1).toBe(1.75);
  });

  it('summarize of all-NaN or empty input is NaN with n 0', () => {
    for (const values of [[NaN, NaN], []]) {
      const s = summarize(values);
      expect(s.n).toBe(0);
      for (const key of ['min', 'q1', 'median', 'q3', 'max', 'mean'] as const) expect(s[key]).toBeNaN();
    }
  });

  it('histogram clamps out-of-range values into the end bins and skips NaN', () => {
    expect(histogram([0, 0.1, 0.5, 0.99, 1, -3, 7, NaN, Infinity, -Infinity], 0, 1, 4)).toEqual([4, 0, 1, 4]);
    expect(histogram([], 0, 1, 3)).toEqual([0, 0, 0]);
    expect(() => histogram([1], 1, 1, 3)).toThrow(RangeError);
  });

  it('wilsonInterval(50, 100) is about [0.4038, 0.5962]', () => {
    const w = wilsonInterval(50, 100);
    expect(w.estimate).toBe(0.5);
    expect(w.lower).toBeCloseTo(0.4038, 4);
    expect(w.upper).toBeCloseTo(0.5962, 4);
    // k = 0 keeps a non-zero upper bound z^2 / (n + z^2).
    const z = wilsonInterval(0, 10);
    expect(z.lower).toBe(0);
    expect(z.upper).toBeCloseTo(1.96 ** 2 / (10 + 1.96 ** 2), 12);
    const e = wilsonInterval(0, 0);
    expect(e.estimate).toBeNaN();
    expect(e.lower).toBeNaN();
    expect(e.upper).toBeNaN();
  });
});
