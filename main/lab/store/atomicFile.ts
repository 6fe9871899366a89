/**
 * Files that a crash or a full disk leaves either as they were or complete: written to a
 * temporary file beside the target, fsynced, then renamed over it (rename is atomic on one file
 * system). A write that fails removes its temporary file, and says which file it was.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFailure } from './storeError.ts';

/** The temporary file of a write in progress by process `pid`: `NAME.tmp-PID`. */
export const temporaryFileOf = (path: string, pid = process.pid): string => `${path}.tmp-${pid}`;

/** A leftover temporary file's owner pid (a `*.tmp-PID` name), or null. */
export function temporaryFileOwner(name: string): number | null {
  const match = /\.tmp-(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** Write a file so that a crash leaves either the old content or the new one, never a mix. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = temporaryFileOf(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw writeFailure(error, path, `the folder ${dirname(path)}`);
  }
}
