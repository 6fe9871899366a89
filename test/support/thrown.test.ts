/** The thrown-error helper fails a test that throws nothing, or the wrong class. */
import { describe, expect, it } from 'vitest';
import { rejectionBy, thrownBy } from './thrown.ts';

class ShapeError extends Error {}

describe('thrownBy', () => {
  it('returns the error of the expected class', () => {
    const error = new ShapeError('W is 3 × 4, expected 2 × 4');
    expect(thrownBy(ShapeError, () => {
      throw error;
    })).toBe(error);
  });

  it('fails when nothing is thrown, naming the class it expected', () => {
    expect(() => thrownBy(ShapeError, () => 1)).toThrow('expected a ShapeError, but nothing was thrown');
  });

  it('fails when another class is thrown', () => {
    expect(() =>
      thrownBy(ShapeError, () => {
        throw new TypeError('not a shape');
      }),
    ).toThrow(/instance of ShapeError|ShapeError/);
  });
});

describe('rejectionBy', () => {
  it('returns the rejection of the expected class', async () => {
    const error = new ShapeError('no such run');
    expect(await rejectionBy(ShapeError, Promise.reject(error))).toBe(error);
  });

  it('fails when the promise resolves, or rejects with another class', async () => {
    await expect(rejectionBy(ShapeError, Promise.resolve(1))).rejects.toThrow('expected a ShapeError, but the promise resolved');
    await expect(rejectionBy(ShapeError, Promise.reject(new TypeError('not a shape')))).rejects.toThrow(/ShapeError/);
  });
});
