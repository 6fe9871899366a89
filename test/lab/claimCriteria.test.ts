/**
 * The claims' criteria say why a difference is enough (issue 17): C2 holds only when the robust
 * gain is above the test set's noise, C1 only when kappa rose by more than chance and robust
 * accuracy is below clean by more than noise.
 */
import { describe, expect, it } from 'vitest';
import { accumulationHolds, accuracyNoise, kappaNoise, purificationHolds } from '../../main/lab/paper/claims/claimCriteria.ts';
import { claimMeta } from '../../shared/paper.ts';

describe('claim criteria', () => {
  it('the noise bounds: two binomial standard errors at p = 1/2; twice the spread of a median of m random kappas', () => {
    expect(accuracyNoise(2000)).toBeCloseTo(0.02236, 5);
    expect(accuracyNoise(1000)).toBeCloseTo(0.03162, 5);
    expect(kappaNoise(128, 128)).toBeCloseTo(2.5 / 128, 12);
  });

  it('C2 holds for a gain above the noise (quick: +0.085 at n = 1000), not for a smaller one that is still a gain', () => {
    expect(purificationHolds(0.414, 0.499, 1000)).toBe(true);
    expect(purificationHolds(0.414, 0.434, 2000)).toBe(false);
    expect(purificationHolds(0.5, 0.49, 2000)).toBe(false);
    expect(purificationHolds(NaN, 0.5, 2000)).toBeNull();
  });

  it('C1 holds when kappa rose past chance and robust is below clean past noise', () => {
    const noise = { kappa: kappaNoise(128, 128), accuracy: accuracyNoise(2000) };
    expect(accumulationHolds({ init: 0.004, afterClean: 0.358 }, { clean: 0.934, robust: 0.331 }, noise)).toBe(true);
    expect(accumulationHolds({ init: 0.004, afterClean: 0.015 }, { clean: 0.934, robust: 0.331 }, noise)).toBe(false);
    expect(accumulationHolds({ init: 0.004, afterClean: 0.358 }, { clean: 0.9, robust: 0.89 }, noise)).toBe(false);
    expect(accumulationHolds({ init: NaN, afterClean: 0.358 }, { clean: 0.9, robust: 0.5 }, noise)).toBeNull();
  });

  it('every criterion says what it compares with what, and C1 and C2 name their noise bound', () => {
    for (const c of Object.values(claimMeta)) expect(c.criterion, c.id).toMatch(/^holds when /);
    expect(claimMeta.C1.criterion).toMatch(/coherent mixture share κ[\s\S]*2 × 1\.25\/√\(m·D\)[\s\S]*2√\(0\.25\/n\)/);
    expect(claimMeta.C2.criterion).toMatch(/by more than the test set's noise[\s\S]*2√\(0\.25\/n\), about 0\.022 at n = 2000/);
  });
});
