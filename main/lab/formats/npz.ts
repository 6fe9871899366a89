/**
 * NumPy's .npz format: a zip archive with one `<name>.npy` entry per array, stored
 * (numpy.savez) or deflated (numpy.savez_compressed).
 */
import { unzipSync, zipSync, type UnzipFileInfo } from 'fflate';
import { FileFormatError } from '../../engine/fileFormatError.ts';
import { decodeNpy, encodeNpy, type NdArray } from './npy.ts';

/** An entry name for a message: quoted and escaped (a corrupt directory yields names with control characters), and clipped. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name);
}

/** DEFLATE cannot expand data more than about 1032:1; a claimed size beyond that is a corrupt directory, not data. */
const maxDeflateRatio = 1032;

/**
 * Read the arrays of an .npz archive. Entry names lose their `.npy` suffix (`x.npy` → `x`);
 * directory entries are skipped; any other entry is an error, as is a corrupt archive (the
 * message names the entry being unpacked) or a bad .npy entry (the message names the entry and
 * what is wrong with it). Sizes in the zip directory are checked before anything is unpacked.
 * @param bytes the whole file
 * @param file names the file in errors
 * @returns the arrays by name
 */
export function decodeNpz(bytes: Uint8Array, file: string): Record<string, NdArray> {
  // fflate trusts the zip directory; the filter sees each entry before it is unpacked, so the
  // sizes it claims are checked here (a corrupt size would otherwise mean a huge allocation).
  const expected = new Map<string, UnzipFileInfo>();
  let current: string | undefined;
  const filter = (entry: UnzipFileInfo): boolean => {
    current = entry.name;
    if (entry.name.endsWith('/')) return false;
    if (!entry.name.endsWith('.npy')) throw new FileFormatError(file, `entry ${quoted(entry.name)} is not an array: an .npz archive holds only <name>.npy entries`);
    if (entry.compression !== 0 && entry.compression !== 8) {
      throw new FileFormatError(file, `entry ${quoted(entry.name)} uses zip compression method ${entry.compression}: expected 0 (stored) or 8 (deflated)`);
    }
    const sizesOk =
      Number.isSafeInteger(entry.size) &&
      Number.isSafeInteger(entry.originalSize) &&
      entry.size >= 0 &&
      entry.size <= bytes.length &&
      (entry.compression === 0 ? entry.originalSize === entry.size : entry.originalSize <= entry.size * maxDeflateRatio + 1024);
    if (!sizesOk) {
      throw new FileFormatError(file, `entry ${quoted(entry.name)} claims ${entry.size} bytes in the archive and ${entry.originalSize} unpacked, which cannot be right for a ${bytes.length}-byte file (corrupt zip?)`);
    }
    expected.set(entry.name, entry);
    return true;
  };

  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    const where = current === undefined ? 'before any entry was reached' : `the last entry reached was ${quoted(current)}`;
    throw new FileFormatError(file, `not a valid .npz (zip) archive: ${(error as Error).message}; ${where} (truncated or corrupt?)`);
  }

  const arrays: [string, NdArray][] = [];
  for (const [entryName, info] of expected) {
    const content = entries[entryName];
    if (content === undefined || content.length !== info.originalSize) {
      throw new FileFormatError(file, `entry ${quoted(entryName)} should unpack to ${info.originalSize} bytes but gave ${content?.length ?? 0} (truncated?)`);
    }
    try {
      arrays.push([entryName.slice(0, -'.npy'.length), decodeNpy(content, file)]);
    } catch (error) {
      if (!(error instanceof FileFormatError)) throw error;
      throw new FileFormatError(file, `entry ${quoted(entryName)}: ${error.problem}`);
    }
  }
  // fromEntries defines own properties, so an array named "__proto__" stays an array.
  return Object.fromEntries(arrays);
}

/**
 * Write arrays as an .npz archive like numpy.savez: one stored (uncompressed) `<name>.npy`
 * entry per array, each encoded by encodeNpy. Entry times are fixed (1980-01-01, the zip epoch)
 * so the same arrays always give the same bytes.
 * @param arrays the arrays by name (a name must be non-empty)
 * @param file names the output in errors (the path it is for, when there is one)
 */
export function encodeNpz(arrays: Record<string, NdArray>, file = 'npz output'): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  const mtime = new Date(1980, 0, 1);
  for (const [name, array] of Object.entries(arrays)) {
    if (name === '') throw new FileFormatError(file, 'an array has an empty name: every .npz entry needs a name');
    let npy: Uint8Array;
    try {
      npy = encodeNpy(array, file);
    } catch (error) {
      if (!(error instanceof FileFormatError)) throw error;
      throw new FileFormatError(file, `array "${name}": ${error.problem}`);
    }
    entries[`${name}.npy`] = [npy, { level: 0, mtime }];
  }
  return zipSync(entries);
}
