/**
 * The phase marks every per-neuron distribution chart draws over epochs (mixture accumulation,
 * participation and coherence, roughness): the adversarial shade and the boundary line in each
 * panel, and the phases the legend names.
 */
import { describe, expect, it } from 'vitest';
import { theme } from '../../shared/charts/palette.ts';
import { phaseMarks } from '../../shared/charts/phaseMarks.ts';

const t = theme('light');
const snapshot = (globalEpoch: number, phase: string) => ({ globalEpoch, phase });
/** Each mark as [series id, its x span or line, its axes, whether labelled]. */
const described = (series: ReturnType<typeof phaseMarks>['series']) =>
  series.map((s) => {
    const area = s.markArea?.data as { xAxis: number }[][] | undefined;
    const line = s.markLine?.data as { xAxis: number }[] | undefined;
    const label = (s.markLine?.label as { show?: boolean } | undefined)?.show;
    return [s.id, area ? area[0]!.map((p) => p.xAxis) : line!.map((p) => p.xAxis), [s.xAxisIndex, s.yAxisIndex], label];
  });

describe('phase marks of a distribution over epochs', () => {
  const fineTune = [snapshot(0, 'init'), snapshot(3, 'clean'), snapshot(4, 'adversarial'), snapshot(5, 'adversarial')];

  it('shades the adversarial phase from the boundary to the last snapshot and draws the boundary, in one panel', () => {
    const marks = phaseMarks(fineTune, 3, ['clean', 'adversarial'], t);
    expect(marks.last).toBe(5);
    expect(described(marks.series)).toEqual([
      ['adversarial-phase-0', [3, 5], [undefined, undefined], undefined],
      ['phase-boundary-0', [3], [undefined, undefined], true],
    ]);
    expect(marks.legendPhases).toEqual(['clean', 'adversarial']);
  });

  it('in two stacked panels: a shade for each, then a boundary for each, labelled in the first only', () => {
    const marks = phaseMarks(fineTune, 3, ['clean', 'adversarial'], t, 2);
    expect(described(marks.series)).toEqual([
      ['adversarial-phase-0', [3, 5], [0, 0], undefined],
      ['adversarial-phase-1', [3, 5], [1, 1], undefined],
      ['phase-boundary-0', [3], [0, 0], true],
      ['phase-boundary-1', [3], [1, 1], false],
    ]);
  });

  it('a run still in its clean phase has no shade, and the legend does not name the adversarial phase', () => {
    const marks = phaseMarks([snapshot(0, 'init'), snapshot(2, 'clean')], null, ['clean', 'adversarial'], t);
    expect(marks.series).toEqual([]);
    expect(marks.legendPhases).toEqual(['clean']);
    expect(marks.last).toBe(2);
  });

  it('a run adversarial throughout is shaded from its first snapshot; the boundary is at the last one: no shade after it', () => {
    expect(described(phaseMarks([snapshot(1, 'adversarial'), snapshot(4, 'adversarial')], null, ['adversarial'], t).series)).toEqual([
      ['adversarial-phase-0', [1, 4], [undefined, undefined], undefined],
    ]);
    const atEnd = phaseMarks([snapshot(0, 'init'), snapshot(3, 'clean')], 3, ['clean'], t);
    expect(described(atEnd.series)).toEqual([['phase-boundary-0', [3], [undefined, undefined], true]]);
    expect(atEnd.legendPhases).toEqual(['clean']);
  });
});
