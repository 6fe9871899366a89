/**
 * A stack of two-layer networks on webgpu: the members' weights, thresholds, moments and loss
 * sums in one ARENA per shape (one buffer each, a slot per member), and the two stacked calls
 * over the kernels of ./stackedWgsl.ts:
 *
 *   stackedWebgpuSteps     one training step of each given member on its own batch: the batches
 *                          are gathered into the stacked batch by copies in the same submission,
 *                          then the thresholds, forward and update dispatches take every member
 *                          at once (3 dispatches with relative thresholds, 2 with fixed ones);
 *   stackedWebgpuAttacks   each given member's training attack, recorded by pgd.ts's own loop
 *                          (pgdPerturb, its random start included) through a session that defers
 *                          the run: its points gathered, the thresholds refreshed, then one
 *                          dispatch per PGD step for all members, and the adversarial points
 *                          scattered back to each member's own tensor.
 *
 * Nothing is read back: a member's loss stays in its slot until takeLoss. A member computes the
 * floats it computes alone on the one-member kernels (./twoLayerWebgpu.ts), whichever members
 * share its calls. Its checkpoint state is the generic layout (Wt [d, m]), as every trainer's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Norm, ResolvedExperiment } from '../../../../shared/config.ts';
import { pgdPerturb } from '../../attacks/pgd.ts';
import type { InputGradientSession } from '../../models/marginModel.ts';
import type { TwoLayerNet } from '../../models/twoLayerNet.ts';
import type { OptimizerState } from '../../training/checkpoint.ts';
import { workingRows } from '../../training/rowLayout.ts';
import { transposed } from '../../training/threadedTrainer.ts';
import type { TrainingAttack } from '../../training/trainer.ts';
import { readBack } from '../readBack.ts';
import { startingPoint } from './fusedPgd.ts';
import { packUniforms, type Copy, type Dispatch, type GpuKernels } from './gpuKernels.ts';
import { optimiserKind, optimiserWords, type OptimiserKind } from './optimiserWgsl.ts';
import { memberWords, stackedForwardWgsl, stackedPgdWgsl, stackedThresholdsWgsl, stackedUpdateWgsl } from './stackedWgsl.ts';
import { elementGrid } from './wgslCommon.ts';

/** The members' parameters of one shape, a slot each: W [slots, m, d], b and invNorm [slots, m], moments, loss sums [slots]. */
export interface Arena {
  readonly m: number;
  readonly d: number;
  readonly relative: boolean;
  readonly kind: OptimiserKind;
  slots: number;
  W: tf.Tensor1D;
  b: tf.Tensor1D;
  invNorm: tf.Tensor1D;
  first: tf.Tensor1D | null;
  second: tf.Tensor1D | null;
  lossSum: tf.Tensor1D;
  /** Slots no member holds. */
  readonly free: number[];
}

/** One member: its network, config, arena and slot, and its optimiser's step count. */
export interface GpuStackMember {
  readonly net: TwoLayerNet;
  readonly config: ResolvedExperiment;
  readonly arena: Arena;
  readonly slot: number;
  t: number;
}

/** Members that may share a call share an arena: the same m, d, threshold mode and optimiser. */
export function arenaKey(net: TwoLayerNet, config: ResolvedExperiment): string {
  return `${net.width} ${net.inputDim} ${net.thresholdMode} ${optimiserKind(config)}`;
}

export function createArena(net: TwoLayerNet, config: ResolvedExperiment): Arena {
  const kind = optimiserKind(config);
  const m = net.width;
  const d = net.inputDim;
  return {
    m, d, relative: net.thresholdMode === 'relative', kind, slots: 0,
    W: tf.zeros([0]), b: tf.zeros([0]), invNorm: tf.zeros([0]),
    first: kind === 'sgd' ? null : tf.zeros([0]), second: kind === 'adam' ? tf.zeros([0]) : null,
    lossSum: tf.zeros([0]), free: [],
  };
}

