/** Every robust figure with its radius, norm and attack; runs compared at one radius from their curves. */
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import type { Accuracy, Evaluation } from '../../shared/events.ts';
import { presetByName } from '../../shared/presets.ts';
import { commonEpsChoices, comparisonEps, epsText, robustAtEps, robustFigure, robustSetting, settingText } from '../../shared/robustSetting.ts';

const acc = (estimate: number): Accuracy => ({ estimate, lower: estimate - 0.02, upper: estimate + 0.02, n: 2000 });

function evaluation(norm: 'l2' | 'linf', eps: number[], pgd: number[], worst: number[], mixture: number[]): Evaluation {
  const curve = (attack: string, values: number[]) => ({ attack, eps, accuracy: values.map(acc), zeroGradient: eps.map(() => 0) });
  return {
    label: 'final',
    globalEpoch: 60,
    norm,
    cleanAccuracy: acc(0.9),
    robustAccuracy: acc(pgd[pgd.length - 1]!),
    mixtureDirectionAccuracy: acc(mixture[mixture.length - 1]!),
    curves: [curve('PGD-20 (l2, step 2.5·eps/20)', pgd), curve('FGM (l2)', pgd), curve('mixture direction (l2)', mixture)],
    worstCase: curve('worst case over PGD-20, FGM', worst),
    attacks: ['PGD-20 (l2, step 2.5·eps/20)', 'FGM (l2)'],
    flags: [],
  };
}

describe('the setting of a robust figure', () => {
  it('names the radius, norm and evaluation attack of a run', () => {
    const flagship = robustSetting(resolveExperiment({}));
    expect(flagship).toEqual({ eps: 0.3, norm: 'l2', attack: 'PGD-20', image: false });
    expect(robustFigure(0.4987, flagship)).toBe('0.499 @ l2 0.3, PGD-20');
    const at01 = robustSetting(resolveExperiment({ eval: { eps: 0.1 } }));
    expect(robustFigure(0.785, at01)).toBe('0.785 @ l2 0.1, PGD-20');
    expect(settingText(robustSetting(resolveExperiment({ eval: { attacks: [{ kind: 'pgd', steps: 10, restarts: 3, randomStart: true }] } })))).toBe('l2 0.3, PGD-10 ×3');
    expect(settingText(robustSetting(resolveExperiment({ eval: { norm: 'linf', attacks: [{ kind: 'fgm' }] } })))).toBe('linf 0.3, FGSM');
  });

  it('writes image radii as fractions of 255', () => {
    const cifar = robustSetting(resolveExperiment(presetByName('cifar-cnn').config));
    expect(settingText(cifar)).toBe('linf 2/255, PGD-10');
    expect(epsText(1 / 255, true)).toBe('1/255');
    expect(epsText(0.1, true)).toBe('0.1'); // 25.5 levels: not a whole number of them
    expect(epsText(0, true)).toBe('0');
    expect(epsText(0.1 + 0.2, false)).toBe('0.3');
  });
});

describe('runs at one radius', () => {
  // Run A was set up at eps 0.1, run B at eps 0.3: the headline figures are not comparable, the curves are.
  const a = evaluation('l2', [0, 0.1, 0.2, 0.3], [0.9, 0.785, 0.6, 0.43], [0.9, 0.78, 0.59, 0.42], [0.9, 0.85, 0.8, 0.74]);
  const b = evaluation('l2', [0, 0.1, 0.2, 0.3, 0.4, 0.5], [0.88, 0.8, 0.65, 0.499, 0.4, 0.33], [0.88, 0.79, 0.64, 0.49, 0.39, 0.32], [0.88, 0.86, 0.82, 0.77, 0.7, 0.62]);

  it('reads each run at the picked radius from its curves', () => {
    const atA = robustAtEps(a, 0.3, 'l2');
    const atB = robustAtEps(b, 0.3, 'l2');
    expect(atA).toMatchObject({ measured: true, attackName: 'PGD-20', attack: acc(0.43), worstCase: acc(0.42), mixtureDirection: acc(0.74) });
    expect(atB).toMatchObject({ measured: true, attack: acc(0.499), worstCase: acc(0.49) });
    // The sum 0.1 + 0.2 is the grid's 0.3.
    expect(robustAtEps(a, 0.1 + 0.2, 'l2')).toMatchObject({ measured: true, attack: acc(0.43) });
  });

  it('says where a run has no measurement: a radius off its grid, another norm, no evaluation', () => {
    expect(robustAtEps(a, 0.5, 'l2')).toEqual({ measured: false, reason: 'not measured at ε 0.5 (its grid: 0, 0.1, 0.2, 0.3)' });
    expect(robustAtEps(evaluation('linf', [0, 0.1], [1, 0.5], [1, 0.5], [1, 0.9]), 0.1, 'l2')).toEqual({ measured: false, reason: 'measured in linf, not l2' });
    expect(robustAtEps(undefined, 0.1, 'l2')).toEqual({ measured: false, reason: 'not evaluated yet' });
  });

  it('offers every radius of the runs, flagging those every run measured', () => {
    expect(commonEpsChoices([a, b], 'l2')).toEqual([
      { eps: 0, everyRun: true },
      { eps: 0.1, everyRun: true },
      { eps: 0.2, everyRun: true },
      { eps: 0.3, everyRun: true },
      { eps: 0.4, everyRun: false },
      { eps: 0.5, everyRun: false },
    ]);
  });

  it('starts a comparison at a radius every run measured, follows the runs as they load, and keeps the user\'s pick', () => {
    // Run A (its own radius 0.1, grid to 0.2) and run B (0.3, grid to 0.5), as in the story test.
    const shortA = evaluation('l2', [0, 0.1, 0.2], [0.9, 0.7, 0.5], [0.9, 0.69, 0.49], [0.9, 0.8, 0.7]);
    const headline = [0.1, 0.3];
    // B's evaluation read first: nothing is shared yet, so it starts at B's largest radius...
    const early = commonEpsChoices([undefined, b], 'l2');
    expect(comparisonEps(early, headline, null)).toBe(0.5);
    // ...and once A's is read, at the larger headline radius both measured: A's 0.1, not a radius
    // A has none at (the start is not sticky: 0.5 and 0.3 are still among the choices).
    const both = commonEpsChoices([shortA, b], 'l2');
    expect(both.map((c) => c.eps)).toContain(0.3);
    expect(comparisonEps(both, headline, null)).toBe(0.1);
    // The user's pick stays while the choices hold it, even one not every run measured...
    expect(comparisonEps(both, headline, 0.4)).toBe(0.4);
    // ...and gives way to the start when they do not (another norm's radii, say).
    expect(comparisonEps(both, headline, 0.7)).toBe(0.1);
    expect(comparisonEps([], headline, null)).toBeNull();
  });
});

