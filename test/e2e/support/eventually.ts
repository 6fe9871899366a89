/**
 * Poll until an expectation about the page holds. Generous by default: the suite shares two cores
 * with training runs and the rest of the test suite, and a chart may take seconds to paint there.
 * Waiting on the state itself, never on a sleep, keeps the browser tests free of timing guesses.
 */
import { expect } from 'vitest';

export const eventually = <T>(read: () => Promise<T> | T, timeout = 30_000) => expect.poll(read, { timeout, interval: 100 });
