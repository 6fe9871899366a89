/**
 * Singular values of a small dense matrix by one-sided Jacobi (Hestenes 1958; Demmel & Veselic
 * 1992), with a bounded number of sweeps, so the call always returns.
 *
 * Why not ml-matrix's SingularValueDecomposition: its Golub-Kahan loop has no iteration cap, and
 * it never returns on some finite matrices (mljs/matrix#70). Measured here: a 64 x 64 matrix with
 * identical rows (an exactly rank-one update, which fine-tuning produces when every neuron gets
 * the same gradient) keeps it at 100 % CPU for good.
 *
 * Method: rotate pairs of columns (a_p, a_q) until every pair is orthogonal to working precision,
 * |<a_p, a_q>| <= tol ||a_p|| ||a_q||; the column norms are then the singular values. Each
 * rotation is exact in exact arithmetic and the Frobenius norm is preserved, so small singular
 * values keep a high relative accuracy (better than Golub-Kahan's).
 *
 * Large matrices (min(rows, cols) > jacobiMaxSize) go to ./bidiagonalSingularValues.ts instead.
 */

import { bidiagonalSingularValues } from './bidiagonalSingularValues.ts';

/** The singular values (descending) and the Jacobi sweeps taken (0 for bidiagonalization), or why there are none. */
export type SingularValuesResult =
  | { readonly values: Float64Array; readonly sweeps: number }
  | { readonly values: null; readonly reason: string };

/** LAPACK's dgesvj allows 30 sweeps; random matrices of this project converge in under 12. */
export const maxJacobiSweeps = 30;

/**
 * Above this min(rows, cols), ./bidiagonalSingularValues.ts: Jacobi costs about 10 sweeps of
 * n^2 max(rows, cols) (a second at 128 x 128, a minute at 512, six at 1024), bidiagonalization
 * one pass of 4 n^2 max(rows, cols) flops. Up to it Jacobi stays, so the spectra of the runs at
 * the flagship's size and below do not change.
 */
export const jacobiMaxSize = 128;

/**
 * Singular values of the [rows, cols] row-major matrix `a` (finite entries; the caller checks),
 * descending: one-sided Jacobi for small matrices, bidiagonalization and bisection for large ones.
 */
export function singularValues(a: ArrayLike<number>, rows: number, cols: number): SingularValuesResult {
  if (Math.min(rows, cols) <= jacobiMaxSize) return jacobiSingularValues(a, rows, cols);
  return { values: bidiagonalSingularValues(a, rows, cols), sweeps: 0 };
}

/**
 * Singular values of the [rows, cols] row-major matrix `a` (finite entries; the caller checks).
 * Works on the columns of a or of a^T, whichever are fewer, so a pair costs max(rows, cols).
 */
export function jacobiSingularValues(a: ArrayLike<number>, rows: number, cols: number, maxSweeps = maxJacobiSweeps): SingularValuesResult {
  const n = Math.min(rows, cols);
  const m = Math.max(rows, cols);
  // u holds n vectors of length m, contiguous: the columns of a (tall) or its rows (wide).
  const u = new Float64Array(n * m);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = a[i * cols + j] as number;
      if (rows >= cols) u[j * m + i] = v;
      else u[i * m + j] = v;
    }
  }
  const tol = m * Number.EPSILON;
  // A column this small is rounding noise left by earlier rotations (a rank-deficient matrix
  // leaves n - rank of them): rotating it against a large one cannot make the pair orthogonal to
  // working precision, so it is taken as converged. Its norm, below m eps ||a||_F, is the
  // singular value reported, far under the numerical rank floor of updateRank.
  let frobenius2 = 0;
  for (let k = 0; k < u.length; k++) frobenius2 += u[k]! * u[k]!;
  const negligible = (m * Number.EPSILON) ** 2 * frobenius2;
  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const op = p * m;
      for (let q = p + 1; q < n; q++) {
        const oq = q * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let k = 0; k < m; k++) {
          const x = u[op + k]!;
          const y = u[oq + k]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || alpha <= negligible || beta <= negligible || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes the off-diagonal of [[alpha, gamma], [gamma, beta]]:
        // tan(theta) = t, the smaller root of t^2 + 2 zeta t - 1 = 0.
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < m; k++) {
          const x = u[op + k]!;
          const y = u[oq + k]!;
          u[op + k] = c * x - s * y;
          u[oq + k] = s * x + c * y;
        }
      }
    }
    if (!rotated) {
      const values = new Float64Array(n);
      for (let p = 0; p < n; p++) {
        let norm2 = 0;
        for (let k = 0; k < m; k++) norm2 += u[p * m + k]! ** 2;
        values[p] = Math.sqrt(norm2);
      }
      values.sort().reverse();
      return { values, sweeps: sweep };
    }
  }
  return { values: null, reason: `the Jacobi SVD did not converge in ${maxSweeps} sweeps` };
}
