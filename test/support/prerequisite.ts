/**
 * Something a test needs from the machine (NumPy, Chromium). Where it is missing, the tests that
 * need it are skipped, saying why, on a developer's machine; under CI (CI=true) they run and fail
 * with that reason instead, so a suite that passes in CI has run every test.
 *
 *   describe.skipIf(numpy.skip)('...', () => {
 *     beforeAll(() => numpy.require());
 */
export interface Prerequisite {
  /** What is needed, in words ("NumPy"). */
  readonly name: string;
  /** Why it is missing, or null when it is there. */
  readonly missing: string | null;
  /** Skip the tests that need it: only when it is missing and this is not CI. */
  readonly skip: boolean;
  /** Throws the reason where it is missing (CI reaches this; elsewhere the tests were skipped). */
  require(): void;
}

export const inCi = process.env.CI === 'true';

export function prerequisite(name: string, missing: string | null, ci = inCi): Prerequisite {
  if (missing !== null && !ci) console.warn(`skipped: the tests that need ${name}, because ${missing}`);
  return {
    name,
    missing,
    skip: missing !== null && !ci,
    require() {
      if (missing !== null) throw new Error(`${name} is needed here but ${missing}`);
    },
  };
}
