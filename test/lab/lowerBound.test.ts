/**
 * Claim C4's check on constructed numbers (main/lab/lowerBound.ts, the C4 builder of
 * main/lab/paper/claims/c4LowerBound.ts and the verdict of `lab baselines`): a baseline counts
 * only if it learned (clean accuracy at most 0.05 below the network's); one that did not is named
 * and makes the verdict undecided, unless a baseline that learned is as robust as the network
 * (then C4 fails).
 * The caption names every baseline, the quadratic one included.
 */
import { describe, expect, it } from 'vitest';
import type { BaselineKind, BaselineResult, BaselineTraining } from '../../main/engine/baselines.ts';
import { baselinesTable } from '../../main/lab/cli/verbs/baselines.ts';
import { baselineDescriptions, learnedTolerance } from '../../main/lab/lowerBound.ts';
import { claimC4 } from '../../main/lab/paper/claims/c4LowerBound.ts';
import type { ClaimContext } from '../../main/lab/paper/claims/claimContext.ts';
import { planPaper } from '../../main/lab/paper/plan.ts';
import type { Accuracy, Evaluation, ModelSummary, RunSummary } from '../../shared/events.ts';
import { presetByName } from '../../shared/presets.ts';
import type { RunResult } from '../../shared/result.ts';

const quick = presetByName('quick').config;
const specs = planPaper({ preset: 'quick', presetConfig: quick, input: quick, seeds: 2, ranks: [1] });
const eps = specs.main.eval.eps;

const accuracy = (estimate: number): Accuracy => ({ estimate, lower: estimate, upper: estimate, n: 1000 });

/** What C4 reads of a network's summary: its final clean and worst-case accuracies. */
function networkSummary(clean: number, robust: number): RunSummary {
  const model: ModelSummary = {
    cleanAccuracy: clean,
    robustAccuracy: robust,
    worstCaseRobustAccuracy: robust,
    mixtureDirectionAccuracy: NaN,
    mixtureRatioMedian: NaN,
    participationRatioMedian: NaN,
    coherenceMedian: NaN,
    intervals: { cleanAccuracy: [clean, clean], robustAccuracy: [robust, robust], worstCaseRobustAccuracy: [robust, robust], mixtureDirectionAccuracy: [NaN, NaN] },
    testSize: 1000,
  };
  return { final: model } as RunSummary;
}

/** A baseline's result as runBaselines reports it, with an evaluation at `eps` alone. */
function baseline(kind: BaselineKind, training: BaselineTraining, clean: number, robust: number): BaselineResult {
  const evaluation = {
    label: 'final',
    attacks: ['PGD-20 (l2, step 2.5·eps/20)'],
    cleanAccuracy: accuracy(clean),
    robustAccuracy: accuracy(robust),
    worstCase: { attack: 'worst case', eps: [eps], accuracy: [accuracy(robust)] },
  } as unknown as Evaluation;
  return { kind, training, lr: 0.5, epochs: 30, finalLoss: 0.1, summary: { cleanAccuracy: clean, robustAccuracy: robust, worstCaseRobustAccuracy: robust }, evaluation };
}

type Row = readonly [BaselineKind, BaselineTraining, number, number];

/** Every kind, clean and adversarial, each learned, each well below a network at 0.90 clean / 0.50 robust. */
const allLearned: readonly Row[] = [
  ['linear', 'clean', 0.99, 0.24],
  ['linear', 'adversarial', 0.88, 0.31],
  ['quadratic', 'clean', 0.97, 0.24],
  ['quadratic', 'adversarial', 0.89, 0.2],
  ['random-features', 'clean', 0.9, 0.3],
  ['random-features', 'adversarial', 0.86, 0.33],
  ['tangent', 'clean', 0.93, 0.3],
  ['tangent', 'adversarial', 0.87, 0.35],
];

/** Two seeds of the network and the baselines; the second seed 0.01 below the first everywhere. */
function context(network: readonly [number, number], rows: readonly Row[]): ClaimContext {
  const seedResults = [0, 0.01].map((shift) => ({ main: { summary: networkSummary(network[0] - shift, network[1] - shift) } as RunResult }));
  const baselines = [0, 0.01].map((shift) => rows.map(([kind, training, clean, robust]) => baseline(kind, training, clean - shift, robust - shift)));
  return { specs, config: specs.main, settings: specs.settings, results: seedResults, baselines };
}

