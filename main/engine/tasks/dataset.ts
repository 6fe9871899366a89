/**
 * A labelled dataset as plain row-major arrays: what every task produces and every model eats.
 * Kept as JS typed arrays (not tensors) so that data are identical on every backend and can be
 * saved, hashed and exported without a device round trip.
 */
export interface Dataset {
  /** Inputs, [n, d] row-major. */
  readonly x: Float32Array;
  /** Labels in {-1, +1} for binary tasks. */
  readonly y: Float32Array;
  readonly n: number;
  readonly d: number;
}

/** Rows `indices` of `data`, in that order. */
export function takeRows(data: Dataset, indices: ArrayLike<number>): Dataset {
  const { d } = data;
  const x = new Float32Array(indices.length * d);
  const y = new Float32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    x.set(data.x.subarray(i * d, (i + 1) * d), r * d);
    y[r] = data.y[i]!;
  }
  return { x, y, n: indices.length, d };
}
