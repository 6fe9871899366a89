/**
 * Which sweep members compute together as one stack (issue 14, item 3): members of the same
 * shapes run side by side in one worker, in step epoch by epoch, each still an ordinary run with
 * its own data stream, events, checkpoints and result (JobQueue.submitStack).
 *
 * "The same shapes" is everything that fixes the size and the schedule of the computation: the
 * task's kind, dimension, dictionary size and set sizes (so every member has the same batches per
 * epoch and the same test set size), the model's kind, width and threshold mode, the batch size,
 * the protocol and its epochs, the optimiser's kind (the state it keeps), the training attack's
 * kind, norm and steps, the clean/adversarial mix and the low-rank fine-tuning. What may differ is
 * per member: the seed (its own data, init and streams), radii, learning rates, rho, init scale,
 * noise, the evaluation's settings. A member of any other kind (the image models) runs alone.
 *
 * A group of same-shaped members is split into one stack per job slot (at most `jobs`), in the
 * members' order, as evenly as sizes allow, so that N workers each take one stack.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { inputDim } from '../../shared/modelSize.ts';
import { maxJobs } from '../../shared/jobSettings.ts';
import { memoryEstimate } from '../../shared/memoryEstimate.ts';
import { canonicalJson } from './provenance.ts';

/** The most members one stack holds (its worker holds every member's data and model at once). */
export const maxStackSize = maxJobs;

/**
 * The most memory one stack's members may need together: tfjs-wasm keeps every tensor of a
 * worker in one WebAssembly memory, which 32-bit addresses bound at 4 GiB, whatever the machine
 * has free.
 */
export const maxStackBytes = 2 ** 32;

/** The shape key of a config: equal keys may stack; null: this config runs alone. */
export function stackShape(config: ResolvedExperiment): string | null {
  const { task, model, train, eval: evaluation } = config;
  if (task.kind !== 'sparse-coding' || model.kind !== 'two-layer') return null;
  const attack = train.attack;
  return canonicalJson({
    task: { kind: task.kind, d: task.d, atoms: task.atoms, trainSize: task.trainSize },
    testSize: evaluation.testSize,
    model: { kind: model.kind, width: model.width, threshold: model.threshold.mode },
    train: {
      protocol: train.protocol,
      batchSize: train.batchSize,
      cleanEpochs: train.cleanEpochs,
      adversarialEpochs: train.adversarialEpochs,
      optimizer: train.optimizer.kind,
      momentum: train.optimizer.kind === 'sgd' && train.optimizer.momentum > 0,
      attack: { kind: attack.kind, norm: attack.norm, steps: attack.kind === 'fgm' ? 1 : attack.steps },
      mix: train.mix.mode,
      lowRank: train.lowRank.rank,
    },
  });
}

/**
 * The stacks of a sweep: lists of member indices, each list one stack (a single index runs
 * alone), ordered by their first member. Same-shaped members are grouped, and each group is cut
 * into contiguous stacks of near-equal size: one per job slot (fewer when the group is smaller),
 * more when a stack would exceed maxStackSize members, or maxStackBytes, or, given `available`
 * bytes, when the `jobs` stacks computing at once would not fit in them (a stack holds all its
 * members' data and models at once: shared/memoryEstimate.ts per member). With `stack` false (the `--no-stack` escape hatch)
 * every member runs alone, as before stacking.
 */
export function sweepStacks(configs: readonly ResolvedExperiment[], options: { readonly jobs: number; readonly stack?: boolean; readonly available?: number }): number[][] {
  if (options.stack === false) return configs.map((_, i) => [i]);
  const groups = new Map<string, number[]>();
  const stacks: number[][] = [];
  configs.forEach((config, i) => {
    const shape = stackShape(config);
    if (shape === null) {
      stacks.push([i]);
      return;
    }
    const group = groups.get(shape);
    if (group) group.push(i);
    else groups.set(shape, [i]);
  });
  const jobs = Math.max(1, options.jobs);
  for (const group of groups.values()) {
    const perMember = Math.max(...group.map((i) => memoryEstimate(configs[i]!).bytes));
    const budget = Math.min(maxStackBytes, options.available === undefined ? Infinity : options.available / jobs);
    const fits = Math.max(1, Math.floor(budget / perMember));
    const count = Math.max(Math.min(jobs, group.length), Math.ceil(group.length / Math.min(maxStackSize, fits)));
    let start = 0;
    for (let s = 0; s < count; s++) {
      // The first (size mod count) stacks take one member more.
      const size = Math.floor(group.length / count) + (s < group.length % count ? 1 : 0);
      stacks.push(group.slice(start, start + size));
      start += size;
    }
  }
  return stacks.sort((a, b) => a[0]! - b[0]!);
}

