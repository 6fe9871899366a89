/**
 * The glossary: every term the issue asks for, with a formula; docs/glossary.md is the same text
 * as the app's; and the coherent share's formula is the instrument's (checked on numbers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dictionaryCoefficients, mixtureStats } from '../../main/engine/instruments/mixture.ts';
import { glossary, glossaryEntry, glossaryMarkdown } from '../../shared/glossary.ts';

describe('the glossary', () => {
  it('defines each quantity the views show, each with a formula', () => {
    expect(glossary.map((e) => e.id)).toEqual([
      'mixture-ratio',
      'coherence',
      'coherent-share',
      'participation-ratio',
      'decomposition',
      'effective-rank',
      'stable-rank',
      'mixture-direction-accuracy',
      'worst-case',
      'wilson-interval',
    ]);
    for (const e of glossary) {
      expect(e.formula.length, e.id).toBeGreaterThan(10);
      expect(e.id).toMatch(/^[a-z][a-z-]*$/);
    }
    expect(glossaryEntry('coherent-share').formula).toContain('κ_i = ⟨c_i off S_i, u_i⟩ / ‖c_i‖');
    expect(() => glossaryEntry('mixture')).toThrow(/no glossary entry "mixture": expected one of mixture-ratio/);
  });

  it('docs/glossary.md is generated from it (regenerate with glossaryMarkdown() when it changes)', () => {
    const file = readFileSync(new URL('../../docs/glossary.md', import.meta.url), 'utf8');
    expect(file).toBe(glossaryMarkdown());
    for (const e of glossary) expect(file).toContain(`<a id="${e.id}"></a>\n## ${e.term}\n\n    ${e.formula}`);
  });

  it("the coherent share's two formulas are the instrument's number", () => {
    // D = 3, M = identity, w* = (1, -1, 1); c = (2, -0.3, 0.4): principal atom 0, s_i = +1.
    const c = [2, -0.3, 0.4];
    const s = mixtureStats(dictionaryCoefficients(c, 1, 3, [1, 0, 0, 0, 1, 0, 0, 0, 1], 3), 1, 3, [1, -1, 1]);
    // <c_off, u> = (0.3 + 0.4) / sqrt(2); ||c|| = sqrt(4.25).
    const kappa = 0.7 / Math.sqrt(2) / Math.sqrt(4.25);
    expect(s.coherentShare[0]).toBeCloseTo(kappa, 14);
    expect(s.coherence[0]! * Math.sqrt(s.mixtureRatio[0]!)).toBeCloseTo(kappa, 14);
  });
});
