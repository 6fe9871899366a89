/**
 * Dictionary view of hidden neurons: how much of each neuron is one atom of the dictionary M,
 * and how much is a small dense "mixture" of the others (Allen-Zhu & Li, "Feature Purification").
 *
 * Layout: W is [m, d] row-major (row i = neuron w_i), M is [d, D] row-major with orthonormal
 * columns (atoms), wstar is [D] with entries in {+1, -1}.
 */

/**
 * Relative energy below which the masked (off-principal) part of a neuron counts as zero.
 * Float32 weights carry rounding noise of relative energy ~1e-14 in dictionary coordinates; without
 * this floor a pure neuron's "mixture" would be that noise and its coherence a random number.
 */
export const MIXTURE_ZERO_TOLERANCE = 1e-12;

export interface MixtureStats {
  /** Energy of c_i outside its top-s atoms divided by ||c_i||^2; NaN for a zero neuron. */
  mixtureRatio: Float64Array;
  /** (sum_k c_ik^2)^2 / sum_k c_ik^4: 1 for a pure neuron, D for a uniform one; NaN for a zero neuron. */
  participationRatio: Float64Array;
  /** Cosine between the mixture of c_i and s_i * wstar, both with the principal atoms masked; NaN for a zero neuron. */
  coherence: Float64Array;
  /**
   * Coherent mixture share kappa_i = <c_off, u> / ||c_i||: the part of the neuron's mixture along the
   * (masked, unit) label direction u, as a share of the whole neuron; coherence * sqrt(mixtureRatio).
   * NaN for a zero neuron.
   */
  coherentShare: Float64Array;
  /** argmax_k |c_ik| (first index on ties); -1 for a zero neuron. */
  principalAtom: Int32Array;
}

function checkLength(name: string, a: ArrayLike<number>, need: number): void {
  if (a.length < need) {
    throw new RangeError(`${name} has length ${a.length}, expected at least ${need}`);
  }
}

