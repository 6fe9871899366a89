/**
 * The Paper page asks for C3 against dimension (issue 15): the field's text and the route's
 * settings reach the params of paper.* as dimensions; none unless asked.
 */
import { describe, expect, it } from 'vitest';
import { defaultPaperSettings, paperParams, parseDimensions, settingsFromRoute } from '../../renderer/viewLogic/paperRequest.ts';

describe('the Paper page\'s dimensions', () => {
  it('parses the field: numbers, nothing, or a named problem', () => {
    expect(parseDimensions('64, 128 256')).toEqual({ dimensions: [64, 128, 256] });
    expect(parseDimensions('  ')).toEqual({ dimensions: [] });
    expect(parseDimensions('64, x')).toEqual({ problem: { where: 'dimensions', message: expect.stringMatching(/^"64, x": expected positive whole numbers/) } });
  });

  it('goes from the route into the params; absent by default', () => {
    const settings = settingsFromRoute({ preset: 'paper-scale', dimensions: [64, 1024], sets: [] });
    expect(paperParams(settings, {})).toEqual({ preset: 'paper-scale', seeds: 3, ranks: [1, 2, 4, 8], dimensions: [64, 1024] });
    expect(paperParams(defaultPaperSettings, {})).not.toHaveProperty('dimensions');
  });
});
