/**
 * Adversarial pictures: what an attack does to a few chosen test inputs, on each model of a run
 * (after clean training, and the final model). For each model the attack's output x + δ is kept
 * as it came out of the attack; δ is derived from it (deltaOf), so an export holds exactly what
 * the attack produced.
 *
 * On the sparse-coding task the dictionary M makes δ readable: its coefficients M^T δ, beside the
 * mixture direction's M^T u (u = M w* / ||M w*|| for l2). The paper's picture: a clean-trained
 * network's perturbation follows the dense mixture direction, a robust one's must act on the
 * sample's own sparse features.
 */
import type { Norm } from './config.ts';

export interface AdversarialModelExamples {
  /** "after clean", "after fine-tuning" or "final". */
  readonly label: string;
  /** The attack's output x + δ, [n, inputDim] row-major. */
  readonly adversarial: readonly number[];
  /** Predicted labels on x and on x + δ, [n]. The binary net predicts sign f(x); 0 means f(x) = 0, no class (counted wrong). */
  readonly cleanPrediction: readonly number[];
  readonly prediction: readonly number[];
  /** Sparse coding: the coefficients M^T δ, [n, atoms]. */
  readonly coefficients?: readonly number[];
}

export interface AdversarialExamples {
  /** The attack that produced every x + δ, e.g. "PGD-20 (l2, step 2.5·eps/20)". */
  readonly attack: string;
  readonly eps: number;
  readonly norm: Norm;
  /** The samples' positions in the test set, and their labels. */
  readonly indices: readonly number[];
  readonly labels: readonly number[];
  readonly inputDim: number;
  /** Image tasks: how a row reshapes to a picture (row-major, channel last); null for vectors. */
  readonly picture: { readonly height: number; readonly width: number; readonly channels: number } | null;
  /** The data range the attack clipped to, or null. */
  readonly dataRange: readonly [number, number] | null;
  /** The clean inputs x, [n, inputDim]. */
  readonly x: readonly number[];
  readonly models: readonly AdversarialModelExamples[];
  /** Sparse coding: the dictionary's view of the samples and of the mixture direction. */
  readonly dictionary?: {
    readonly atoms: number;
    /** M^T u, u the mixture direction of the evaluation norm (unit l2 norm, or sign(M w*) for linf). */
    readonly mixture: readonly number[];
    /** The samples' own coefficients M^T x, [n, atoms]. */
    readonly features: readonly number[];
  };
}

/** Row i of a row-major [n, width] array. */
export function rowOf(values: readonly number[], i: number, width: number): number[] {
  return values.slice(i * width, (i + 1) * width);
}

/** δ = (x + δ) − x, in float32 as the attack computed it. */
export function deltaOf(examples: Pick<AdversarialExamples, 'x'>, model: Pick<AdversarialModelExamples, 'adversarial'>): number[] {
  return model.adversarial.map((v, i) => Math.fround(v - (examples.x[i] as number)));
}

/** cos(a, b); 0 when either is zero. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] as number) * (b[i] as number);
    aa += (a[i] as number) ** 2;
    bb += (b[i] as number) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
