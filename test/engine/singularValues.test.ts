/**
 * The singular values of large updates (bidiagonalization and bisection) against known answers:
 * constructed spectra, exact low rank, the matrix ml-matrix never returned on, extreme scales,
 * and one-sided Jacobi on the same matrices.
 */
import { describe, expect, it } from 'vitest';
import { bidiagonalSingularValues } from '../../main/engine/instruments/bidiagonalSingularValues.ts';
import { jacobiMaxSize, jacobiSingularValues, singularValues } from '../../main/engine/instruments/singularValues.ts';
import { updateRank } from '../../main/engine/instruments/updateRank.ts';
import { randomOrthonormal } from '../../main/engine/tasks/sparseCoding.ts';
import { RandomStream } from '../../main/engine/random.ts';

/** U diag(s) V^T, [rows, cols] row-major, with Haar-random U [rows, r] and V [cols, r]. */
function withSpectrum(rows: number, cols: number, s: readonly number[], seed: number): Float64Array {
  const r = s.length;
  const u = randomOrthonormal(rows, r, RandomStream.derive(seed, 'u'));
  const v = randomOrthonormal(cols, r, RandomStream.derive(seed, 'v'));
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let k = 0; k < r; k++) x += u[i * r + k]! * s[k]! * v[j * r + k]!;
      a[i * cols + j] = x;
    }
  return a;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

describe('singular values by bidiagonalization and bisection', () => {
  // Graded over six decades, so small values are checked as well as large ones.
  const spectrum = Array.from({ length: 60 }, (_, k) => 10 * 10 ** (-k / 10));

  it('finds a constructed spectrum, tall and wide, to round-off of sigma_max', () => {
    const a = withSpectrum(90, 60, spectrum, 1);
    for (const values of [bidiagonalSingularValues(a, 90, 60), bidiagonalSingularValues(transpose(a, 90, 60), 60, 90)]) {
      expect(values).toHaveLength(60);
      values.forEach((v, k) => expect(Math.abs(v - spectrum[k]!)).toBeLessThan(1e-13 * spectrum[0]!));
      // The large ones to high relative accuracy.
      for (let k = 0; k < 20; k++) expect(Math.abs(values[k]! / spectrum[k]! - 1)).toBeLessThan(1e-12);
    }
  });

  it('agrees with one-sided Jacobi on a random dense matrix', () => {
    const rng = RandomStream.derive(2, 'dense');
    const a = Float64Array.from({ length: 70 * 50 }, () => rng.normal());
    const jacobi = jacobiSingularValues(a, 70, 50).values!;
    const bisection = bidiagonalSingularValues(a, 70, 50);
    bisection.forEach((v, k) => expect(Math.abs(v - jacobi[k]!)).toBeLessThan(1e-13 * jacobi[0]!));
  });

  it('an exact rank-3 matrix: three values, the rest below the rank floor, entropy rank of the three', () => {
    const s = [4, 2, 1];
    const a = withSpectrum(40, 30, s, 3);
    const values = bidiagonalSingularValues(a, 40, 30);
    s.forEach((v, k) => expect(values[k]).toBeCloseTo(v, 12));
    for (let k = 3; k < 30; k++) expect(values[k]!).toBeLessThan(40 * Number.EPSILON * 4);
  });

  it('identical rows (the update ml-matrix never returned on) above the Jacobi size: rank one exactly', () => {
    const n = jacobiMaxSize + 72;
    const row = Float64Array.from({ length: n }, (_, j) => Math.fround(Math.sin(1.7 * j + 0.3)));
    const after = new Float64Array(n * n);
    for (let i = 0; i < n; i++) after.set(row, i * n);
    const r = updateRank(new Float64Array(n * n), after, n, n);
    expect(r.singularValues).toHaveLength(n);
    expect(r.singularValues[0]).toBeCloseTo(r.frobeniusNorm, 10);
    expect(r.singularValues[1]! / r.singularValues[0]!).toBeLessThan(n * Number.EPSILON);
    expect(r.effectiveRank).toBe(1);
    expect(r.stableRank).toBeCloseTo(1, 12);
  });

  it('no overflow or underflow at extreme scales: the spectrum scales with the matrix', () => {
    const s = [3, 2, 1, 0.5];
    const a = withSpectrum(12, 8, s, 4);
    for (const scale of [1e-200, 1e200]) {
      const values = bidiagonalSingularValues(a.map((x) => x * scale), 12, 8);
      s.forEach((v, k) => expect(values[k]! / scale).toBeCloseTo(v, 12));
      for (let k = 4; k < 8; k++) expect(values[k]! / scale).toBeLessThan(1e-13);
    }
  });

  it('zeros give zeros, and a diagonal gives its entries sorted', () => {
    expect(Array.from(bidiagonalSingularValues(new Float64Array(20), 4, 5))).toEqual([0, 0, 0, 0]);
    const diagonal = new Float64Array(9);
    [2, -7, 0.25].forEach((v, i) => (diagonal[i * 3 + i] = v));
    expect(Array.from(bidiagonalSingularValues(diagonal, 3, 3)).map((v) => Number(v.toPrecision(15)))).toEqual([7, 2, 0.25]);
  });

  it('singularValues takes Jacobi up to jacobiMaxSize and bidiagonalization above, with the same answer', () => {
    const s = Array.from({ length: 10 }, (_, k) => 10 - k);
    for (const n of [jacobiMaxSize, jacobiMaxSize + 1]) {
      const r = singularValues(withSpectrum(n + 5, n, s, 5), n + 5, n);
      expect(r.values).not.toBeNull();
      // Jacobi reports the sweeps it took; bidiagonalization none.
      if (n <= jacobiMaxSize) expect(r.values && r.sweeps).toBeGreaterThan(0);
      else expect(r.values && r.sweeps).toBe(0);
      s.forEach((v, k) => expect(r.values![k]).toBeCloseTo(v, 11));
      expect(r.values![10]!).toBeLessThan(1e-12);
    }
  });
});
