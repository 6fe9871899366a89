/**
 * Load the backend (once per process) and pick the fastest hot path it supports: the fused wasm
 * trainers and input gradients where the kernels load, the generic tfjs ones otherwise. Everything
 * that runs an experiment (the job workers, the CLI's eval, the benchmark, the tests) starts here.
 */
import type { BackendInfo } from '../../../shared/events.ts';
import type { ExperimentHooks } from '../experiment.ts';
import { hotPathFor } from './hotPath.ts';
import { runKernels } from './runKernels.ts';
import { assertKernels, chooseBackend, type BackendChoice, type BackendLoaders, type BackendRequest } from './chooseBackend.ts';

export interface BackendOptions {
  readonly backend?: BackendRequest | undefined;
  readonly loaders?: BackendLoaders;
  /** Use the backend's fused hot path where it has one (default true; see ./hotPath.ts). */
  readonly fused?: boolean;
  /** Kernel threads of the fused hot path (default 1; see ../kernels/threadPool.ts). */
  readonly threads?: number;
}

/** Load the backend and report which hot path will run, with the experiment hooks that select it. */
export async function prepareBackend(options: BackendOptions): Promise<{
  info: BackendInfo;
  choice: BackendChoice;
  hooks: Pick<ExperimentHooks, 'makeTrainer' | 'inputGradientProvider' | 'imageHotPath' | 'threads'>;
}> {
  const choice = await chooseBackend({ request: options.backend, ...(options.loaders ? { loaders: options.loaders } : {}) });
  assertKernels(runKernels('two-layer'), choice.name);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads ${threads}: expected a positive integer`);
  const hotPath = options.fused === false ? null : await hotPathFor(choice.name, threads);
  return {
    choice,
    // the generic tfjs path computes on one thread whatever was asked
    info: { ...choice, fusedKernels: hotPath !== null, threads: hotPath ? threads : 1 },
    hooks: {
      threads: hotPath ? threads : 1,
      ...(hotPath ? { makeTrainer: hotPath.makeTrainer } : {}),
      ...(hotPath?.inputGradientProvider ? { inputGradientProvider: hotPath.inputGradientProvider } : {}),
      ...(hotPath?.imageHotPath ? { imageHotPath: hotPath.imageHotPath } : {}),
    },
  };
}
