/**
 * The input gradients at the clean test points, shared by the gradient attacks of one evaluation.
 * Every gradient attack without a random start takes its first step from the clean point, whatever
 * its radius: PGD's first gradient at every radius of the grid, and FGM's only one, are the same
 * gradient of the same model at the same points. So is the zero-gradient check of every attack,
 * random start or not (it is taken at the clean point). Computed once per chunk of test rows, on
 * the untiled rows, and reused; the attacks tile it over their radii.
 *
 * Rows are independent in every model's forward and backward pass, so a gradient row is the same
 * number whether it was computed among the chunk's rows or among the tiled ones (the pinned
 * evaluations check it bit for bit, test/engine/evaluationPin.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputGradientSession } from '../models/marginModel.ts';
import { readBack } from '../backend/readBack.ts';

/** Gradient values kept at most (64 MiB of float32); beyond, a chunk's gradient is recomputed by whoever needs it. */
const defaultKeptValues = 16 * 1024 * 1024;

export interface CleanPointChunk {
  /** The input gradient of the negative margin at the chunk's clean points [size, d], or null when not kept. */
  readonly gradient: tf.Tensor2D | null;
  /** Rows of the chunk whose gradient is exactly zero. */
  readonly zeroRows: number;
}

export class CleanPointGradients {
  private readonly chunks = new Map<string, { gradient: tf.Tensor2D | null; zeroRows: number }>();
  private keptValues = 0;

  /** For the test points `x` [N, d] with labels `y` [N], on the model as it is now; `keptValuesLimit` bounds the memory kept. */
  constructor(
    readonly x: tf.Tensor2D,
    readonly y: tf.Tensor1D,
    private readonly keptValuesLimit = defaultKeptValues,
  ) {}

  /**
   * Rows [start, start + size): their gradient (computed by `session`, a session on this model,
   * on first use) and their zero-gradient count. The gradient stays owned by this object.
   */
  at(session: InputGradientSession, start: number, size: number): CleanPointChunk {
    const key = `${start}:${size}`;
    const known = this.chunks.get(key);
    if (known) return known;
    const gradient = tf.tidy(() => {
      const xc = tf.slice(this.x, [start, 0], [size, -1]);
      const yc = tf.slice(this.y, [start], [size]);
      if (session.inputGradient) return session.inputGradient(xc, yc);
      const { margin, gradient } = session.marginGradient(xc, yc);
      margin.dispose();
      return gradient;
    });
    const zero = readBack(() => tf.cast(tf.equal(tf.max(tf.abs(gradient), 1), 0), 'float32'));
    let zeroRows = 0;
    for (let i = 0; i < size; i++) zeroRows += zero[i]!;
    const keep = this.keptValues + gradient.size <= this.keptValuesLimit;
    if (keep) this.keptValues += gradient.size;
    else gradient.dispose();
    const chunk = { gradient: keep ? gradient : null, zeroRows };
    this.chunks.set(key, chunk);
    return chunk;
  }

  dispose(): void {
    for (const { gradient } of this.chunks.values()) gradient?.dispose();
    this.chunks.clear();
    this.keptValues = 0;
  }
}
