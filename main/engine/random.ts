/**
 * Seeded random streams. Every random draw of a run (data, init, shuffles, random starts) comes
 * from a named stream derived from the run's seed, so a run is reproducible, and its state is a
 * few integers that a checkpoint can save and restore.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128 bits of state, period 2^128 - 1, seeded through
 * splitmix32 so that nearby seeds give unrelated streams.
 */

/** The serialisable state of a stream: the four words, and a pending Box–Muller spare (or null). */
export interface RandomState {
  readonly words: readonly [number, number, number, number];
  readonly spareNormal: number | null;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a stream name, so `stream(seed, 'data')` and `stream(seed, 'init')` never overlap. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class RandomStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  private constructor(words: readonly [number, number, number, number], spareNormal: number | null = null) {
    [this.s0, this.s1, this.s2, this.s3] = words;
    this.spareNormal = spareNormal;
  }

  /** The stream called `name` of run seed `seed`. */
  static derive(seed: number, name: string): RandomStream {
    const next = splitmix32((seed >>> 0) ^ hashName(name));
    const state: [number, number, number, number] = [next(), next(), next(), next()];
    if (state.every((s) => s === 0)) state[0] = 1; // the all-zero state is a fixed point
    return new RandomStream(state);
  }

  static fromState(state: RandomState): RandomStream {
    return new RandomStream(state.words, state.spareNormal);
  }

  /** Continue from a checkpointed state, in place. */
  restore(state: RandomState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.words;
    this.spareNormal = state.spareNormal;
  }

  /** The state to checkpoint: restoring it continues the stream exactly. */
  get state(): RandomState {
    return { words: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spareNormal };
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  integer(n: number): number {
    if (!(n > 0 && n <= 2 ** 32)) throw new RangeError(`integer(n): n must be in (0, 2^32], got ${n}`);
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** +1 or -1 with equal probability. */
  sign(): number {
    return this.nextUint32() & 1 ? 1 : -1;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fill `out` with N(0, scale^2) draws. */
  fillNormal(out: Float32Array | Float64Array, scale = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * scale;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The random streams of a run's evaluations. Each has its own, so no number depends on what ran
 * before it:
 * - every phase-end evaluation (`after-clean`, `final`) draws from a fresh stream named for it,
 *   so the final numbers are the same whether or not robust accuracy was also measured during
 *   training (`eval.every`), and whatever a resumed run skipped;
 * - the robust accuracies measured during training share one stream, `eval.epochs`, whose
 *   state is checkpointed (a resumed run continues it exactly).
 */
export const epochEvaluationStreamName = 'eval.epochs';

/** The random starts of the transfer attacks between a run's models (attacks/transfer.ts). */
export const transferStreamName = 'eval.transfer';

/** The random starts of the attacks behind the adversarial pictures (attacks/adversarialPictures.ts). */
export const adversarialPicturesStreamName = 'eval.pictures';

/** The fresh stream of the evaluation labelled `label` of a run with seed `seed`. */
export function evaluationStream(seed: number, label: 'after-clean' | 'final'): RandomStream {
  return RandomStream.derive(seed, `eval.${label}`);
}
