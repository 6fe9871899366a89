/**
 * A run without a UI: choose the backend, pick the fastest trainer it supports, run the
 * experiment, and hand back the result. The CLI and the benchmark both come through here.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';
import { assertKernels, chooseBackend, type BackendChoice, type BackendLoaders, type BackendRequest } from '../engine/backend.ts';
import { runExperiment } from '../engine/experiment.ts';
import { twoLayerKernels } from '../engine/models/twoLayerNet.ts';
import { fusedTrainerFactory } from '../engine/fusedTrainer.ts';

export interface HeadlessOptions {
  readonly backend?: BackendRequest | undefined;
  readonly loaders?: BackendLoaders;
  readonly onEvent?: (event: RunEvent) => void;
  readonly onBackend?: (backend: BackendInfo) => void;
  readonly signal?: AbortSignal;
  /** Use the fused wasm kernels when the backend is wasm (default true). */
  readonly fused?: boolean;
}

/** Load the backend (once per process) and report which hot path will run. */
export async function prepareBackend(options: Pick<HeadlessOptions, 'backend' | 'loaders' | 'fused'>): Promise<{ info: BackendInfo; choice: BackendChoice; makeTrainer: Awaited<ReturnType<typeof fusedTrainerFactory>> }> {
  const choice = await chooseBackend({ request: options.backend, ...(options.loaders ? { loaders: options.loaders } : {}) });
  assertKernels(twoLayerKernels, choice.name);
  const makeTrainer = options.fused === false ? null : await fusedTrainerFactory();
  return { choice, info: { ...choice, fusedKernels: makeTrainer !== null }, makeTrainer };
}

export async function runHeadless(config: ResolvedExperiment, options: HeadlessOptions = {}): Promise<RunResult> {
  const { info, makeTrainer } = await prepareBackend(options);
  options.onBackend?.(info);
  return runExperiment(config, info, {
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(makeTrainer ? { makeTrainer } : {}),
  });
}