/** Doubles the arena's slots (at least 4), keeping what the slots hold. */
function grow(arena: Arena): void {
  const before = arena.slots;
  const after = Math.max(4, 2 * before);
  const { m, d } = arena;
  const widen = (t: tf.Tensor1D, perSlot: number): tf.Tensor1D => {
    const wider = tf.tidy(() => tf.concat([t, tf.zeros([(after - before) * perSlot])])) as tf.Tensor1D;
    t.dispose();
    return wider;
  };
  arena.W = widen(arena.W, m * d);
  arena.b = widen(arena.b, m);
  arena.invNorm = widen(arena.invNorm, m);
  if (arena.first) arena.first = widen(arena.first, m * d);
  if (arena.second) arena.second = widen(arena.second, m * d);
  arena.lossSum = widen(arena.lossSum, 1);
  for (let s = after - 1; s >= before; s--) arena.free.push(s);
  arena.slots = after;
}

export function disposeArena(arena: Arena): void {
  tf.dispose([arena.W, arena.b, arena.invNorm, arena.lossSum, ...(arena.first ? [arena.first] : []), ...(arena.second ? [arena.second] : [])]);
}

/** A member for `net` in `arena` (its weights and fixed thresholds copied into a free slot, its moments and loss zeroed). */
export function joinArena(gpu: GpuKernels, arena: Arena, net: TwoLayerNet, config: ResolvedExperiment): GpuStackMember {
  if (arena.free.length === 0) grow(arena);
  const slot = arena.free.pop()!;
  const { m, d } = arena;
  const rows = workingRows(net);
  const copies: Copy[] = [{ from: gpu.bind(rows), fromOffset: 0, to: gpu.bind(arena.W, { written: true }), toOffset: slot * m * d * 4, bytes: m * d * 4 }];
  if (!arena.relative) copies.push({ from: gpu.bind(net.b!), fromOffset: 0, to: gpu.bind(arena.b, { written: true }), toOffset: slot * m * 4, bytes: m * 4 });
  gpu.submit([], { before: copies });
  rows.dispose();
  for (const moment of [arena.first, arena.second]) if (moment) gpu.write(gpu.bind(moment, { written: true }), new Float32Array(m * d), slot * m * d * 4);
  gpu.write(gpu.bind(arena.lossSum, { written: true }), new Float32Array(1), slot * 4);
  return { net, config, arena, slot, t: 0 };
}

export function leaveArena(member: GpuStackMember): void {
  member.arena.free.push(member.slot);
}

/** A member's slice of an arena tensor, as rows [m, d] (a tensor of its own). */
function slotRows(member: GpuStackMember, t: tf.Tensor1D): tf.Tensor2D {
  const { m, d } = member.arena;
  return tf.tidy(() => tf.reshape(tf.slice(t, [member.slot * m * d], [m * d]), [m, d])) as tf.Tensor2D;
}

/** The member's loss summed since the last call (one read), then zeroed. */
export function takeMemberLoss(gpu: GpuKernels, member: GpuStackMember): number {
  const { arena, slot } = member;
  const value = readBack(() => tf.slice(arena.lossSum, [slot], [1]))[0]!;
  gpu.write(gpu.bind(arena.lossSum, { written: true }), new Float32Array(1), slot * 4);
  return value;
}

/** Writes the member's W back to its network (as Wt [d, m]). */
export function syncMember(member: GpuStackMember): void {
  const Wt = tf.tidy(() => tf.transpose(slotRows(member, member.arena.W))) as tf.Tensor2D;
  member.net.setParameters(Wt, member.net.b);
}

/** The member's optimiser state in the generic layout (moments as Wt [d, m]). */
export function exportMemberState(member: GpuStackMember): OptimizerState {
  const tensors: Record<string, Float32Array> = {};
  const { first, second } = member.arena;
  if (first) tensors['first.0'] = readBack(() => tf.transpose(slotRows(member, first))) as Float32Array;
  if (second) tensors['second.0'] = readBack(() => tf.transpose(slotRows(member, second))) as Float32Array;
  return { t: member.t, tensors };
}

