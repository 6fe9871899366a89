/**
 * Singular values of a large dense matrix in O(m n^2): Householder bidiagonalization
 * (Golub & Kahan 1965), then bisection on the Golub-Kahan tridiagonal matrix of the bidiagonal
 * (Demmel & Kahan 1990; LAPACK's dbdsvdx takes the same route).
 *
 * Accuracy: the bidiagonalization is backward stable, so each computed singular value is within
 * a small multiple of eps · sigma_max of the true one. That is what the update's rank measures
 * need: effectiveRank counts only sigma > max(rows, cols) · eps · sigma_max and stableRank uses
 * sigma_max alone. (One-sided Jacobi, ./singularValues.ts, also gets tiny singular values to high
 * relative accuracy, but costs O(n^3) per sweep and ~10 sweeps: 6 minutes at 1024 x 1024.)
 *
 * Termination: both stages are loops of fixed length (n reflections; a bounded number of
 * halvings per value), so unlike a QR iteration this never fails to converge.
 *
 * The Golub-Kahan matrix: for B with diagonal d and superdiagonal e, the 2n x 2n symmetric
 * tridiagonal T with zero diagonal and off-diagonal (d_1, e_1, d_2, ..., e_{n-1}, d_n) has the
 * eigenvalues +-sigma_i(B). Sylvester's inertia of T - x I, read off the pivots of its LDL^T
 * (the Sturm count), says how many eigenvalues lie below x; halving [lo, hi) until it is
 * 2 eps wide pins each sigma to high relative accuracy (zero diagonal keeps the count exact in
 * relative terms).
 */

/**
 * Reflect `x[offset..offset + length)` onto alpha e_1 with H = I - tau v v^T, normalised as in
 * LAPACK's dlarfg: v_1 = 1 and v_i = x_i / (x_1 - alpha), so |v_i| <= 1 and tau = (alpha - x_1) / alpha
 * lies in [1, 2] (no overflow however small x is). Overwrites x with v. Returns [alpha, tau];
 * tau = 0 (H = I) for x = 0.
 */
function householder(x: Float64Array, offset: number, length: number): [number, number] {
  let scale = 0;
  for (let i = 0; i < length; i++) scale = Math.max(scale, Math.abs(x[offset + i]!));
  if (scale === 0) return [0, 0];
  // Scaled sum of squares: no overflow or underflow of ||x||^2.
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const v = x[offset + i]! / scale;
    sum += v * v;
  }
  const norm = scale * Math.sqrt(sum);
  const x0 = x[offset]!;
  // alpha takes the sign opposite to x_1, so x_1 - alpha never cancels.
  const alpha = x0 >= 0 ? -norm : norm;
  const denominator = x0 - alpha;
  x[offset] = 1;
  for (let i = 1; i < length; i++) x[offset + i] = x[offset + i]! / denominator;
  return [alpha, (alpha - x0) / alpha];
}

/**
 * The bidiagonal form of the [m, n] row-major matrix `a` (m >= n; overwritten): diagonal d (n)
 * and superdiagonal e (n - 1) of U^T A V.
 */
export function bidiagonalize(a: Float64Array, m: number, n: number): { d: Float64Array; e: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  const v = new Float64Array(m);
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Left reflection: zero column k below the diagonal. Applied as A <- A - tau v (v^T A), with
    // v^T A accumulated row by row so every inner loop runs along a contiguous row.
    for (let i = k; i < m; i++) v[i] = a[i * n + k]!;
    const [alpha, tau] = householder(v, k, m - k);
    d[k] = alpha;
    if (tau !== 0) {
      w.fill(0, k + 1, n);
      for (let i = k; i < m; i++) {
        const vi = v[i]!;
        if (vi === 0) continue;
        const row = i * n;
        for (let j = k + 1; j < n; j++) w[j] = w[j]! + vi * a[row + j]!;
      }
      for (let i = k; i < m; i++) {
        const f = tau * v[i]!;
        if (f === 0) continue;
        const row = i * n;
        for (let j = k + 1; j < n; j++) a[row + j] = a[row + j]! - f * w[j]!;
      }
    }
    if (k >= n - 1) continue;
    // Right reflection: zero row k right of the superdiagonal, A <- A - tau (A u) u^T on rows below.
    const rowK = k * n;
    const [beta, sigma] = householder(a, rowK + k + 1, n - k - 1);
    e[k] = beta;
    if (sigma === 0) continue;
    for (let i = k + 1; i < m; i++) {
      const row = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[row + j]! * a[rowK + j]!;
      const f = sigma * s;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[row + j] = a[row + j]! - f * a[rowK + j]!;
    }
  }
  return { d, e };
}

