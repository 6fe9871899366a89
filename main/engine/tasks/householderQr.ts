/**
 * Householder QR of a tall matrix (Golub & Van Loan, "Matrix Computations", 5.2), for the
 * dictionary of the synthetic task.
 *
 * The arithmetic is ml-matrix's QrDecomposition (the JAMA algorithm) operation for operation, in
 * the same order, so every dictionary a seed ever defined stays bit-identical. Only the storage
 * differs: JAMA walks the matrix down its columns, which in row-major storage jumps a whole row per
 * element; here each column is one contiguous Float64Array stretch, so those walks are sequential.
 * At 1024 x 1024 that turns minutes into about a second.
 */

/** sqrt(a^2 + b^2) without overflow or underflow, as JAMA's hypot (ml-matrix's `hypotenuse`). */
function hypotenuse(a: number, b: number): number {
  if (Math.abs(a) > Math.abs(b)) {
    const r = b / a;
    return Math.abs(a) * Math.sqrt(1 + r * r);
  }
  if (b !== 0) {
    const r = a / b;
    return Math.abs(b) * Math.sqrt(1 + r * r);
  }
  return 0;
}

export interface HouseholderQr {
  /** Rows m and columns n of the factored matrix (m >= n). */
  readonly rows: number;
  readonly columns: number;
  /**
   * The Householder vectors below and on the diagonal, R above it, column-major: entry (i, j)
   * at j * rows + i.
   */
  readonly factors: Float64Array;
  /** The diagonal of R. */
  readonly rDiagonal: Float64Array;
}

/**
 * Factor the [rows, columns] matrix given column-major (entry (i, j) at j * rows + i) as Q R.
 * `columnMajor` is overwritten with the factors.
 */
export function householderQr(columnMajor: Float64Array, rows: number, columns: number): HouseholderQr {
  if (columnMajor.length !== rows * columns) throw new RangeError(`the matrix has ${columnMajor.length} entries, expected ${rows} x ${columns}`);
  if (rows < columns) throw new RangeError(`Householder QR needs rows >= columns, got ${rows} x ${columns}`);
  const qr = columnMajor;
  const m = rows;
  const rDiagonal = new Float64Array(columns);
  for (let k = 0; k < columns; k++) {
    const ok = k * m;
    // The reflection that maps column k (rows k..m-1) onto -nrm e_k, stored as v / nrm with
    // v_k = 1 + x_k / nrm, so that H = I - v v^T / v_k.
    let nrm = 0;
    for (let i = k; i < m; i++) nrm = hypotenuse(nrm, qr[ok + i]!);
    if (nrm !== 0) {
      if (qr[ok + k]! < 0) nrm = -nrm;
      for (let i = k; i < m; i++) qr[ok + i] = qr[ok + i]! / nrm;
      qr[ok + k] = qr[ok + k]! + 1;
      const vk = qr[ok + k]!;
      for (let j = k + 1; j < columns; j++) {
        const oj = j * m;
        let s = 0;
        for (let i = k; i < m; i++) s += qr[ok + i]! * qr[oj + i]!;
        s = -s / vk;
        for (let i = k; i < m; i++) qr[oj + i] = qr[oj + i]! + s * qr[ok + i]!;
      }
    }
    rDiagonal[k] = -nrm;
  }
  return { rows, columns, factors: qr, rDiagonal };
}

/**
 * The first `columns` columns of Q, column-major ([rows, columns], entry (i, j) at j * rows + i):
 * the reflections applied, last first, to the first columns of the identity.
 */
export function orthogonalFactor({ rows, columns, factors }: HouseholderQr): Float64Array {
  const m = rows;
  const x = new Float64Array(rows * columns);
  for (let k = columns - 1; k >= 0; k--) {
    const ok = k * m;
    x[ok + k] = 1;
    const vk = factors[ok + k]!;
    if (vk === 0) continue;
    for (let j = k; j < columns; j++) {
      const oj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += factors[ok + i]! * x[oj + i]!;
      s = -s / vk;
      for (let i = k; i < m; i++) x[oj + i] = x[oj + i]! + s * factors[ok + i]!;
    }
  }
  return x;
}
