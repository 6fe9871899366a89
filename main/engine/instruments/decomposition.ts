/**
 * Clean neuron = robust neuron + leftover: splits each clean-trained neuron w_i into its projection
 * on the adversarially trained neuron w_i' and a residual v_i, to test the paper's claim that clean
 * training learns the robust feature plus a small dense mixture (normRatio > 1 means the robust part
 * dominates the residual).
 *
 * Layout: every weight matrix is [m, d] row-major, row i = neuron i, rows matched across trainings.
 */

export interface CleanToRobustDecomposition {
  /** beta_i = <w_i, w_i'> / ||w_i'||^2; 0 when w_i' = 0 (nothing to project on). */
  beta: Float64Array;
  /** v = w - beta w', [m, d] row-major. */
  residual: Float64Array;
  /** ||v_i||. */
  residualNorm: Float64Array;
  /** ||beta_i w_i'||. */
  robustPartNorm: Float64Array;
  /** ||beta_i w_i'|| / ||v_i||: Infinity when v_i = 0 but the robust part is not, NaN when both are 0. */
  normRatio: Float64Array;
  /** Fraction of neurons with normRatio > 1 among those whose ratio is not NaN; NaN if there are none. */
  shareAboveOne: number;
  /** cos(w_i, w_i^0); NaN when either vector is 0. */
  cosCleanInit: Float64Array;
  /** cos(w_i', w_i^0); NaN when either vector is 0. */
  cosRobustInit: Float64Array;
}

function checkLength(name: string, a: ArrayLike<number>, need: number): void {
  if (a.length < need) {
    throw new RangeError(`${name} has length ${a.length}, expected at least ${need}`);
  }
}

function cosine(dot: number, aa: number, bb: number): number {
  if (!(aa > 0) || !(bb > 0)) return NaN;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(aa * bb)));
}

/**
 * Per-neuron decomposition of clean weights against robust weights from the same initialisation.
 *
 * beta_i = <w_i, w_i'>/||w_i'||^2 is the least-squares coefficient of w_i on w_i', v_i = w_i - beta_i w_i'
 * is orthogonal to w_i', normRatio_i = ||beta_i w_i'|| / ||v_i||, and the cosines to w_i^0 show how far
 * each training moved the neuron from where it started.
 *
 * @param Wclean clean-trained weights w_i, [m, d].
 * @param Wrobust adversarially trained weights w_i', [m, d].
 * @param W0 shared initial weights w_i^0, [m, d].
 * @param m number of neurons.
 * @param d input dimension.
 */
export function cleanToRobustDecomposition(
  Wclean: ArrayLike<number>,
  Wrobust: ArrayLike<number>,
  W0: ArrayLike<number>,
  m: number,
  d: number,
): CleanToRobustDecomposition {
  if (!Number.isInteger(m) || m < 0) throw new RangeError(`m must be a non-negative integer, got ${m}`);
  if (!Number.isInteger(d) || d < 0) throw new RangeError(`d must be a non-negative integer, got ${d}`);
  checkLength('Wclean', Wclean, m * d);
  checkLength('Wrobust', Wrobust, m * d);
  checkLength('W0', W0, m * d);

  const beta = new Float64Array(m);
  const residual = new Float64Array(m * d);
  const residualNorm = new Float64Array(m);
  const robustPartNorm = new Float64Array(m);
  const normRatio = new Float64Array(m);
  const cosCleanInit = new Float64Array(m);
  const cosRobustInit = new Float64Array(m);
  let counted = 0;
  let above = 0;

  for (let i = 0; i < m; i++) {
    const row = i * d;
    let ww = 0;
    let rr = 0;
    let zz = 0;
    let wr = 0;
    let wz = 0;
    let rz = 0;
    for (let t = 0; t < d; t++) {
      const w = Wclean[row + t] as number;
      const r = Wrobust[row + t] as number;
      const z = W0[row + t] as number;
      ww += w * w;
      rr += r * r;
      zz += z * z;
      wr += w * r;
      wz += w * z;
      rz += r * z;
    }
    const b = rr > 0 ? wr / rr : 0;
    beta[i] = b;

    // ||v|| is summed from the explicit residual rather than ww - b*wr, which cancels catastrophically
    // exactly in the interesting regime where the clean neuron is nearly the robust one.
    let vv = 0;
    for (let t = 0; t < d; t++) {
      const v = (Wclean[row + t] as number) - b * (Wrobust[row + t] as number);
      residual[row + t] = v;
      vv += v * v;
    }
    const vNorm = Math.sqrt(vv);
    const pNorm = Math.abs(b) * Math.sqrt(rr);
    residualNorm[i] = vNorm;
    robustPartNorm[i] = pNorm;
    const ratio = vNorm > 0 ? pNorm / vNorm : pNorm > 0 ? Infinity : NaN;
    normRatio[i] = ratio;
    if (!Number.isNaN(ratio)) {
      counted++;
      if (ratio > 1) above++;
    }
    cosCleanInit[i] = cosine(wz, ww, zz);
    cosRobustInit[i] = cosine(rz, rr, zz);
  }

  return {
    beta,
    residual,
    residualNorm,
    robustPartNorm,
    normRatio,
    shareAboveOne: counted > 0 ? above / counted : NaN,
    cosCleanInit,
    cosRobustInit,
  };
}