/** Continues from a checkpointed optimiser state (moments in the generic layout). */
export function importMemberState(gpu: GpuKernels, member: GpuStackMember, state: OptimizerState): void {
  const { m, d, first, second } = member.arena;
  member.t = state.t;
  const load = (moment: tf.Tensor1D | null, values: Float32Array | undefined) => {
    if (moment && values) gpu.write(gpu.bind(moment, { written: true }), transposed(values, d, m), member.slot * m * d * 4);
  };
  load(first, state.tensors['first.0']);
  load(second, state.tensors['second.0']);
}

/** One member's batch for a stacked step. */
export interface GpuStackBatch {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  readonly scale: tf.Tensor1D;
  readonly lr: number;
}

/** One member's training attack, recorded and waiting for its stacked run: xa is its start, written in place. */
export interface PendingAttack {
  readonly member: GpuStackMember;
  readonly x0: tf.Tensor2D;
  readonly y: tf.Tensor1D;
  readonly xa: tf.Tensor2D;
  readonly radius: number;
  readonly alpha: number;
  readonly norm: Norm;
  readonly steps: number;
  readonly clip: readonly [number, number] | null;
}

/** Attacks that may share a call: the same arena, norm, steps and clip. */
export function attackKey(attack: PendingAttack): string {
  return `${arenaKey(attack.member.net, attack.member.config)} ${attack.norm} ${attack.steps} ${attack.clip ? attack.clip.join(' ') : '-'}`;
}

/**
 * The member's training attack on (x, y), recorded by pgd.ts's loop (pgdPerturb: the step size,
 * the random start from the attack's stream, clip(x0 + start)) through a session whose pgdRun
 * defers the steps to stackedWebgpuAttacks. Its zero-gradient count is NaN: a training attack
 * never reads it (pgdPerturb drops it), and the stacked run does not gather it.
 */
export function recordAttack(member: GpuStackMember, x: tf.Tensor2D, y: tf.Tensor1D, attack: TrainingAttack): PendingAttack {
  let pending: PendingAttack | null = null;
  const session: InputGradientSession = {
    marginGradient() {
      throw new Error('a stacked training attack runs only through pgdRun');
    },
    pgdRun(x0, labels, eps, alpha, start, options) {
      const radius = eps[0]!;
      const step = alpha[0]!;
      if (eps.some((e) => e !== radius) || alpha.some((a) => a !== step)) throw new RangeError('eps, alpha: a stacked training attack takes one radius and step size per member');
      const xa = startingPoint(x0, start, options.clip);
      pending = { member, x0, y: labels, xa, radius, alpha: step, norm: options.norm, steps: options.steps, clip: options.clip ?? null };
      return { x: xa, zeroGradient: tf.scalar(Number.NaN) };
    },
    dispose: () => undefined,
  };
  pgdPerturb({ openInputGradient: () => session }, x, y, attack);
  if (!pending) throw new Error('pgdPerturb did not run the attack through pgdRun');
  return pending;
}

/** Scratch buffers of a stack's calls, grown as calls need (the buffers of one call, reused by the next). */
export class StackScratch {
  private readonly buffers = new Map<string, GPUBuffer>();
  readonly shape: GPUBuffer;
  readonly pgdFirst: GPUBuffer;
  readonly pgdLater: GPUBuffer;

  constructor(private readonly gpu: GpuKernels) {
    this.shape = gpu.uniforms(3);
    this.pgdFirst = gpu.uniforms(8);
    this.pgdLater = gpu.uniforms(8);
  }

  /** The buffer `name`, of at least `words` 32-bit words. */
  get(name: string, words: number): GPUBuffer {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.size < words * 4) {
      buffer?.destroy(); // after the submitted work that uses it
      buffer = this.gpu.storage(words);
      this.buffers.set(name, buffer);
    }
    return buffer;
  }

  dispose(): void {
    for (const buffer of [...this.buffers.values(), this.shape, this.pgdFirst, this.pgdLater]) buffer.destroy();
    this.buffers.clear();
  }
}

