/**
 * Read a file the user named (weights, a dataset): a folder, a missing file or an unreadable one
 * is a FileFormatError that names the path and says a file was expected, never a bare "EISDIR".
 */
import { readFileSync, statSync } from 'node:fs';
import { FileFormatError } from '../../engine/fileFormatError.ts';

/**
 * The bytes of `path`.
 * @param what what the file should be, for the message ("the weights", "the dataset")
 */
export function readInputFile(path: string, what: string): Uint8Array {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? `cannot read ${what}: no such file` : `cannot read ${what}: ${(error as Error).message}`);
  }
  if (!isFile) throw new FileFormatError(path, `cannot read ${what}: this is a folder (or another non-file); expected a file`);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new FileFormatError(path, `cannot read ${what}: ${(error as Error).message}`);
  }
}
