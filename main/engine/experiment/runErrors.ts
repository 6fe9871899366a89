/** The two ways a run stops before its end that callers tell apart (the CLI's exit codes, the job queue). */

/** The network is dead at initialisation (instruments.deadNetwork = 'stop'): nothing would train. */
export class DeadNetworkError extends Error {
  override name = 'DeadNetworkError';
}

/** The run was cancelled between epochs (its checkpoint was handed over first). */
export class RunCancelledError extends Error {
  override name = 'RunCancelledError';
}
