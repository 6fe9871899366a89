/**
 * Decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"): after the
 * optimiser's step each weight matrix shrinks towards 0 by a share lr * lambda of itself,
 *   W <- W - (lr lambda) W,
 * separate from the gradient, so momentum and Adam's moments never see it. Biases and thresholds
 * are not decayed: only the rank-2 parameters (fc1.weight, fc2.weight) are weight matrices.
 * The same maths on every path the MLP trains on (generic tfjs, fused, threaded); lambda = 0 does
 * no work, so runs without decay stay bit-identical.
 */

/** The indices of the parameters that decay: the weight matrices (rank 2). */
export function decayedParameters(shapes: readonly (readonly number[])[]): number[] {
  return shapes.flatMap((shape, i) => (shape.length === 2 ? [i] : []));
}

/** W <- W - rate W in place, with rate = lr lambda (each product rounded to float32 as the kernels do). */
export function decayInPlace(values: Float32Array, rate: number): void {
  const r = Math.fround(rate);
  for (let j = 0; j < values.length; j++) values[j] = values[j]! - Math.fround(r * values[j]!);
}
