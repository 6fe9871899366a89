/**
 * The CLI's exit status for an error: 2 for bad input the user can fix (the command line, a
 * config, a file, a backend that cannot load, a store that cannot be used), 3 for a network
 * that died in training, 1 for anything else (a full disk included: nothing to fix in the input).
 *
 * By class name, not instanceof: a run computes in a worker, and its failure reaches the CLI as
 * the error's name and message (jobs.ts's status update, jobHost/wireError.ts), so one table
 * serves the errors a verb throws and those a run failed with. Every class below sets its name.
 */
const exitCodes: Readonly<Record<string, number>> = {
  UsageError: 2,
  ConfigError: 2,
  FileFormatError: 2,
  BackendError: 2,
  StoreError: 2,
  StoreDamagedError: 2,
  JobFolderError: 2,
  SlurmSetupError: 2,
  SubmitError: 2,
  ImportError: 2,
  DiskFullError: 1,
  DeadNetworkError: 3,
};

/** The exit status for an error of this class name; 1 for a class the table does not know. */
export function exitCodeOf(errorName: string | undefined): number {
  return (errorName !== undefined && Object.hasOwn(exitCodes, errorName) ? exitCodes[errorName] : undefined) ?? 1;
}

/** Whether the error's message alone says it all (a known class): otherwise the stack is shown too. */
export function isExpectedError(error: unknown): error is Error {
  return error instanceof Error && Object.hasOwn(exitCodes, error.name);
}
