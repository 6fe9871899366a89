/**
 * The error an action throws, checked to be of the expected class: the test fails if it throws
 * anything else, or nothing. For the refusals whose messages a test then reads.
 */
import { expect } from 'vitest';

export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, act: () => unknown): E {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
