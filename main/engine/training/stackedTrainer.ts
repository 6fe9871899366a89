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
import { fusedPgdStep } from '../attacks/pgdStep.ts';
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

/** One member of a stack: its weights, thresholds, moments, loss slot and batch buffers in the pool's memory. */
export interface StackMember {
  readonly net: TwoLayerNet;
  readonly config: ResolvedExperiment;
  readonly m: number;
  readonly d: number;
  readonly relative: boolean;
  /** 0 SGD, 1 momentum, 2 Adam. */
  readonly kind: number;
  readonly W: Region;
  readonly b: Region;
  readonly invNorm: Region;
  readonly first: Region | null;
  readonly second: Region | null;
  readonly loss: Region;
  readonly lossSum: HostLossSum;
  /** Steps taken (Adam's bias corrections). */
  t: number;
  /** The batch buffers, for up to `rows` rows (grown when a batch is larger). */
  batch: { rows: number; X: Region; Y: Region; S: Region } | null;
}

/** The optimiser kind a stack's phases take (0 SGD, 1 momentum, 2 Adam). */
function optimiserKind(config: ResolvedExperiment): number {
  const { optimizer } = config.train;
  return optimizer.kind === 'adam' ? 2 : optimizer.momentum > 0 ? 1 : 0;
}

/** A member for `net` (its weights copied in), or null when its threshold mode has no kernel path. */
export function joinStack(pool: KernelThreadPool, net: TwoLayerNet, config: ResolvedExperiment): StackMember | null {
  if (net.thresholdMode === 'learned') return null;
  const m = net.width;
  const d = net.inputDim;
  const kind = optimiserKind(config);
  const zeroed = (bytes: number): Region => {
    const r = pool.alloc(bytes);
    pool.f32(r).fill(0);
    return r;
  };
  const member: StackMember = {
    net, config, m, d, relative: net.thresholdMode === 'relative', kind,
    W: zeroed(m * d * 4), b: zeroed(m * 4), invNorm: zeroed(m * 4),
    first: kind > 0 ? zeroed(m * d * 4) : null, second: kind === 2 ? zeroed(m * d * 4) : null,
    loss: zeroed(8), lossSum: new HostLossSum(), t: 0, batch: null,
  };
  pool.f32(member.W).set(net.weights());
  if (member.relative) pool.call('thresholdFromRowNorms', [member.W.offset, m, d, net.thresholdRatio, member.b.offset, member.invNorm.offset]);
  else pool.f32(member.b).set(net.thresholdValues());
  return member;
}

/** Frees a member's memory. */
export function leaveStack(pool: KernelThreadPool, member: StackMember): void {
  for (const r of [member.W, member.b, member.invNorm, member.first, member.second, member.loss]) if (r) pool.free(r);
  if (member.batch) for (const r of [member.batch.X, member.batch.Y, member.batch.S]) pool.free(r);
  member.batch = null;
}

/** Members that one phase call may take together: the same m, d, threshold mode and optimiser. */
function checkShared(members: readonly StackMember[]): void {
  const [first] = members;
  members.forEach((member, k) => {
    const differs = member.m !== first!.m ? 'width' : member.d !== first!.d ? 'inputDim' : member.relative !== first!.relative ? 'thresholdMode' : member.kind !== first!.kind ? 'optimizer' : null;
    if (differs) throw new RangeError(`members[${k}]: its ${differs} differs from member 0's: a stack's members share their shapes`);
  });
}

/** The pool's scratch for one call: `slots` per-thread regions of the given sizes, freed by `free`. */
function scratch(pool: KernelThreadPool, sizes: readonly number[]): { regions: Region[]; free(): void } {
  const regions = sizes.map((bytes) => pool.alloc(bytes));
  return { regions, free: () => regions.forEach((r) => pool.free(r)) };
}

/**
 * One training step of each given member on its batch, in ONE call of the stacked phase. The
 * members must share m, d, threshold mode and optimiser kind (a stack's do).
 */