/** The member table of a call: one row of memberWords words per member. */
function memberTable(rows: readonly { member: GpuStackMember; rows: number; optimiser: readonly (readonly ['f32', number])[]; radius: number; alpha: number }[]): ArrayBuffer {
  const words = new ArrayBuffer(rows.length * memberWords * 4);
  const view = new DataView(words);
  rows.forEach(({ member, rows: count, optimiser, radius, alpha }, k) => {
    const at = (f: number) => (k * memberWords + f) * 4;
    view.setUint32(at(0), count, true);
    view.setUint32(at(1), member.slot, true);
    [member.net.outputWeight, member.net.thresholdRatio, ...optimiser.map(([, v]) => v), radius, alpha].forEach((v, f) => view.setFloat32(at(2 + f), v, true));
  });
  return words;
}

const noOptimiser = Array.from({ length: 9 }, () => ['f32', 0] as const);

/** The threshold dispatch of a call's members (relative thresholds), from their W as it is. */
function thresholdDispatch(gpu: GpuKernels, scratch: StackScratch, arena: Arena, table: GPUBuffer, K: number): Dispatch {
  return {
    kernel: gpu.kernel(stackedThresholdsWgsl()),
    buffers: [scratch.shape, table, gpu.bind(arena.W), gpu.bind(arena.b, { written: true }), gpu.bind(arena.invNorm, { written: true })],
    workgroups: [arena.m, 1, K],
  };
}

/** A call's rows per member: a workgroup per row, at most 65535 on x. */
function rowsPerMember(counts: readonly number[]): number {
  const R = Math.max(...counts);
  if (R > 65535) throw new RangeError(`the stacked WGSL kernels take at most 65535 rows per member (got ${R})`);
  return R;
}

function checkShared(members: readonly GpuStackMember[]): Arena {
  const arena = members[0]!.arena;
  members.forEach((member, k) => {
    if (member.arena !== arena) throw new RangeError(`members[${k}]: its arena differs from member 0's: a stacked call takes members of one shape`);
  });
  return arena;
}

/**
 * One training step of each given member on its own batch, in one submission of as many
 * dispatches as one member's step. The members must share an arena.
 */
export function stackedWebgpuSteps(gpu: GpuKernels, scratch: StackScratch, items: readonly { member: GpuStackMember; batch: GpuStackBatch }[]): void {
  if (items.length === 0) return;
  const arena = checkShared(items.map((item) => item.member));
  const { m, d, relative, kind } = arena;
  const K = items.length;
  const R = rowsPerMember(items.map(({ batch }) => batch.x.shape[0]));
  const X = scratch.get('x', K * R * d);
  const Y = scratch.get('y', K * R);
  const S = scratch.get('scale', K * R);
  const U = scratch.get('U', K * R * m);
  const G = scratch.get('G', K * R * m);
  const loss = scratch.get('loss', K * R);
  const table = scratch.get('table', K * memberWords);
  gpu.write(table, memberTable(items.map(({ member, batch }) => {
    member.t += 1;
    return { member, rows: batch.x.shape[0], optimiser: optimiserWords(member.config, batch.lr, member.t), radius: 0, alpha: 0 };
  })));
  gpu.write(scratch.shape, packUniforms([['u32', R], ['u32', m], ['u32', d]]));
  const gather: Copy[] = items.flatMap(({ batch }, k) => {
    const B = batch.x.shape[0];
    return [
      { from: gpu.bind(batch.x), fromOffset: 0, to: X, toOffset: k * R * d * 4, bytes: B * d * 4 },
      { from: gpu.bind(batch.y), fromOffset: 0, to: Y, toOffset: k * R * 4, bytes: B * 4 },
      { from: gpu.bind(batch.scale), fromOffset: 0, to: S, toOffset: k * R * 4, bytes: B * 4 },
    ];
  });
  const W = gpu.bind(arena.W, { written: true });
  const moments = [arena.first, arena.second].filter((t): t is tf.Tensor1D => t !== null).map((t) => gpu.bind(t, { written: true }));
  const grid = elementGrid(m * d);
  const [gx, gy] = typeof grid === 'number' ? [grid, 1] : grid;
  gpu.submit(
    [
      ...(relative ? [thresholdDispatch(gpu, scratch, arena, table, K)] : []),
      { kernel: gpu.kernel(stackedForwardWgsl()), buffers: [scratch.shape, table, W, X, Y, S, gpu.bind(arena.b), U, G, loss], workgroups: [R, 1, K] },
      {
        kernel: gpu.kernel(stackedUpdateWgsl(kind, relative)),
        buffers: [scratch.shape, table, W, X, G, loss, gpu.bind(arena.lossSum, { written: true }), ...(relative ? [U, gpu.bind(arena.invNorm)] : []), ...moments],
        workgroups: [gx, gy, K],
      },
    ],
    { before: gather },
  );
}

