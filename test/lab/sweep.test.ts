/**
 * The sweep's logic outside the CLI (main/lab/sweep.ts): the --grid syntax, the pure expansion
 * into members (grid points in order x seeds, each resolved), and the table of mean ± std over
 * seeds per grid point. The CLI flow (test/lab/cliStore.test.ts) runs a sweep end to end.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { RunSummary } from '../../shared/events.ts';
import type { RunRecord } from '../../main/lab/store/runStore.ts';
import { expandSweep, parseGrid, sweepName, sweepTable } from '../../main/lab/sweep.ts';
import { thrownBy } from '../support/thrown.ts';

const base: ExperimentInput = { task: { kind: 'sparse-coding', d: 24 }, model: { kind: 'two-layer', width: 12 } };

/** The ConfigError `act` throws (failing the test on anything else, or nothing). */
const thrown = (act: () => unknown) => thrownBy(ConfigError, act);

describe('parseGrid', () => {
  it('reads PATH=V1,V2 and PATH=[JSON list], values typed as --set types them', () => {
    expect(parseGrid(['train.attack.eps=0.1, 0.2', 'model.width=8,16', 'train.protocol=fine-tune,scratch'])).toEqual([
      ['train.attack.eps', [0.1, 0.2]],
      ['model.width', [8, 16]],
      ['train.protocol', ['fine-tune', 'scratch']],
    ]);
    expect(parseGrid(['model.width=[8, 16]'])).toEqual([['model.width', [8, 16]]]);
    expect(parseGrid([])).toEqual([]);
  });

  it('refuses a missing "=", an unknown path (naming the closest) and an empty list, as ConfigErrors', () => {
    expect(thrown(() => parseGrid(['train.attack.eps'])).message).toBe('--grid "train.attack.eps": expected PATH=V1,V2,..., for example --grid train.attack.eps=0.1,0.2,0.3');
    expect(thrown(() => parseGrid(['train.atack.eps=0.1'])).message).toBe('--grid: unknown config path "train.atack.eps": did you mean "train.attack.eps"?');
    expect(thrown(() => parseGrid(['model.width=[]'])).message).toBe('--grid "model.width=[]": expected at least one value');
  });
});

describe('expandSweep', () => {
  const grid = [['train.attack.eps', [0.2, 0.3]], ['model.width', [8, 16]]] as const;

  it('is every grid point, in order, crossed with seeds firstSeed.., each resolved over the base', () => {
    const before = structuredClone(base);
    const members = expandSweep(base, grid, 2, 5);
    expect(members.map((m) => [m.pointIndex, m.point, m.seed])).toEqual([
      [0, { 'train.attack.eps': 0.2, 'model.width': 8 }, 5],
      [0, { 'train.attack.eps': 0.2, 'model.width': 8 }, 6],
      [1, { 'train.attack.eps': 0.2, 'model.width': 16 }, 5],
      [1, { 'train.attack.eps': 0.2, 'model.width': 16 }, 6],
      [2, { 'train.attack.eps': 0.3, 'model.width': 8 }, 5],
      [2, { 'train.attack.eps': 0.3, 'model.width': 8 }, 6],
      [3, { 'train.attack.eps': 0.3, 'model.width': 16 }, 5],
      [3, { 'train.attack.eps': 0.3, 'model.width': 16 }, 6],
    ]);
    expect(members[3]!.name).toBe('train.attack.eps=0.2 model.width=16 · seed 6');
    // Each member is the base with its point and seed set, and resolves as that input would.
    const third = members[3]!;
    expect(third.input).toEqual({ task: { kind: 'sparse-coding', d: 24 }, model: { kind: 'two-layer', width: 16 }, train: { attack: { eps: 0.2 } }, seed: 6 });
    expect(third.config).toEqual(resolveExperiment(third.input));
    expect(third.config).toMatchObject({ train: { attack: { eps: 0.2 } }, model: { width: 16 }, seed: 6, task: { d: 24 } });
    expect(base).toEqual(before); // pure: the base is not changed
    expect(expandSweep(base, grid, 2, 5)).toEqual(members); // and the same every time
  });

  it('one seed from 0 by default; an empty grid is the base alone', () => {
    expect(expandSweep(base, [], 1).map((m) => [m.point, m.seed, m.name])).toEqual([[{}, 0, ' · seed 0']]);
    expect(expandSweep(base, [['model.width', [8]]], 3).map((m) => m.config.seed)).toEqual([0, 1, 2]);
  });

  it('a bad value anywhere stops the whole expansion, naming the member and the field', () => {
    expect(thrown(() => expandSweep(base, [['train.attack.eps', [0.2, 'big']]], 1)).message).toMatch(/^Invalid sweep member \{"train\.attack\.eps":"big"\} seed 0:\n {2}train\.attack\.eps = "big": expected a finite number/);
    expect(thrown(() => expandSweep(base, [], 0)).message).toBe('seeds = 0: expected an integer >= 1');
  });
});

describe('sweepName and sweepTable', () => {
  it('names the sweep by its grid and seeds', () => {
    expect(sweepName([['train.attack.eps', [0.2, 0.3]], ['model.width', [8]]], 3)).toBe('sweep train.attack.eps=0.2,0.3 model.width=8 x 3 seeds');
  });

  it('one row per point, each metric the mean ± sample std over the finished seeds', () => {
    const model = (clean: number, robust: number) => ({ cleanAccuracy: clean, robustAccuracy: robust, mixtureDirectionAccuracy: 0.5, mixtureRatioMedian: 0.25 });
    const run = (summary: Partial<RunSummary> | null) => ({ summary }) as RunRecord;
    const decomposition = (shareAboveOne: number) => ({ shareAboveOne }) as RunSummary['decomposition'];
    const table = sweepTable(
      [{ 'train.attack.eps': 0.2 }, { 'train.attack.eps': 0.3 }],
      [
        [run({ final: model(0.8, 0.4), decomposition: decomposition(0.25) } as RunSummary), run({ final: model(0.9, 0.6), afterClean: model(0.9, 0.1), decomposition: decomposition(0.75) } as RunSummary)],
        [run({ final: model(0.7, 0.5) } as RunSummary), run(null)],
      ],
    );
    expect(table.split('\n')).toEqual([
      "train.attack.eps   seeds           clean          robust     mixture-dir   mixture ratio   robust after clean   share ||beta w'|| > ||v||",
      '0.2                    2   0.850 ± 0.071   0.500 ± 0.141   0.500 ± 0.000   0.250 ± 0.000                0.100               0.500 ± 0.354',
      '0.3                    1           0.700           0.500           0.500           0.250                    -                           -',
    ]);
  });
});
