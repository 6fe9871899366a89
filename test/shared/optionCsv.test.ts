import { describe, expect, it } from 'vitest';
import { optionCsv } from '../../shared/charts/optionCsv.ts';

describe('optionCsv', () => {
  it('writes one row per series point and leaves band edges and the boundary marker out', () => {
    const csv = optionCsv({
      series: [
        { type: 'line', name: 'clean, run "a"', data: [[0, 0.5], [1, 0.75]] },
        { type: 'line', id: 'claim-0-lower', name: 'clean, run "a"', data: [[0, 0.4]] },
        { type: 'line', id: 'phase-boundary-0', data: [] },
        { type: 'bar', name: 'robust', data: [0.25, { value: 0.5 }] },
      ],
    });
    expect(csv).toBe('series,x,y\n"clean, run ""a""",0,0.5\n"clean, run ""a""",1,0.75\nrobust,0,0.25\nrobust,1,0.5\n');
  });
});