export function stackedSteps(pool: KernelThreadPool, kernels: FusedKernels, items: readonly { member: StackMember; batch: StackBatch }[]): void {
  if (items.length === 0) return;
  const members = items.map((item) => item.member);
  checkShared(members);
  const { m, d, relative, kind } = members[0]!;
  const K = items.length;
  const T = pool.threads;
  const maxRows = Math.ceil(Math.max(...items.map((item) => item.batch.x.shape[0])) / 4) * 4;
  for (const { member, batch } of items) {
    const B = batch.x.shape[0];
    if (member.batch && member.batch.rows >= B) continue;
    if (member.batch) for (const r of [member.batch.X, member.batch.Y, member.batch.S]) pool.free(r);
    member.batch = { rows: B, X: pool.alloc(B * d * 4), Y: pool.alloc(B * 4), S: pool.alloc(B * 4) };
  }
  const work = scratch(pool, [K * STEP_FIELDS * 8, T * m * maxRows * 4, T * m * maxRows * 4, T * m * d * 4, T * m * 4]);
  try {
    const [table, UT, GT, dw, dbl] = work.regions as [Region, Region, Region, Region, Region];
    const view = pool.f64(table.offset, K * STEP_FIELDS);
    items.forEach(({ member, batch }, k) => {
      const { optimizer } = member.config.train;
      const B = batch.x.shape[0];
      const { X, Y, S } = member.batch!;
      copyTensorInto(kernels, batch.x, pool.f32(X.offset, B * d));
      copyTensorInto(kernels, batch.y, pool.f32(Y.offset, B));
      copyTensorInto(kernels, batch.scale, pool.f32(S.offset, B));
      member.t += 1;
      const adam = kind === 2;
      view.set([
        member.W.offset, X.offset, Y.offset, S.offset, member.b.offset, member.invNorm.offset,
        member.first?.offset ?? 0, member.second?.offset ?? 0, member.loss.offset,
        B, member.net.outputWeight, member.net.thresholdRatio, relative ? 1 : 0, kind, batch.lr,
        adam ? 0 : optimizer.momentum, adam ? optimizer.beta1 : 0, adam ? optimizer.beta2 : 0, adam ? optimizer.epsilon : 0,
        adam ? 1 - Math.pow(optimizer.beta1, member.t) : 1, adam ? 1 - Math.pow(optimizer.beta2, member.t) : 1,
        0,
      ], k * STEP_FIELDS);
    });
    pool.run('stackedTrainStep', Math.ceil(K / T), [table.offset, K, m, d, maxRows, UT.offset, GT.offset, dw.offset, dbl.offset]);
    for (const { member } of items) member.lossSum.add(pool.f64(member.loss.offset, 1)[0]!);
  } finally {
    work.free();
  }
}

/**
 * The input gradient (of -margin, the attack's) of each given member at its points x [N, d], in
 * ONE call of the stacked phase: a tensor per item, the caller's to dispose.
 */
export function stackedInputGradients(
  pool: KernelThreadPool, kernels: FusedKernels, items: readonly { member: StackMember; x: tf.Tensor2D; y: tf.Tensor1D }[],
): tf.Tensor2D[] {
  if (items.length === 0) return [];
  checkShared(items.map((item) => item.member));
  const { m, d } = items[0]!.member;
  const K = items.length;
  const T = pool.threads;
  const maxRows = Math.ceil(Math.max(...items.map((item) => item.x.shape[0])) / 4) * 4;
  const perItem = items.flatMap(({ x }) => [x.shape[0] * d * 4, x.shape[0] * 4, x.shape[0] * d * 4, 4]);
  const work = scratch(pool, [K * GRADIENT_FIELDS * 8, T * maxRows * m * 4, T * maxRows * m * 4, T * maxRows * 4, ...perItem]);
  try {
    const [table, U, Gx, margin] = work.regions as [Region, Region, Region, Region];
    const own = (k: number) => work.regions.slice(4 + 4 * k, 8 + 4 * k) as [Region, Region, Region, Region];
    const view = pool.f64(table.offset, K * GRADIENT_FIELDS);
    items.forEach(({ member, x, y }, k) => {
      const n = x.shape[0];
      const [X, Y, grad, dead] = own(k);
      copyTensorInto(kernels, x, pool.f32(X.offset, n * d));
      copyTensorInto(kernels, y, pool.f32(Y.offset, n));
      view.set([X.offset, Y.offset, member.W.offset, member.b.offset, grad.offset, dead.offset, n, member.net.outputWeight], k * GRADIENT_FIELDS);
    });
    pool.run('stackedInputGradient', Math.ceil(K / T), [table.offset, K, m, d, maxRows, U.offset, Gx.offset, margin.offset]);
    return items.map(({ x }, k) => tf.tensor2d(pool.f32(own(k)[2].offset, x.shape[0] * d).slice(), [x.shape[0], d]));
  } finally {
    work.free();
  }
}

/** A member's training attack in progress: pgdRows's loop (../attacks/pgd.ts) for one batch, a step at a time. */
export interface StackAttack {
  /** Steps left. */
  readonly left: number;
  /** Where the next gradient is taken. */
  point(): tf.Tensor2D;
  /** One PGD step along the gradient at point(). */
  advance(gradient: tf.Tensor2D): void;
  /** The adversarial batch (once no steps are left). */
  finish(): tf.Tensor2D;
}

