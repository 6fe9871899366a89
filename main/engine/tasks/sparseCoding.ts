/**
 * The paper's synthetic task (sparse coding):
 *   M in R^{d x D}, orthonormal columns (a random rotation when D = d);
 *   z in R^D sparse: exactly k non-zeros, or each coordinate non-zero with probability k/D;
 *     non-zero values are uniform signs times a magnitude (1, |N(0,1)|, or U[0.5, 1.5]);
 *   y = sign(<w*, z>), w* in {+-1}^D;
 *   x = M z + xi, xi ~ N(0, sigma^2/d I).
 * A z with <w*, z> = 0 (possible unless k is odd with unit magnitudes) is redrawn, so every
 * label is +-1. Each part comes from its own seeded stream, so the train set does not change
 * when the test size does.
 */
import { dictionarySize, type SparseCodingTask } from '../../../shared/config.ts';
import { RandomStream } from '../random.ts';
import type { Dataset } from './dataset.ts';
import { householderQr, orthogonalFactor } from './householderQr.ts';

export interface SparseCodingData {
  readonly train: Dataset;
  readonly test: Dataset;
  /** M, [d, D] row-major, orthonormal columns. */
  readonly dictionary: Float64Array;
  /** w*, [D], entries +-1. */
  readonly teacher: Float32Array;
  readonly d: number;
  readonly atoms: number;
  /** Synthetic inputs are unbounded: attacks never clip them. */
  readonly dataRange: null;
}

/**
 * A d x D matrix with orthonormal columns: the Q of a Gaussian matrix's QR decomposition, with
 * column signs fixed by sign(diag R) so that Q is Haar-distributed (Mezzadri 2007).
 */
export function randomOrthonormal(d: number, atoms: number, rng: RandomStream): Float64Array {
  // Drawn row by row (the stream's order defines the task), stored column by column for the QR.
  const gaussian = new Float64Array(d * atoms);
  for (let i = 0; i < d; i++) for (let j = 0; j < atoms; j++) gaussian[j * d + i] = rng.normal();
  const qr = householderQr(gaussian, d, atoms);
  const q = orthogonalFactor(qr);
  const out = new Float64Array(d * atoms);
  for (let j = 0; j < atoms; j++) {
    const s = qr.rDiagonal[j]! < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) out[i * atoms + j] = s * q[j * d + i]!;
  }
  return out;
}

function drawMagnitude(task: SparseCodingTask, rng: RandomStream): number {
  switch (task.magnitude) {
    case 'one':
      return 1;
    case 'half-normal':
      return Math.abs(rng.normal());
    case 'uniform':
      return 0.5 + rng.uniform();
  }
}

/** Draw one sparse code into `z` (zeroed first); returns <w*, z>, never 0. */
function drawCode(task: SparseCodingTask, atoms: number, teacher: Float32Array, rng: RandomStream, z: Float64Array, support: Int32Array): number {
  for (;;) {
    z.fill(0);
    if (task.sparsity === 'exact') {
      // Partial Fisher–Yates: the first k entries of `support` become a uniform k-subset.
      for (let i = 0; i < atoms; i++) support[i] = i;
      for (let i = 0; i < task.k; i++) {
        const j = i + rng.integer(atoms - i);
        const t = support[i]!;
        support[i] = support[j]!;
        support[j] = t;
        z[support[i]!] = rng.sign() * drawMagnitude(task, rng);
      }
    } else {
      const p = task.k / atoms;
      for (let i = 0; i < atoms; i++) if (rng.uniform() < p) z[i] = rng.sign() * drawMagnitude(task, rng);
    }
    let score = 0;
    for (let i = 0; i < atoms; i++) score += teacher[i]! * z[i]!;
    if (score !== 0) return score;
  }
}

function drawSamples(task: SparseCodingTask, n: number, dictionary: Float64Array, teacher: Float32Array, rng: RandomStream): Dataset {
  const { d } = task;
  const atoms = dictionarySize(task);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const z = new Float64Array(atoms);
  const support = new Int32Array(atoms);
  const column = new Float64Array(d);
  const noiseScale = task.noise / Math.sqrt(d);
  for (let s = 0; s < n; s++) {
    y[s] = drawCode(task, atoms, teacher, rng, z, support) > 0 ? 1 : -1;
    column.fill(0);
    for (let j = 0; j < atoms; j++) {
      const zj = z[j]!;
      if (zj === 0) continue;
      for (let i = 0; i < d; i++) column[i] = column[i]! + dictionary[i * atoms + j]! * zj;
    }
    for (let i = 0; i < d; i++) x[s * d + i] = column[i]! + noiseScale * rng.normal();
  }
  return { x, y, n, d };
}

/** The dataset of a sparse-coding task: deterministic in (task, seed, testSize). */
export function sparseCodingTask(task: SparseCodingTask, seed: number, testSize: number): SparseCodingData {
  const atoms = dictionarySize(task);
  if (atoms > task.d) throw new RangeError(`task.atoms = ${atoms}: expected at most task.d = ${task.d}`);
  const dictionary = randomOrthonormal(task.d, atoms, RandomStream.derive(seed, 'task.dictionary'));
  const teacherRng = RandomStream.derive(seed, 'task.teacher');
  const teacher = new Float32Array(atoms);
  for (let i = 0; i < atoms; i++) teacher[i] = teacherRng.sign();
  const train = drawSamples(task, task.trainSize, dictionary, teacher, RandomStream.derive(seed, 'task.train'));
  const test = drawSamples(task, testSize, dictionary, teacher, RandomStream.derive(seed, 'task.test'));
  return { train, test, dictionary, teacher, d: task.d, atoms, dataRange: null };
}

/**
 * The mixture direction u: M w* / ||M w*|| for l2, sign(M w*) for linf. Moving every input
 * along -y u is the mixture-direction attack: it needs no optimisation, and it hurts exactly
 * as much as the neurons' mixtures line up with the label direction.
 */
export function mixtureDirection(data: { dictionary: Float64Array; teacher: Float32Array; d: number; atoms: number }, norm: 'l2' | 'linf'): Float32Array {
  const { d, atoms, dictionary, teacher } = data;
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < atoms; j++) s += dictionary[i * atoms + j]! * teacher[j]!;
    v[i] = s;
  }
  const out = new Float32Array(d);
  if (norm === 'linf') {
    for (let i = 0; i < d; i++) out[i] = Math.sign(v[i]!);
  } else {
    let n2 = 0;
    for (let i = 0; i < d; i++) n2 += v[i]! * v[i]!;
    const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
    for (let i = 0; i < d; i++) out[i] = v[i]! * inv;
  }
  return out;
}