/**
 * Singular values of the bidiagonal (d, e), ascending, by bisection on its Golub-Kahan matrix.
 */
export function bidiagonalValues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  const size = 2 * n;
  const values = new Float64Array(n);
  // Work on B / max|entry|, so the squares below neither overflow nor underflow to matter.
  let largest = 0;
  for (const v of d) largest = Math.max(largest, Math.abs(v));
  for (const v of e) largest = Math.max(largest, Math.abs(v));
  if (largest === 0) return values;
  // b2[i] = squared off-diagonal i of T (between rows i and i + 1): d_1, e_1, d_2, ...
  const b2 = new Float64Array(Math.max(0, size - 1));
  let bound = 0;
  let previous = 0;
  for (let i = 0; i < size - 1; i++) {
    const b = Math.abs(i % 2 === 0 ? d[i / 2]! : e[(i - 1) / 2]!) / largest;
    b2[i] = b * b;
    // Gershgorin: every eigenvalue of T is at most max_i (|b_{i-1}| + |b_i|).
    bound = Math.max(bound, previous + b);
    previous = b;
  }
  bound = Math.max(bound, previous) * (1 + 4 * Number.EPSILON);
  // A pivot this small is replaced by -pivmin (LAPACK's dstebz): the count stays right and no
  // division by zero occurs.
  const pivmin = Number.MIN_VALUE * 2 ** 60 * Math.max(1, bound * bound);
  // Below this width a value is indistinguishable from 0 at any precision the input carries.
  const absoluteTolerance = bound * Number.EPSILON * Number.EPSILON;
  /** Number of singular values below x (x > 0): eigenvalues of T below x, minus the n at or below 0. */
  const below = (x: number): number => {
    let count = 0;
    let q = -x;
    if (q < 0) count++;
    for (let i = 1; i < size; i++) {
      if (Math.abs(q) < pivmin) q = -pivmin;
      q = -x - b2[i - 1]! / q;
      if (q < 0) count++;
    }
    return count - n;
  };
  let lower = 0;
  for (let k = 0; k < n; k++) {
    // sigma_k (k-th smallest) lies in [lo, hi): fewer than k + 1 values below lo, at least k + 1 below hi.
    let lo = lower;
    let hi = bound;
    for (let step = 0; step < 256 && hi - lo > 2 * Number.EPSILON * hi + absoluteTolerance; step++) {
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      if (below(mid) > k) hi = mid;
      else lo = mid;
    }
    values[k] = lo === 0 && hi <= absoluteTolerance ? 0 : (lo + (hi - lo) / 2) * largest;
    // The next value is no smaller: its search starts where this one's did end.
    lower = lo;
  }
  return values;
}

/**
 * Singular values of the [rows, cols] row-major matrix `a` (finite entries; the caller checks),
 * descending, length min(rows, cols).
 */
export function bidiagonalSingularValues(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const n = Math.min(rows, cols);
  const m = Math.max(rows, cols);
  // The tall orientation ([m, n], m >= n), row-major: a itself, or its transpose.
  const tall = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = a[i * cols + j] as number;
      if (rows >= cols) tall[i * n + j] = v;
      else tall[j * n + i] = v;
    }
  }
  const { d, e } = bidiagonalize(tall, m, n);
  return bidiagonalValues(d, e).reverse();
}