function checkDim(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * Dictionary coefficients of every neuron: C = W M, so row i is c_i = M^T w_i (the coordinates of
 * w_i along each atom, exact when w_i lies in the span of M because the columns are orthonormal).
 *
 * @param W neuron weights, [m, d] row-major.
 * @param m number of neurons.
 * @param d input dimension.
 * @param M dictionary, [d, D] row-major with orthonormal columns.
 * @param D number of atoms.
 * @returns C, [m, D] row-major, accumulated in float64.
 */
export function dictionaryCoefficients(
  W: ArrayLike<number>,
  m: number,
  d: number,
  M: ArrayLike<number>,
  D: number,
): Float64Array {
  checkDim('m', m);
  checkDim('d', d);
  checkDim('D', D);
  checkLength('W', W, m * d);
  checkLength('M', M, d * D);
  const C = new Float64Array(m * D);
  // i-t-k order walks rows of M and C contiguously; the output row itself is the float64 accumulator.
  for (let i = 0; i < m; i++) {
    const cRow = i * D;
    const wRow = i * d;
    for (let t = 0; t < d; t++) {
      const w = W[wRow + t] as number;
      if (w === 0) continue;
      const mRow = t * D;
      for (let k = 0; k < D; k++) {
        C[cRow + k] = (C[cRow + k] as number) + w * (M[mRow + k] as number);
      }
    }
  }
  return C;
}

/**
 * Per-neuron purity statistics of dictionary coefficients C = W M.
 *
 * For neuron i with coefficients c_i and its s largest-magnitude atoms S_i (j_i = the largest):
 * mixtureRatio_i = sum_{k not in S_i} c_ik^2 / ||c_i||^2;
 * participationRatio_i = ||c_i||_2^4 / ||c_i||_4^4;
 * coherence_i = cos(c_i restricted off S_i, s_i * wstar restricted off S_i) with s_i = sign(c_ij * wstar_j),
 * i.e. +1 when the mixture points the way the label direction does (the paper's "dense mixture" aligned
 * with w*), -1 when opposite, 0 when either masked vector is zero (a pure neuron or s = D);
 * coherentShare_i = <c_i off S_i, u_i> / ||c_i|| with u_i = s_i * wstar off S_i normalised to unit length,
 * which is coherence_i * sqrt(mixtureRatio_i): how much of the neuron a small perturbation along the
 * label direction can exploit. A random init has a large mixture but coherence ~ 0, so kappa ~ 0; the
 * paper's accumulation of coherent dense mixtures under clean training is kappa growing.
 * A neuron with c_i = 0 has no principal atom: all three statistics are NaN and principalAtom is -1,
 * so summaries (which skip NaN) exclude dead neurons instead of counting them as pure.
 *
 * @param C coefficients, [m, D] row-major (from dictionaryCoefficients).
 * @param m number of neurons.
 * @param D number of atoms.
 * @param wstar label direction, [D], entries +-1.
 * @param principalAtoms s, how many top atoms count as the neuron's feature (clamped to D).
 */
export function mixtureStats(
  C: ArrayLike<number>,
  m: number,
  D: number,
  wstar: ArrayLike<number>,
  principalAtoms = 1,
): MixtureStats {
  checkDim('m', m);
  checkDim('D', D);
  checkLength('C', C, m * D);
  checkLength('wstar', wstar, D);
  if (!Number.isInteger(principalAtoms) || principalAtoms < 1) {
    throw new RangeError(`principalAtoms must be a positive integer, got ${principalAtoms}`);
  }
  const s = Math.min(principalAtoms, D);

  const mixtureRatio = new Float64Array(m);
  const participationRatio = new Float64Array(m);
  const coherence = new Float64Array(m);
  const coherentShare = new Float64Array(m);
  const principalAtom = new Int32Array(m);
  // One mask reused across neurons; repeated argmax is O(sD), cheaper than sorting for the usual s = 1.
  const mask = new Uint8Array(D);

  for (let i = 0; i < m; i++) {
    const row = i * D;
    let sum2 = 0;
    let sum4 = 0;
    for (let k = 0; k < D; k++) {
      const c = C[row + k] as number;
      const c2 = c * c;
      sum2 += c2;
      sum4 += c2 * c2;
    }
    if (!(sum2 > 0)) {
      mixtureRatio[i] = NaN;
      participationRatio[i] = NaN;
      coherence[i] = NaN;
      coherentShare[i] = NaN;
      principalAtom[i] = -1;
      continue;
    }
    participationRatio[i] = (sum2 * sum2) / sum4;

    mask.fill(0);
    let first = -1;
    for (let r = 0; r < s; r++) {
      let best = -1;
      let bestAbs = -1;
      for (let k = 0; k < D; k++) {
        if (mask[k] === 1) continue;
        const a = Math.abs(C[row + k] as number);
        if (a > bestAbs) {
          bestAbs = a;
          best = k;
        }
      }
      mask[best] = 1;
      if (r === 0) first = best;
    }
    principalAtom[i] = first;

    const sign = Math.sign((C[row + first] as number) * (wstar[first] as number));
    let off2 = 0;
    let dot = 0;
    let w2 = 0;
    for (let k = 0; k < D; k++) {
      if (mask[k] === 1) continue;
      const c = C[row + k] as number;
      const w = wstar[k] as number;
      off2 += c * c;
      dot += c * w;
      w2 += w * w;
    }
    // Summing the off-principal energy directly avoids the cancellation of ||c||^2 - top energy.
    mixtureRatio[i] = off2 / sum2;
    if (off2 <= MIXTURE_ZERO_TOLERANCE * sum2 || w2 === 0 || sign === 0) {
      coherence[i] = 0;
      coherentShare[i] = 0;
    } else {
      const cos = (sign * dot) / Math.sqrt(off2 * w2);
      coherence[i] = Math.max(-1, Math.min(1, cos));
      // <c_off, u> / ||c_i|| with u = s_i wstar_off / ||wstar_off||; |kappa| <= sqrt(mixtureRatio) by Cauchy-Schwarz.
      const bound = Math.sqrt(off2 / sum2);
      coherentShare[i] = Math.max(-bound, Math.min(bound, (sign * dot) / Math.sqrt(w2 * sum2)));
    }
  }
  return { mixtureRatio, participationRatio, coherence, coherentShare, principalAtom };
}
