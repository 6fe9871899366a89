/**
 * How many kernel threads one run computes on (issue 13 item 4): its hot path splits each batch
 * across them (main/engine/kernels/threadPool.ts). The default shares the physical cores among
 * the jobs that run at once (./jobCount.ts): floor(cores / jobs), at least 1, so N runs of T
 * threads each never ask for more cores than the machine has. `--threads N` sets it. A resumed
 * run computes on the thread count its checkpoint records, whatever the setting is now: sums
 * across threads are reduced in a fixed order per count, so only the same count resumes exactly.
 * The job queue's default is 1 (as its jobs' is); the entry points (CLI, browser mode, the
 * desktop engine) ask for 'auto', this file's default.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import type { EngineCheckpoint } from '../engine/training/checkpoint.ts';
import { physicalCores } from './jobCount.ts';

/** The most threads anyone may ask for (far beyond any workstation's cores). */
export const maxThreads = 256;

/** The default kernel threads per run: the physical cores shared among `jobs` runs at once. */
export function defaultThreads(options: { readonly jobs: number; readonly cores?: number }): number {
  const cores = options.cores ?? physicalCores();
  return Math.max(1, Math.floor(cores / Math.max(1, options.jobs)));
}

/** A thread count given in code, checked as `--threads` is. */
export function checkedThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > maxThreads) throw new RangeError(`threads ${threads}: expected a positive integer (at most ${maxThreads})`);
  return threads;
}

/** `--threads N` checked: an integer from 1 to maxThreads, or an error naming the option and what was expected. */
export function parseThreads(text: string, name = '--threads'): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > maxThreads) {
    throw new RangeError(`${name} "${text}": expected a positive integer (at most ${maxThreads})`);
  }
  return n;
}

/**
 * Whether a run's hot path splits its batches across kernel threads: wasm's fused kernels do it
 * for the two-layer network and the image MLP (main/engine/backend/hotPath.ts). Every other model
 * or backend computes on one thread (webgpu on its device), and its run records 1.
 */
export function runsOnThreads(backend: Pick<BackendInfo, 'name' | 'fusedKernels'>, model: Pick<ResolvedExperiment['model'], 'kind'>): boolean {
  return backend.name === 'wasm' && backend.fusedKernels && (model.kind === 'two-layer' || model.kind === 'mlp');
}

/** The threads a run computes on: its checkpoint's count when it resumes from one, else the setting. */
export function threadsForRun(checkpoint: Pick<EngineCheckpoint, 'threads'> | undefined, setting: number): number {
  return checkpoint ? (checkpoint.threads ?? 1) : setting;
}