const replace = (rows: readonly Row[], kind: BaselineKind, clean: number, robust: number): Row[] => rows.map((r) => (r[0] === kind ? [r[0], r[1], clean, robust] : r));

describe("C4's check", () => {
  it('holds when every baseline learned and stays below the network', () => {
    const built = claimC4(context([0.9, 0.5], allLearned));
    expect(built.check.holds).toBe(true);
    expect(built.check.text).toBe(`worst-case robust accuracy at eps ${eps}: network 0.495 ± 0.007 (clean 0.895 ± 0.007); best baseline that learned (tangent, adversarial) 0.345 ± 0.007 (clean 0.865 ± 0.007)`);
  });

  it('is undecided when random features never learned, though they are below the network, and names them', () => {
    // The probe's case: random features at a loss of 0.63-0.66 (log 2 = 0.69) classify little better than chance.
    const rows = replace(allLearned, 'random-features', 0.62, 0.45);
    const built = claimC4(context([0.9, 0.5], rows));
    expect(built.check.holds).toBeNull();
    expect(built.check.text).toMatch(/undecided: these baselines did not learn \(clean accuracy more than 0\.05 below the network's\): random-features, clean \(clean 0\.615 ± 0\.007\), random-features, adversarial \(clean 0\.615 ± 0\.007\)$/);
    expect(built.caption).toContain("Did not learn (clean accuracy more than 0.05 below the network's, so they do not count): random-features, clean; random-features, adversarial.");
  });

  it('fails when a baseline that learned is as robust as the network, whatever the others did', () => {
    const rows = replace(replace(allLearned, 'random-features', 0.62, 0.45), 'tangent', 0.9, 0.52);
    const built = claimC4(context([0.9, 0.5], rows));
    expect(built.check.holds).toBe(false);
    expect(built.check.text).toMatch(/best baseline that learned \(tangent, clean\) 0\.515 ± 0\.007 \(clean 0\.895 ± 0\.007\): as robust as the network$/);
  });

  it('counts a baseline exactly 0.05 below the network, and not one further below', () => {
    const at = replace(allLearned, 'quadratic', 0.9 - learnedTolerance, 0.2);
    expect(claimC4(context([0.9, 0.5], at)).check.holds).toBe(true);
    const below = replace(allLearned, 'quadratic', 0.9 - learnedTolerance - 0.002, 0.2);
    const built = claimC4(context([0.9, 0.5], below));
    expect(built.check.holds).toBeNull();
    expect(built.check.text).toMatch(/: quadratic, clean \(clean 0\.843 ± 0\.007\), quadratic, adversarial \(clean 0\.843 ± 0\.007\)$/);
  });

  it('is undecided when a value is missing', () => {
    const built = claimC4(context([0.9, 0.5], replace(allLearned, 'linear', NaN, NaN)));
    expect(built.check.holds).toBeNull();
  });

  it('names every baseline in the caption, the quadratic one included', () => {
    const built = claimC4(context([0.9, 0.5], allLearned));
    for (const kind of ['linear', 'quadratic', 'random-features', 'tangent'] as const) expect(built.caption).toContain(baselineDescriptions[kind]);
    expect(built.caption).toMatch(/quadratic/);
    expect(built.csv.split('\n').slice(1, -1).map((line) => /^"[^"]*"/.exec(line)?.[0])).toEqual(['"network, fine-tuned"', ...allLearned.map(([k, t]) => `"${k}, ${t}"`)]);
  });
});

describe('the verdict of `lab baselines`', () => {
  const network = networkSummary(0.9, 0.5);
  const table = (rows: readonly Row[]) => baselinesTable(specs.main, network, rows.map(([k, t, c, r]) => baseline(k, t, c, r)));

  it('is the same check: holds, undecided naming the baselines that did not learn, or does not hold', () => {
    expect(table(allLearned).split('\n').at(-1)).toMatch(/^C4 holds here: worst-case robust accuracy at eps 0\.3: network 0\.500 \(clean 0\.900\); best baseline that learned \(tangent, adversarial\) 0\.350/);
    expect(table(replace(allLearned, 'random-features', 0.62, 0.45)).split('\n').at(-1)).toMatch(
      /^C4 is undecided here: .*did not learn .*: random-features, clean \(clean 0\.620\), random-features, adversarial \(clean 0\.620\)\.$/,
    );
    expect(table(replace(allLearned, 'linear', 0.95, 0.6)).split('\n').at(-1)).toMatch(/^C4 does NOT hold here: .*best baseline that learned \(linear, clean\) 0\.600/);
  });
});
