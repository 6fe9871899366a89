/**
 * K two-layer networks of the same shapes (width m, input dimension d, threshold mode, optimiser
 * kind) training as ONE program on the kernel threads (../kernels/threadPool.ts): every member's
 * W, thresholds, moments and batch live in the pool's shared memory, and one call of the stacked
 * phase (../kernels/assembly/stacked.ts) makes a training step of every member, as one call of the
 * stacked input-gradient phase makes one PGD step of every member's training attack. Each call
 * hands the phase a table of member descriptors (pointers and the member's own scalars: lr, rho,
 * the optimiser's constants and bias corrections, its batch size), so members differ in their
 * seeds, data, radii, learning rates, rho and init scale, and only their shapes are shared.
 *
 * The threads split the members (ceil(K / T) each), never a member's batch: a member's step is
 * the one-thread threaded trainer's (./threadedTrainer.ts on one thread), float for float, on any
 * number of threads. So a member's checkpoint (exportState: the generic layout, unchanged) resumes
 * in a lone run of the threaded trainer, and the other way round.
 *
 * `member(k)` is member k as an ordinary Trainer (its loss, sync, checkpoint state; its own step
 * and perturb run the stacked phases with the other members sitting out), so a member can run
 * the epoch loop alone as well as in step with the others (`step`, `perturb`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { randomStart, stepSizeFor } from '../attacks/pgd.ts';
import { fusedPgdStep, type PgdIterate } from '../attacks/pgdStep.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import type { KernelThreadPool, Region } from '../kernels/threadPool.ts';
import { copyTensorInto } from '../models/twoLayerThreadedGradient.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { HostLossSum } from './lossAccumulator.ts';
import { transposed } from './threadedTrainer.ts';
import type { Trainer, TrainingAttack } from './trainer.ts';

/** Float64 fields per member of the phases' tables (../kernels/assembly/stacked.ts's layouts). */
const STEP_FIELDS = 22;
const GRADIENT_FIELDS = 8;

/** One member's batch for a stacked step. */
export interface StackBatch {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  readonly scale: tf.Tensor1D;
  readonly lr: number;
}

/** One member's batch to attack. */
export interface StackAttackBatch {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  readonly attack: TrainingAttack;
}

export interface StackedTrainer {
  readonly size: number;
  /** One training step of every member given a batch (null: that member sits the step out), in one kernel call. */
  step(batches: readonly (StackBatch | null)[]): void;
  /** Each given member's training attack on its batch, every PGD step of all of them in one kernel call; null where none was given. */
  perturb(batches: readonly (StackAttackBatch | null)[]): (tf.Tensor2D | null)[];
  /** Member k as an ordinary trainer. */
  member(k: number): Trainer;
  dispose(): void;
}

interface Member {
  readonly net: TwoLayerNet;
  readonly config: ResolvedExperiment;
  readonly W: Region;
  readonly b: Region;
  readonly invNorm: Region;
  readonly first: Region | null;
  readonly second: Region | null;
  readonly loss: Region;
  readonly lossSum: HostLossSum;
  t: number;
}

/** The shapes a stack's members must share, named for the error that says which differs. */
function shapeOf(net: TwoLayerNet, config: ResolvedExperiment): Record<string, string | number> {
  const { optimizer } = config.train;
  return {
    width: net.width,
    inputDim: net.inputDim,
    thresholdMode: net.thresholdMode,
    optimizer: optimizer.kind === 'adam' ? 'adam' : optimizer.momentum > 0 ? 'momentum' : 'sgd',
  };
}

