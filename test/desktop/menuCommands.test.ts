/** The native menu's commands in the window: which view, or which runs to export (renderer/router.ts's hash routes). */
import { describe, expect, it } from 'vitest';
import { menuAction, runIdsInView } from '../../main/desktop/menuCommands.ts';

describe('menu commands', () => {
  it('reads the runs in view from the hash route', () => {
    expect(runIdsInView('#/runs/20260101-000000-abcd')).toEqual(['20260101-000000-abcd']);
    expect(runIdsInView('#/compare?runs=aaaa-1111,bbbb-2222')).toEqual(['aaaa-1111', 'bbbb-2222']);
    expect(runIdsInView('#/compare')).toEqual([]);
    expect(runIdsInView('#/runs')).toEqual([]);
    expect(runIdsInView('#/setup')).toEqual([]);
    expect(runIdsInView('')).toEqual([]);
  });

  it('turns each command into a navigation or an export', () => {
    expect(menuAction('new-experiment', '#/runs/x')).toEqual({ navigate: '#/setup' });
    expect(menuAction('open-run', '#/setup', '20260101-000000-abcd')).toEqual({ navigate: '#/runs/20260101-000000-abcd' });
    expect(menuAction('open-run', '#/setup')).toBeNull();
    expect(menuAction('compare', '#/runs/aaaa-1111')).toEqual({ navigate: '#/compare?runs=aaaa-1111' });
    expect(menuAction('compare', '#/setup')).toEqual({ navigate: '#/compare' });
    expect(menuAction('paper', '#/runs/aaaa-1111')).toEqual({ navigate: '#/paper' });
    expect(menuAction('export', '#/compare?runs=aaaa-1111,bbbb-2222')).toEqual({ exportRuns: ['aaaa-1111', 'bbbb-2222'] });
    expect(menuAction('export', '#/setup')).toEqual({ exportRuns: [] }); // every run
  });
});
