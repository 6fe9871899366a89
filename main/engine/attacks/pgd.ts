/**
 * Projected gradient descent (Madry et al.), l2 or linf, on any margin model: the one PGD loop of
 * the engine. Evaluation attacks, training attacks and FGM (one step of size eps) all run it.
 *
 * Each step moves along the input gradient of the negative margin (the loss gradient up to a
 * positive per-sample factor), projects onto the eps-ball and, optionally, clips to the data
 * range; the step itself is a strategy (./pgdStep.ts) that the model's input-gradient session
 * chooses: tfjs ops on any backend, or the fused wasm kernels, the same maths in one sweep.
 *
 * Radii are per row, so one call attacks a whole eps grid at once: the batch is tiled once per
 * radius and every step is a single pair of large matMuls (foolbox 3 takes a list of epsilons
 * the same way).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../../shared/config.ts';
import type { InputGradientSession, MarginModel } from '../models/marginModel.ts';
import type { RandomStream } from '../random.ts';
import { CleanPointGradients } from './cleanPointGradients.ts';
import { gaussianRow } from './gaussianRow.ts';
import { tensorPgdStep, type PgdStep } from './pgdStep.ts';
import { repeatRows } from './repeatRows.ts';

export interface PgdOptions {
  /** Radii to attack at (each >= 0). */
  readonly eps: readonly number[];
  readonly norm: Norm;
  /** Steps per restart (FGM is 1 step of size eps). */
  readonly steps: number;
  /** Step size; null or undefined means stepScale * eps for each radius. */
  readonly stepSize?: number | null;
  /** Step size relative to each radius when stepSize is not given; default 2.5 / steps. */
  readonly stepScale?: number;
  readonly randomStart?: boolean;
  /** Independent restarts; per sample the lowest final margin is kept. */
  readonly restarts?: number;
  /** Data range [lo, hi] to clip into, or null. */
  readonly clip?: readonly [number, number] | null;
  /** Needed for random starts. */
  readonly rng?: RandomStream;
  /** Rows per chunk for large eval sets (bounds memory). */
  readonly rowsPerChunk?: number;
}

export interface PgdResult {
  readonly eps: readonly number[];
  /** Per radius, per sample: 1 when the attacked sample is misclassified (margin <= 0). */
  readonly success: readonly Uint8Array[];
  /** Per radius, per sample: the final margin. */
  readonly margins: readonly Float32Array[];
  /** Per radius: samples whose input gradient was zero at the start point (left in place). */
  readonly zeroGradient: readonly number[];
}

/** Check an attack's arguments and name the bad one. */
export function checkAttackArguments(model: MarginModel, x: tf.Tensor2D, y: tf.Tensor1D, options: PgdOptions): void {
  if (x.rank !== 2 || x.shape[1] !== model.inputDim) {
    throw new RangeError(`x has shape [${x.shape}]: expected [N, ${model.inputDim}]`);
  }
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new RangeError(`y has shape [${y.shape}]: expected [${x.shape[0]}]`);
  if (options.eps.length === 0) throw new RangeError('eps: expected at least one radius');
  for (const e of options.eps) if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`eps ${e}: expected a finite radius >= 0`);
  if (options.norm !== 'l2' && options.norm !== 'linf') throw new RangeError(`norm "${String(options.norm)}": expected l2 or linf`);
  if (!(Number.isInteger(options.steps) && options.steps >= 1)) throw new RangeError(`steps ${options.steps}: expected an integer >= 1`);
  if (options.stepSize != null && !(options.stepSize > 0)) throw new RangeError(`stepSize ${options.stepSize}: expected > 0`);
  const restarts = options.restarts ?? 1;
  if (!(Number.isInteger(restarts) && restarts >= 1)) throw new RangeError(`restarts ${restarts}: expected an integer >= 1`);
  if (options.randomStart && !options.rng) throw new RangeError('randomStart needs an rng');
  if (options.clip && !(options.clip[0] < options.clip[1])) throw new RangeError(`clip [${options.clip}]: expected lo < hi`);
}

/**
 * A random start in the ball, drawn on the host from `rng` (so it is reproducible and its state
 * checkpoints): uniform in the linf cube, or uniform in the l2 ball (direction Gaussian, radius
 * eps U^{1/d}). Returns the offsets delta [rows, d].
 */
export function randomStart(rows: number, d: number, eps: Float32Array, norm: Norm, rng: RandomStream): tf.Tensor2D {
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const e = eps[r]!;
    if (norm === 'linf') {
      for (let j = 0; j < d; j++) out[r * d + j] = (2 * rng.uniform() - 1) * e;
    } else {
      gaussianRow(out, r * d, d, rng, (length) => (e * rng.uniform() ** (1 / d)) / length);
    }
  }
  return tf.tensor2d(out, [rows, d]);
}

