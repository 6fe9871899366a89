/**
 * A run without a UI: choose the backend, pick the fastest trainer it supports, run the
 * experiment, and hand back the result. The CLI and the benchmark both come through here.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';
import { assertKernels, chooseBackend, type BackendChoice, type BackendLoaders, type BackendRequest } from '../engine/backend.ts';
import { runExperiment, type ExperimentHooks } from '../engine/experiment.ts';
import { twoLayerKernels } from '../engine/models/twoLayerNet.ts';
import { hotPathFor } from '../engine/hotPath.ts';

export interface HeadlessOptions {
  readonly backend?: BackendRequest | undefined;
  readonly loaders?: BackendLoaders;
  readonly onEvent?: (event: RunEvent) => void;
  readonly onBackend?: (backend: BackendInfo) => void;
  readonly signal?: AbortSignal;
  /** Use the backend's fused hot path where it has one (default true; see engine/hotPath.ts). */
  readonly fused?: boolean;
}

/** Load the backend (once per process) and report which hot path will run. */
export async function prepareBackend(options: Pick<HeadlessOptions, 'backend' | 'loaders' | 'fused'>): Promise<{
  info: BackendInfo;
  choice: BackendChoice;
  hooks: Pick<ExperimentHooks, 'makeTrainer' | 'inputGradientProvider'>;
}> {
  const choice = await chooseBackend({ request: options.backend, ...(options.loaders ? { loaders: options.loaders } : {}) });
  assertKernels(twoLayerKernels, choice.name);
  const hotPath = options.fused === false ? null : await hotPathFor(choice.name);
  return {
    choice,
    info: { ...choice, fusedKernels: hotPath !== null },
    hooks: {
      ...(hotPath ? { makeTrainer: hotPath.makeTrainer } : {}),
      ...(hotPath?.inputGradientProvider ? { inputGradientProvider: hotPath.inputGradientProvider } : {}),
    },
  };
}

export async function runHeadless(config: ResolvedExperiment, options: HeadlessOptions = {}): Promise<RunResult> {
  const { info, hooks } = await prepareBackend(options);
  options.onBackend?.(info);
  return runExperiment(config, info, {
    ...hooks,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
