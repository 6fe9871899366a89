/**
 * The errors the run store throws, and the translation of the system's own write failures (a
 * full disk, a read-only file system) into sentences a user can act on. A full disk shows up two
 * ways: Node's ENOSPC for files, SQLite's SQLITE_FULL for the database; both mean the same thing.
 */

export class StoreError extends Error {
  override name = 'StoreError';
}

/** Nothing more could be written: the disk (or the quota) holding the store is full. */
export class DiskFullError extends StoreError {
  override name = 'DiskFullError';
}

/** Another process held the store's write lock past the wait (runStore.ts's busyTimeoutMs). */
export class StoreBusyError extends StoreError {
  override name = 'StoreBusyError';
}

/** The database fails its integrity check: its runs are safe in their folders, the index is not. */
export class StoreDamagedError extends StoreError {
  override name = 'StoreDamagedError';
}

const code = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');

/** ENOSPC (a file) or SQLITE_FULL (the database), also as EDQUOT (a quota). */
export function isDiskFull(error: unknown): boolean {
  return ['ENOSPC', 'EDQUOT', 'SQLITE_FULL'].includes(code(error)) || code(error).startsWith('SQLITE_IOERR_SHM');
}

/** The file system or the database file refuses writes. */
/** Another connection held the write lock past the busy timeout ("database is locked"). */
export function isBusy(error: unknown): boolean {
  return code(error) === 'SQLITE_BUSY' || code(error).startsWith('SQLITE_BUSY_');
}

export function isReadOnly(error: unknown): boolean {
  const c = code(error);
  return c === 'EROFS' || c === 'EACCES' || c === 'EPERM' || c.startsWith('SQLITE_READONLY');
}

/** SQLite's "the file is not a database" or "malformed" (a damaged file). */
export function isCorrupt(error: unknown): boolean {
  const c = code(error);
  return c.startsWith('SQLITE_CORRUPT') || c === 'SQLITE_NOTADB';
}

/**
 * A write that failed, as a StoreError that says what could not be saved and what to do; errors
 * that are neither a full disk, a read-only file system nor a lock held past the wait of
 * `waitedMs` are returned as they are.
 */
export function writeFailure(error: unknown, what: string, where: string, waitedMs?: number): unknown {
  if (error instanceof StoreError) return error;
  if (isBusy(error) && waitedMs !== undefined) {
    return new StoreBusyError(`Another process held the write lock of ${where} for ${waitedMs / 1000} s: ${what} could not be saved. Stop the process that holds it (or let it finish) and try again`);
  }
  if (isDiskFull(error)) {
    return new DiskFullError(`The disk holding ${where} is full: ${what} could not be saved. Free some space and try again (a run it stopped continues with \`npm run lab -- resume ID\`)`);
  }
  if (isReadOnly(error)) return new StoreError(`${where} cannot be written (${code(error)}): ${what} could not be saved`);
  return error;
}