/**
 * The kernel threads' shared memory (main/engine/kernels/threadPool.ts: 1 GiB, the threaded
 * build's maximum), of which a stack's kernels may take half: the rest stays for the attack
 * sessions that allocate in the same memory.
 */
export const stackKernelBytes = 2 ** 29;

/**
 * Bytes a stack of `size` members of `config` keeps in the kernel threads' memory, on `threads`
 * threads: per member W and up to two moments [m, d], its batch (twice the batch size in the mix
 * mode) and its attack's points and gradients; per thread the step's and the attack's scratch.
 */
export function stackMemoryBytes(config: ResolvedExperiment, size: number, threads = 1): number {
  if (config.model.kind !== 'two-layer') return Infinity;
  const m = config.model.width;
  const d = inputDim(config);
  const rows = 2 * config.train.batchSize;
  const member = 3 * m * d + rows * d + 2 * config.train.batchSize * d + 4 * m + 4 * rows;
  const thread = m * d + 4 * m * rows + m;
  return 4 * (size * member + threads * thread);
}

/**
 * Whether a stack's member computes on the stack's kernels (its training steps and training
 * attacks in one kernel call with the other members'): on wasm's fused hot path, the AssemblyScript
 * stack (main/engine/training/stackedProgram.ts); on webgpu's, the stacked WGSL kernels
 * (main/engine/backend/webgpu/stackedWebgpuProgram.ts); for a two-layer network whose thresholds
 * the kernels take (relative or fixed). Any other member of a stack computes alone in the stack's
 * worker.
 */
export function stacksOnKernels(backend: BackendInfo, config: ResolvedExperiment): boolean {
  return (backend.name === 'wasm' || backend.name === 'webgpu') && backend.fusedKernels && config.model.kind === 'two-layer' && config.model.threshold.mode !== 'learned';
}

/**
 * The largest buffer a webgpu stack of `size` members of `config` binds, in bytes: its arena's
 * W (or a moment), a slot per member and as many again for members between two phases, in
 * slots doubled from 4; or the stacked batch's x, U or G (twice the batch size in the mix mode).
 */
export function stackGpuBufferBytes(config: ResolvedExperiment, size: number): number {
  if (config.model.kind !== 'two-layer') return Infinity;
  const m = config.model.width;
  const d = inputDim(config);
  const slots = Math.max(4, 2 ** Math.ceil(Math.log2(2 * size)));
  return 4 * Math.max(slots * m * d, size * 2 * config.train.batchSize * Math.max(m, d));
}

/**
 * Whether a stack of `size` members fits its backend's memory for stacked kernels: the kernel
 * threads' (wasm); on webgpu, the largest buffer the adapter makes and a kernel may bind as
 * storage (the stacked kernels bind every buffer whole), the smaller of its two limits.
 */
function stackFits(backend: BackendInfo, config: ResolvedExperiment, size: number): boolean {
  if (backend.name !== 'webgpu') return stackMemoryBytes(config, size, backend.threads ?? 1) <= stackKernelBytes;
  const limits = [backend.details['maxBufferSize'], backend.details['maxStorageBufferBindingSize']];
  if (!limits.every((limit) => typeof limit === 'number')) return false;
  return stackGpuBufferBytes(config, size) <= Math.min(...(limits as number[]));
}

/**
 * The hot path a stacked member records in its provenance: the stack's kernels where they take
 * it and the stack's members fit their memory ("stacked kernels" on wasm, "stacked WGSL kernels"
 * on webgpu), else each member alone.
 */
export function stackedHotPath(backend: BackendInfo, config: ResolvedExperiment, size: number): string {
  if (!stacksOnKernels(backend, config) || !stackFits(backend, config, size)) return 'each member alone';
  return `stacked ${backend.name === 'webgpu' ? 'WGSL ' : ''}kernels, ${size} member${size === 1 ? '' : 's'}`;
}

/** Whether a recorded hot path is a stack's kernels (of either backend). */
export function onStackedKernels(hotPath: string): boolean {
  return hotPath !== 'each member alone';
}

/** The stack a run computed in, as its provenance recorded it (null: it ran alone). */
export function stackedBefore(provenance: Readonly<Record<string, unknown>> | null | undefined): { size: number; runIds: string[]; hotPath: string } | null {
  const stacked = provenance?.['stacked'] as { size?: unknown; runIds?: unknown; hotPath?: unknown } | undefined;
  if (!stacked || typeof stacked.size !== 'number' || !Array.isArray(stacked.runIds) || typeof stacked.hotPath !== 'string') return null;
  return { size: stacked.size, runIds: stacked.runIds.map(String), hotPath: stacked.hotPath };
}
