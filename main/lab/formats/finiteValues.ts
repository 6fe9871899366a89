/**
 * Every number read from a weights or dataset file must be finite: a NaN or an infinity would
 * flow silently into every margin and make the numbers wrong (NaN > 0 is false, so a NaN model
 * reads as "0 clean, 1 robust"). The first bad value is named by its index in the tensor.
 */
import type { ElementArray } from './elements.ts';
import { FileFormatError } from '../../engine/fileFormatError.ts';

/**
 * Check that every value is finite, naming the first that is not by its index in the tensor.
 * `original` (when given) holds the values before rounding to float32, for the overflow message.
 */
export function requireFinite(name: string, values: Float32Array | Float64Array, shape: readonly number[], file: string, original?: ElementArray): void {
  for (let k = 0; k < values.length; k++) {
    const value = values[k]!;
    if (Number.isFinite(value)) continue;
    const index = shape.length === 2 ? `${Math.floor(k / shape[1]!)}, ${k % shape[1]!}` : String(k);
    const stored = original?.[k];
    const before = stored === undefined ? undefined : Number(stored);
    if (before !== undefined && Number.isFinite(before)) {
      throw new FileFormatError(file, `${name}[${index}] = ${before} does not fit in float32 (largest about 3.4e38)`);
    }
    throw new FileFormatError(file, `${name}[${index}] is ${value}: every entry of ${name} must be a finite number`);
  }
}