/**
 * The loop, on rows that carry their own radius: x0 [R, d], y [R], eps and alpha [R]. From x0, or
 * from a random start in the ball; T steps of the session's input gradient, each followed by the
 * session's PGD step (./pgdStep.ts). Returns the adversarial inputs and, as a scalar tensor, the
 * count of zero-gradient rows at the start point. Nothing is read back from the device here, so
 * training can call it every step. `firstGradient`, when given, is the input gradient at x0 (the
 * caller computed it already, ./cleanPointGradients.ts): the first step takes it instead of
 * computing it again; it needs the start at x0 (no random start), and stays the caller's.
 */
export function pgdRows(
  session: InputGradientSession,
  x0: tf.Tensor2D,
  y: tf.Tensor1D,
  eps: Float32Array,
  alpha: Float32Array,
  options: Pick<PgdOptions, 'norm' | 'steps' | 'randomStart' | 'clip' | 'rng'>,
  firstGradient: tf.Tensor2D | null = null,
): { x: tf.Tensor2D; zeroGradient: tf.Scalar } {
  if (firstGradient && options.randomStart) throw new RangeError('firstGradient: a random start does not begin at x0');
  const [rows, d] = x0.shape;
  const step = session.pgdStep ?? tensorPgdStep;
  return tf.tidy(() => {
    const start = options.randomStart ? randomStart(rows, d, eps, options.norm, options.rng!) : null;
    if (session.pgdRun) return session.pgdRun(x0, y, eps, alpha, start, { norm: options.norm, steps: options.steps, clip: options.clip });
    const run = pgdFrom(step, x0, eps, alpha, start, options);
    while (run.left > 0) {
      const given = run.left === options.steps ? firstGradient : null;
      const gradient = given ?? inputGradient(session, run.point(), y);
      run.advance(gradient);
      if (!given) gradient.dispose();
    }
    return run.finish();
  });
}

/**
 * pgdRows's loop, one step at a time, for a caller that gets the gradients elsewhere: a stack of
 * models (../training/stackedTrainer.ts) takes every member's gradient of a step in one kernel
 * call, then advances each member's attack with its own.
 */
export interface PgdInProgress {
  /** Steps left. */
  readonly left: number;
  /** Where the next gradient is taken. */
  point(): tf.Tensor2D;
  /** One PGD step along the input gradient at point() (the caller keeps the gradient). */
  advance(gradient: tf.Tensor2D): void;
  /** The adversarial rows and the zero-gradient count at the start, once no steps are left. */
  finish(): { x: tf.Tensor2D; zeroGradient: tf.Scalar };
}

/** PGD from `start` (null: x0) with the step strategy `step`: options.steps steps, each given its gradient. */
function pgdFrom(
  step: PgdStep,
  x0: tf.Tensor2D,
  eps: Float32Array,
  alpha: Float32Array,
  start: tf.Tensor2D | null,
  options: Pick<PgdOptions, 'norm' | 'steps' | 'clip'>,
): PgdInProgress {
  const iterate = step.begin(x0, eps, alpha, start, { norm: options.norm, clip: options.clip });
  let taken = 0;
  return {
    get left() {
      return options.steps - taken;
    },
    point: () => iterate.point(),
    advance(gradient) {
      iterate.advance(gradient, taken === 0);
      taken += 1;
    },
    finish: () => iterate.finish(),
  };
}

/** pgdRows's attack begun but not driven: the random start drawn here (from options.rng, as pgdRows draws it). */
export function beginPgdRows(
  step: PgdStep,
  x0: tf.Tensor2D,
  eps: Float32Array,
  alpha: Float32Array,
  options: Pick<PgdOptions, 'norm' | 'steps' | 'randomStart' | 'clip' | 'rng'>,
): PgdInProgress {
  if (options.randomStart && !options.rng) throw new RangeError('randomStart needs an rng');
  const start = options.randomStart ? randomStart(x0.shape[0], x0.shape[1], eps, options.norm, options.rng!) : null;
  const run = pgdFrom(step, x0, eps, alpha, start, options);
  start?.dispose();
  return run;
}