/**
 * Each given attack's PGD steps, every step one dispatch for all of them, in one submission (the
 * thresholds refreshed first, as a lone member's attack session does). The attacks must share
 * attackKey; each one's adversarial points land in its own xa.
 */
export function stackedWebgpuAttacks(gpu: GpuKernels, scratch: StackScratch, attacks: readonly PendingAttack[]): void {
  if (attacks.length === 0) return;
  const arena = checkShared(attacks.map((a) => a.member));
  const key = attackKey(attacks[0]!);
  attacks.forEach((a, k) => {
    if (attackKey(a) !== key) throw new RangeError(`attacks[${k}]: its norm, steps or clip differ from attack 0's: a stacked call takes attacks of one kind`);
  });
  const { m, d, relative } = arena;
  const { norm, steps, clip } = attacks[0]!;
  const K = attacks.length;
  const R = rowsPerMember(attacks.map((a) => a.x0.shape[0]));
  const X0 = scratch.get('x0', K * R * d);
  const XA = scratch.get('xa', K * R * d);
  const Y = scratch.get('y', K * R);
  const Gx = scratch.get('Gx', K * R * m);
  const grad = scratch.get('grad', K * R * d);
  const zero = scratch.get('zero', K);
  const table = scratch.get('table', K * memberWords);
  gpu.write(table, memberTable(attacks.map((a) => ({ member: a.member, rows: a.x0.shape[0], optimiser: noOptimiser, radius: a.radius, alpha: a.alpha }))));
  gpu.write(scratch.shape, packUniforms([['u32', R], ['u32', m], ['u32', d]]));
  gpu.write(zero, new Uint32Array(K));
  const [lo, hi] = clip ?? [0, 0];
  const pgdUniforms = (first: boolean) => packUniforms([['u32', R], ['u32', d], ['u32', first ? 1 : 0], ['u32', clip ? 1 : 0], ['f32', lo], ['f32', hi], ['u32', R], ['u32', m]]);
  gpu.write(scratch.pgdFirst, pgdUniforms(true));
  gpu.write(scratch.pgdLater, pgdUniforms(false));
  const rowsOf = (a: PendingAttack) => a.x0.shape[0];
  const gather: Copy[] = attacks.flatMap((a, k) => [
    { from: gpu.bind(a.x0), fromOffset: 0, to: X0, toOffset: k * R * d * 4, bytes: rowsOf(a) * d * 4 },
    { from: gpu.bind(a.xa), fromOffset: 0, to: XA, toOffset: k * R * d * 4, bytes: rowsOf(a) * d * 4 },
    { from: gpu.bind(a.y), fromOffset: 0, to: Y, toOffset: k * R * 4, bytes: rowsOf(a) * 4 },
  ]);
  const scatter: Copy[] = attacks.map((a, k) => ({ from: XA, fromOffset: k * R * d * 4, to: gpu.bind(a.xa, { written: true }), toOffset: 0, bytes: rowsOf(a) * d * 4 }));
  const kernel = gpu.kernel(stackedPgdWgsl(norm));
  const model = [table, gpu.bind(arena.W), gpu.bind(arena.b), Y, Gx, X0, XA, grad, zero];
  gpu.submit(
    [
      ...(relative ? [thresholdDispatch(gpu, scratch, arena, table, K)] : []),
      ...Array.from({ length: steps }, (_, t): Dispatch => ({ kernel, buffers: [t === 0 ? scratch.pgdFirst : scratch.pgdLater, ...model], workgroups: [R, 1, K] })),
    ],
    { before: gather, after: scatter },
  );
}
