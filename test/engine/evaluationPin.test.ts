/**
 * Issue 13, item 3: the cheaper evaluation measures exactly what the old one did. Each pinned run
 * (../support/evaluationPin.ts) reproduces, number for number, the measurements the engine
 * recorded before the attacks shared their forward passes (../fixtures/evaluationPin.json).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pinFile, pinnedMeasurements, pinnedRuns } from '../support/evaluationPin.ts';

describe('the evaluation measures what it measured before it was made cheaper', () => {
  const before = JSON.parse(readFileSync(pinFile, 'utf8')) as Record<string, unknown>;
  let now: Record<string, unknown>;
  beforeAll(async () => {
    now = await pinnedMeasurements();
  }, 300_000);

  for (const { name } of pinnedRuns) {
    it(`${name}: every metric, snapshot, evaluation and summary is bit-identical`, () => {
      expect(before[name]).toBeDefined();
      expect(now[name]).toEqual(before[name]);
    });
  }
});
