/**
 * Flags for evaluations that cannot be trusted, after AutoAttack's practice (Croce & Hein 2020):
 *   zero-gradient        samples whose input gradient is exactly zero: gradient attacks leave
 *                        them in place, so their robustness is unmeasured, not proven;
 *   noise-beats-gradient the random-noise attack breaks samples that every gradient attack
 *                        missed (masked gradients or a mis-tuned attack);
 *   not-monotone         robust accuracy rises with eps (a stronger adversary cannot do worse).
 * Each flag is computed from per-sample results, and says how many samples and where.
 */
import type { TrustFlag } from '../../../shared/events.ts';
import type { PgdResult } from './pgd.ts';

/** Binomial slack: rises smaller than this (2 standard errors at p = 1/2) are noise, not a flag. */
function slack(n: number): number {
  return 2 * Math.sqrt(0.25 / Math.max(n, 1));
}

export function trustFlags(input: {
  readonly n: number;
  readonly eps: readonly number[];
  /** Per-sample success of each gradient attack (PGD, FGM), by radius. */
  readonly gradientAttacks: readonly PgdResult[];
  readonly noise: PgdResult | null;
  /** Per-sample worst case over every attack, by radius. */
  readonly worstCase: readonly Uint8Array[];
  /** Zero-gradient samples at the clean point. */
  readonly zeroGradient: number;
}): TrustFlag[] {
  const flags: TrustFlag[] = [];
  const { n, eps } = input;
  if (input.zeroGradient > 0) {
    flags.push({
      code: 'zero-gradient',
      message: `${input.zeroGradient} of ${n} samples have a zero input gradient (every neuron below its threshold): gradient attacks leave them in place, so their robustness is not measured by those attacks`,
      samples: input.zeroGradient,
    });
  }
  if (input.noise && input.gradientAttacks.length > 0) {
    let worstK = -1;
    let worstCount = 0;
    eps.forEach((_, k) => {
      let count = 0;
      for (let i = 0; i < n; i++) {
        if (input.noise!.success[k]![i] && input.gradientAttacks.every((a) => !a.success[k]![i])) count++;
      }
      if (count > worstCount) {
        worstCount = count;
        worstK = k;
      }
    });
    if (worstCount > 0) {
      flags.push({
        code: 'noise-beats-gradient',
        message: `random noise broke ${worstCount} of ${n} samples at eps ${eps[worstK]} that no gradient attack broke: the gradient attacks are masked or mis-tuned there`,
        samples: worstCount,
        eps: eps[worstK]!,
      });
    }
  }
  const accuracy = input.worstCase.map((s) => 1 - s.reduce((a, v) => a + v, 0) / n);
  for (let k = 1; k < accuracy.length; k++) {
    if (eps[k]! > eps[k - 1]! && accuracy[k]! > accuracy[k - 1]! + slack(n)) {
      flags.push({
        code: 'not-monotone',
        message: `robust accuracy rises from ${accuracy[k - 1]!.toFixed(3)} at eps ${eps[k - 1]} to ${accuracy[k]!.toFixed(3)} at eps ${eps[k]}: a larger radius cannot make a model more robust, so the attack failed at the larger one`,
        samples: Math.round((accuracy[k]! - accuracy[k - 1]!) * n),
        eps: eps[k]!,
      });
    }
  }
  return flags;
}
