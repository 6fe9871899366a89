/**
 * How many jobs compute at once (main/lab/jobCount.ts chooses the default): the bound every side
 * checks against, and what the engine tells the UI about it.
 */

/**
 * The most jobs at once that anyone may ask for: each is a worker with its own tfjs instance
 * (about 100 to 200 MiB), so far more than any workstation's cores is only a way to run out of memory.
 */
export const maxJobs = 64;

/** The jobs setting as the engine reports it (the `jobs.settings` method). */
export interface JobSettings {
  /** Jobs at once now. */
  readonly jobs: number;
  /** What it would be unset: physical cores, less one with the UI open. */
  readonly defaultJobs: number;
  readonly physicalCores: number;
  readonly maxJobs: number;
}