/** Starts a member's training attack on its batch: the random start from the attack's own stream, as pgdRows draws it. */
export function beginStackAttack(kernels: FusedKernels, member: StackMember, { x, attack }: StackAttackBatch): StackAttack {
  const n = x.shape[0];
  const eps = new Float32Array(n).fill(attack.eps);
  const alpha = new Float32Array(n).fill(stepSizeFor(attack.eps, attack.steps, attack.stepSize, attack.stepScale));
  const start = attack.randomStart ? randomStart(n, member.d, eps, attack.norm, attack.rng) : null;
  const iterate = fusedPgdStep(kernels).begin(x, eps, alpha, start, { norm: attack.norm, clip: attack.clip });
  start?.dispose();
  let taken = 0;
  return {
    get left() {
      return attack.steps - taken;
    },
    point: () => iterate.point(),
    advance(gradient) {
      iterate.advance(gradient, taken === 0);
      taken += 1;
    },
    finish() {
      const { x: adversarial, zeroGradient } = iterate.finish();
      zeroGradient.dispose();
      return adversarial;
    },
  };
}

/**
 * Each given member's training attack on its batch, every PGD step of all of them in one call of
 * the stacked input-gradient phase.
 */
export function stackedPerturb(pool: KernelThreadPool, kernels: FusedKernels, items: readonly { member: StackMember; batch: StackAttackBatch }[]): tf.Tensor2D[] {
  const attacks = items.map(({ member, batch }) => beginStackAttack(kernels, member, batch));
  for (;;) {
    const due = items.map((item, k) => ({ ...item, attack: attacks[k]! })).filter((item) => item.attack.left > 0);
    if (due.length === 0) break;
    const gradients = stackedInputGradients(pool, kernels, due.map(({ member, batch, attack }) => ({ member, x: attack.point(), y: batch.y })));
    due.forEach(({ attack }, k) => {
      attack.advance(gradients[k]!);
      gradients[k]!.dispose();
    });
  }
  return attacks.map((attack) => attack.finish());
}

/**
 * Member `member` as an ordinary Trainer: its own step and perturb run the stacked phases for it
 * alone; loss, sync and the checkpoint state (the generic layout Wt [d, m], as every trainer's)
 * are its own. `dispose` frees its memory.
 */
export function memberTrainer(pool: KernelThreadPool, kernels: FusedKernels, member: StackMember): Trainer {
  const { m, d } = member;
  return {
    step(x, _xT, y, scale, lr) {
      stackedSteps(pool, kernels, [{ member, batch: { x, y, scale, lr } }]);
    },
    perturb(x, y, attack) {
      return stackedPerturb(pool, kernels, [{ member, batch: { x, y, attack } }])[0]!;
    },
    takeLoss: () => member.lossSum.take(),
    sync() {
      member.net.setParameters(tf.tensor2d(transposed(pool.f32(member.W), m, d), [d, m]), member.net.b);
    },
    exportState() {
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
      leaveStack(pool, member);
    },
  };
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

/** A stack of fixed members (nets and their configs) stepped together, or null when their mode has no kernel path. */
export function createStackedTrainer(
  pool: KernelThreadPool, kernels: FusedKernels, members: readonly { net: TwoLayerNet; config: ResolvedExperiment }[],
): StackedTrainer | null {
  if (members.length === 0) throw new RangeError('members: expected at least one network to stack');
  const joined: StackMember[] = [];
  for (const { net, config } of members) {
    const member = joinStack(pool, net, config);
    if (!member) {
      joined.forEach((j) => leaveStack(pool, j));
      return null;
    }
    joined.push(member);
  }
  try {
    checkShared(joined);
  } catch (error) {
    joined.forEach((j) => leaveStack(pool, j));
    throw error;
  }
  const K = joined.length;
  const given = <B>(batches: readonly (B | null)[]) => {
    if (batches.length !== K) throw new RangeError(`batches: ${batches.length} given, expected one (or null) per member, ${K}`);
    return batches.flatMap((batch, k) => (batch ? [{ member: joined[k]!, batch, k }] : []));
  };
  const views = joined.map((member) => memberTrainer(pool, kernels, member));
  return {
    size: K,
    step: (batches) => stackedSteps(pool, kernels, given(batches)),
    perturb(batches) {
      const items = given(batches);
      const out: (tf.Tensor2D | null)[] = batches.map(() => null);
      stackedPerturb(pool, kernels, items).forEach((x, j) => (out[items[j]!.k] = x));
      return out;
    },
    member: (k) => {
      const view = views[k];
      if (!view) throw new RangeError(`member ${k}: expected 0 to ${K - 1}`);
      return view;
    },
    dispose() {
      views.forEach((view) => view.dispose());
    },
  };
}
