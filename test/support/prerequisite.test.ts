/**
 * A missing prerequisite skips its tests on a developer's machine and fails them in CI, with the
 * reason; the machine's own NumPy is found where Debian puts it.
 */
import { describe, expect, it } from 'vitest';
import { numpy, numpyPython, python } from './numpy.ts';
import { prerequisite } from './prerequisite.ts';

describe('a prerequisite', () => {
  it('that is missing skips outside CI and fails in CI, naming what and why', () => {
    const outside = prerequisite('NumPy', 'no python3 can import numpy', false);
    expect(outside.skip).toBe(true);
    const ci = prerequisite('NumPy', 'no python3 can import numpy', true);
    expect(ci.skip).toBe(false);
    expect(() => ci.require()).toThrow('NumPy is needed here but no python3 can import numpy');
  });

  it('that is there runs everywhere', () => {
    for (const inCi of [false, true]) {
      const there = prerequisite('Chromium', null, inCi);
      expect(there.skip).toBe(false);
      expect(() => there.require()).not.toThrow();
    }
  });
});

describe.skipIf(numpy.skip)('NumPy on this machine', () => {
  it('is imported by the Python the round trips call, Debian\'s first', () => {
    numpy.require();
    expect(['/usr/bin/python3', 'python3']).toContain(numpyPython);
    expect(python('import numpy; print(numpy.arange(3).sum())').trim()).toBe('3');
  });
});