/** The stacked trainer of one phase for `members` (nets and their configs), or null when their mode has no kernel path. */
export function createStackedTrainer(
  pool: KernelThreadPool, kernels: FusedKernels, members: readonly { net: TwoLayerNet; config: ResolvedExperiment }[],
): StackedTrainer | null {
  if (members.length === 0) throw new RangeError('members: expected at least one network to stack');
  const first = members[0]!;
  if (first.net.thresholdMode === 'learned') return null;
  const shape = shapeOf(first.net, first.config);
  members.forEach(({ net, config }, k) => {
    const own = shapeOf(net, config);
    for (const [key, value] of Object.entries(shape)) {
      if (own[key] !== value) throw new RangeError(`members[${k}]: ${key} ${own[key]}, but member 0 has ${value}: a stack's members share their shapes`);
    }
  });
  const K = members.length;
  const T = pool.threads;
  const m = first.net.width;
  const d = first.net.inputDim;
  const relative = first.net.thresholdMode === 'relative';
  const kind = shape['optimizer'] === 'adam' ? 2 : shape['optimizer'] === 'momentum' ? 1 : 0;
  const owned: Region[] = [];
  const zeroed = (bytes: number): Region => {
    const r = pool.alloc(bytes);
    owned.push(r);
    pool.f32(r).fill(0);
    return r;
  };
  const stack: Member[] = members.map(({ net, config }) => {
    const member: Member = {
      net, config,
      W: zeroed(m * d * 4), b: zeroed(m * 4), invNorm: zeroed(m * 4),
      first: kind > 0 ? zeroed(m * d * 4) : null, second: kind === 2 ? zeroed(m * d * 4) : null,
      loss: zeroed(8), lossSum: new HostLossSum(), t: 0,
    };
    pool.f32(member.W).set(net.weights());
    if (relative) pool.call('thresholdFromRowNorms', [member.W.offset, m, d, net.thresholdRatio, member.b.offset, member.invNorm.offset]);
    else pool.f32(member.b).set(net.thresholdValues());
    return member;
  });
  const stepTable = zeroed(K * STEP_FIELDS * 8);
  const dw = zeroed(T * m * d * 4);
  const dbl = zeroed(T * m * 4);

  /** Batch buffers per member and the threads' scratch, for up to `rows` rows (remade when a batch is larger). */
  let batches: { rows: number; X: Region[]; Y: Region[]; S: Region[]; UT: Region; GT: Region } | null = null;
  const freeBatches = () => {
    if (batches) for (const r of [...batches.X, ...batches.Y, ...batches.S, batches.UT, batches.GT]) pool.free(r);
    batches = null;
  };
  const batchesFor = (rows: number) => {
    if (batches && batches.rows >= rows) return batches;
    freeBatches();
    const each = (bytes: number) => stack.map(() => pool.alloc(bytes));
    batches = { rows, X: each(rows * d * 4), Y: each(rows * 4), S: each(rows * 4), UT: pool.alloc(T * m * rows * 4), GT: pool.alloc(T * m * rows * 4) };
    return batches;
  };

  const step = (given: readonly (StackBatch | null)[]) => {
    if (given.length !== K) throw new RangeError(`batches: ${given.length} given, expected one (or null) per member, ${K}`);
    const rows = Math.max(0, ...given.map((g) => g?.x.shape[0] ?? 0));
    if (rows === 0) return;
    const maxRows = Math.ceil(rows / 4) * 4;
    const { X, Y, S, UT, GT } = batchesFor(maxRows);
    const table = pool.f64(stepTable.offset, K * STEP_FIELDS);
    given.forEach((g, k) => {
      const row = k * STEP_FIELDS;
      if (!g) {
        table.fill(0, row, row + STEP_FIELDS);
        return;
      }
      const member = stack[k]!;
      const { optimizer } = member.config.train;
      const B = g.x.shape[0];
      copyTensorInto(kernels, g.x, pool.f32(X[k]!.offset, B * d));
      copyTensorInto(kernels, g.y, pool.f32(Y[k]!.offset, B));
      copyTensorInto(kernels, g.scale, pool.f32(S[k]!.offset, B));
      member.t += 1;
      const adam = kind === 2;
      table.set([
        member.W.offset, X[k]!.offset, Y[k]!.offset, S[k]!.offset, member.b.offset, member.invNorm.offset,
        member.first?.offset ?? 0, member.second?.offset ?? 0, member.loss.offset,
        B, member.net.outputWeight, member.net.thresholdRatio, relative ? 1 : 0, kind, g.lr,
        adam ? 0 : optimizer.momentum, adam ? optimizer.beta1 : 0, adam ? optimizer.beta2 : 0, adam ? optimizer.epsilon : 0,
        adam ? 1 - Math.pow(optimizer.beta1, member.t) : 1, adam ? 1 - Math.pow(optimizer.beta2, member.t) : 1,
      ], row);
    });
    pool.run('stackedTrainStep', Math.ceil(K / T), [stepTable.offset, K, m, d, maxRows, UT.offset, GT.offset, dw.offset, dbl.offset]);
    given.forEach((g, k) => {
      if (g) stack[k]!.lossSum.add(pool.f64(stack[k]!.loss.offset, 1)[0]!);
    });
  };

  const perturb = (given: readonly (StackAttackBatch | null)[]): (tf.Tensor2D | null)[] => {
    if (given.length !== K) throw new RangeError(`batches: ${given.length} given, expected one (or null) per member, ${K}`);
    const rows = Math.max(0, ...given.map((g) => g?.x.shape[0] ?? 0));
    if (rows === 0) return given.map(() => null);
    const maxRows = Math.ceil(rows / 4) * 4;
    const regions: Region[] = [];
    const alloc = (bytes: number) => {
      const r = pool.alloc(bytes);
      regions.push(r);
      return r;
    };
    const table = alloc(K * GRADIENT_FIELDS * 8);
    const U = alloc(T * maxRows * m * 4);
    const Gx = alloc(T * maxRows * m * 4);
    const margin = alloc(T * maxRows * 4);
    const buffers = given.map((g) => (g ? { X: alloc(g.x.shape[0] * d * 4), Y: alloc(g.x.shape[0] * 4), grad: alloc(g.x.shape[0] * d * 4), dead: alloc(4) } : null));
    try {
      const kept = tf.tidy(() => {
        // pgdRows's order per member: the random start (from the member's own stream), then the steps
        const iterates: (PgdIterate | null)[] = given.map((g) => {
          if (!g) return null;
          const { attack, x } = g;
          const n = x.shape[0];
          const eps = new Float32Array(n).fill(attack.eps);
          const alpha = new Float32Array(n).fill(stepSizeFor(attack.eps, attack.steps, attack.stepSize, attack.stepScale));
          const start = attack.randomStart ? randomStart(n, d, eps, attack.norm, attack.rng) : null;
          return fusedPgdStep(kernels).begin(x, eps, alpha, start, { norm: attack.norm, clip: attack.clip });
        });
        given.forEach((g, k) => {
          if (g) copyTensorInto(kernels, g.y, pool.f32(buffers[k]!.Y.offset, g.x.shape[0]));
        });
        const steps = Math.max(...given.map((g) => g?.attack.steps ?? 0));
        for (let t = 0; t < steps; t++) {
          const view = pool.f64(table.offset, K * GRADIENT_FIELDS);
          given.forEach((g, k) => {
            const row = k * GRADIENT_FIELDS;
            if (!g || t >= g.attack.steps) {
              view.fill(0, row, row + GRADIENT_FIELDS);
              return;
            }
            const n = g.x.shape[0];
            const b = buffers[k]!;
            copyTensorInto(kernels, iterates[k]!.point(), pool.f32(b.X.offset, n * d));
            view.set([b.X.offset, b.Y.offset, stack[k]!.W.offset, stack[k]!.b.offset, b.grad.offset, b.dead.offset, n, stack[k]!.net.outputWeight], row);
          });
          pool.run('stackedInputGradient', Math.ceil(K / T), [table.offset, K, m, d, maxRows, U.offset, Gx.offset, margin.offset]);
          given.forEach((g, k) => {
            if (!g || t >= g.attack.steps) return;
            const n = g.x.shape[0];
            const gradient = tf.tensor2d(pool.f32(buffers[k]!.grad.offset, n * d).slice(), [n, d]);
            iterates[k]!.advance(gradient, t === 0);
            gradient.dispose();
          });
        }
        return iterates.filter((it): it is PgdIterate => it !== null).map((it) => {
          const { x, zeroGradient } = it.finish();
          zeroGradient.dispose();
          return x;
        });
      });
      let next = 0;
      return given.map((g) => (g ? kept[next++]! : null));
    } finally {
      for (const r of regions) pool.free(r);
    }
  };

  const alone = <T>(k: number, item: T): (T | null)[] => stack.map((_, j) => (j === k ? item : null));
  const views: Trainer[] = stack.map((member, k) => ({
    step(x, _xT, y, scale, lr) {
      step(alone(k, { x, y, scale, lr }));
    },
    perturb(x, y, attack) {
      return perturb(alone(k, { x, y, attack }))[k]!;
    },
    takeLoss: () => member.lossSum.take(),
    sync() {
      member.net.setParameters(tf.tensor2d(transposed(pool.f32(member.W), m, d), [d, m]), member.net.b);
    },
    exportState() {
      // the generic layout Wt [d, m], as every trainer's checkpoint
      const tensors: Record<string, Float32Array> = {};
      if (member.first) tensors['first.0'] = transposed(pool.f32(member.first), m, d);
      if (member.second) tensors['second.0'] = transposed(pool.f32(member.second), m, d);
      return { t: member.t, tensors };
    },
    importState(state) {
      member.t = state.t;
      const load = (region: Region | null, key: string) => {
        const values = state.tensors[key];
        if (region && values) pool.f32(region).set(transposed(values, d, m));
      };
      load(member.first, 'first.0');
      load(member.second, 'second.0');
    },
    dispose() {
      // the stack's memory is the stack's: freed by the stack's dispose
    },
  }));

  return {
    size: K,
    step,
    perturb,
    member: (k) => {
      const view = views[k];
      if (!view) throw new RangeError(`member ${k}: expected 0 to ${K - 1}`);
      return view;
    },
    dispose() {
      for (const r of owned) pool.free(r);
      owned.length = 0;
      freeBatches();
    },
  };
}
