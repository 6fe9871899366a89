/** The setup form's sweep rows into the API's grid, as `--grid` reads values; problems name the row. */
import { describe, expect, it } from 'vitest';
import { isConfigPath } from '../../shared/configPath.ts';
import { sweepGrid } from '../../renderer/viewLogic/sweepDraft.ts';

describe('sweepGrid', () => {
  it('reads numbers, booleans, null and quoted text as JSON, anything else as text', () => {
    expect(sweepGrid([{ path: ' train.attack.eps ', values: '0.1, 0.2,0.3' }, { path: 'train.attack.norm', values: 'l2, "linf"' }, { path: 'train.attack.randomStart', values: 'true,false' }], isConfigPath)).toEqual({
      grid: [
        { path: 'train.attack.eps', values: [0.1, 0.2, 0.3] },
        { path: 'train.attack.norm', values: ['l2', 'linf'] },
        { path: 'train.attack.randomStart', values: [true, false] },
      ],
      problems: [],
    });
  });
  it('names the row of an unknown field or a row without values', () => {
    expect(sweepGrid([{ path: 'train.atack.eps', values: '0.1' }, { path: '', values: ' , ' }], isConfigPath).problems).toEqual([
      'grid row 1: "train.atack.eps" is not a config field',
      'grid row 2: name a config field, such as train.attack.eps',
      'grid row 2: give at least one value, separated by commas',
    ]);
    expect(sweepGrid([], isConfigPath).problems).toEqual(['add at least one grid row']);
  });
});