/** The input gradient alone: the session's cheaper path when it has one. */
function inputGradient(session: InputGradientSession, x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor2D {
  if (session.inputGradient) return session.inputGradient(x, y);
  const { margin, gradient } = session.marginGradient(x, y);
  margin.dispose();
  return gradient;
}

/** The per-radius step size: the given one, or stepScale * eps (default 2.5 eps / steps). */
export function stepSizeFor(eps: number, steps: number, stepSize: number | null | undefined, stepScale?: number): number {
  return stepSize ?? (stepScale ?? 2.5 / steps) * eps;
}

/**
 * PGD against `model` at every radius of `options.eps`, with restarts. Returns per-sample
 * success and final margins per radius, and the zero-gradient counts.
 *
 * The gradient at the clean points is taken once per chunk, on the untiled rows: it gives the
 * zero-gradient count of every radius and, without a random start, the first step of every
 * radius. `cleanPoint` shares it with the other attacks of an evaluation on the same model and
 * test points (./cleanPointGradients.ts); without, the attack keeps its own.
 */
export function pgdAttack(model: MarginModel, x: tf.Tensor2D, y: tf.Tensor1D, options: PgdOptions, cleanPoint?: CleanPointGradients): PgdResult {
  checkAttackArguments(model, x, y, options);
  const n = x.shape[0];
  const E = options.eps.length;
  const restarts = options.restarts ?? 1;
  const chunk = Math.max(1, Math.floor((options.rowsPerChunk ?? 40_000) / E));
  const success = options.eps.map(() => new Uint8Array(n));
  const margins = options.eps.map(() => new Float32Array(n).fill(Infinity));
  const zeroGradient = options.eps.map(() => 0);
  if (cleanPoint && (cleanPoint.x !== x || cleanPoint.y !== y)) throw new RangeError('cleanPoint: its gradients are of other test points');
  const atCleanPoint = cleanPoint ?? new CleanPointGradients(x, y);
  const session = model.openInputGradient();
  try {
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const rows = size * E;
      const eps = new Float32Array(rows);
      const alpha = new Float32Array(rows);
      options.eps.forEach((e, k) => {
        eps.fill(e, k * size, (k + 1) * size);
        alpha.fill(stepSizeFor(e, options.steps, options.stepSize, options.stepScale), k * size, (k + 1) * size);
      });
      const clean = atCleanPoint.at(session, start, size);
      // Zero-gradient rows at the clean point: the same rows at every radius.
      for (let k = 0; k < E; k++) zeroGradient[k]! += clean.zeroRows;
      const [xs, ys] = tf.tidy(() => {
        const xc = tf.slice(x, [start, 0], [size, -1]);
        const yc = tf.slice(y, [start], [size]);
        return [repeatRows(xc, E), repeatRows(yc, E)];
      });
      const first = clean.gradient && !options.randomStart ? repeatRows(clean.gradient, E) : null;
      for (let r = 0; r < restarts; r++) {
        const { x: xAdv, zeroGradient: zero } = pgdRows(session, xs, ys, eps, alpha, options, r === 0 ? first : null);
        const m = tf.tidy(() => (session.margin ? session.margin(xAdv, ys) : session.marginGradient(xAdv, ys).margin));
        const values = m.dataSync();
        for (let k = 0; k < E; k++) {
          for (let i = 0; i < size; i++) {
            const v = values[k * size + i]!;
            if (v < margins[k]![start + i]!) margins[k]![start + i] = v;
          }
        }
        tf.dispose([xAdv, zero, m]);
      }
      tf.dispose([xs, ys]);
      first?.dispose();
    }
  } finally {
    session.dispose();
    if (!cleanPoint) atCleanPoint.dispose();
  }
  for (let k = 0; k < E; k++) for (let i = 0; i < n; i++) success[k]![i] = margins[k]![i]! <= 0 ? 1 : 0;
  return { eps: [...options.eps], success, margins, zeroGradient };
}

/**
 * One training batch's adversarial version at a single radius, left on the device (no reads).
 */
export function pgdPerturb(
  model: Pick<MarginModel, 'openInputGradient'>,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: { eps: number; norm: Norm; steps: number; stepSize?: number | null; stepScale?: number; randomStart?: boolean; clip?: readonly [number, number] | null; rng?: RandomStream },
): tf.Tensor2D {
  const rows = x.shape[0];
  const session = model.openInputGradient();
  try {
    const eps = new Float32Array(rows).fill(options.eps);
    const alpha = new Float32Array(rows).fill(stepSizeFor(options.eps, options.steps, options.stepSize, options.stepScale));
    const { x: xAdv, zeroGradient } = pgdRows(session, x, y, eps, alpha, options);
    zeroGradient.dispose();
    return xAdv;
  } finally {
    session.dispose();
  }
}
