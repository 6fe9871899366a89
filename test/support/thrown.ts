/**
 * The error an action throws (or a promise rejects with), checked to be of the expected class:
 * the test fails on anything else, or nothing. For the refusals whose messages a test then reads.
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

/** The error `promise` rejects with, checked to be a `type` (failing the test if it resolves, or rejects with anything else). */
export async function rejectionBy<E extends Error>(type: abstract new (...args: never[]) => E, promise: Promise<unknown>): Promise<E> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected a ${type.name}, but the promise resolved`);
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}
