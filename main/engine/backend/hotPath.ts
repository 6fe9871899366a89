/**
 * The fused hot path of each backend: the trainer factory and the input-gradient provider that
 * replace tfjs's generic ops for the training and PGD steps where a backend has fused kernels.
 * Today only wasm has them (../kernels, AssemblyScript SIMD). A backend without an entry, or
 * whose entry finds its kernels unusable, runs the generic trainer (../training/genericTrainer.ts),
 * which every backend runs, after the kernel plan (./kernelPlan.ts) has checked its kernels.
 *
 * A fused WGSL trainer for webgpu (issue 14 item 2) slots in as a `webgpu` entry of the same shape:
 * a factory that returns its trainer where it covers the config and the generic one elsewhere.
 */
import { fusedInputGradientProvider } from '../models/twoLayerFusedGradient.ts';
import { fusedTrainerFactory } from '../training/fusedTrainer.ts';
import type { ExperimentHooks } from '../experiment.ts';
import type { BackendName } from './chooseBackend.ts';

export interface HotPath {
  /** In words, for the backend line ("fused wasm kernels"). */
  readonly name: string;
  readonly makeTrainer: NonNullable<ExperimentHooks['makeTrainer']>;
  readonly inputGradientProvider: NonNullable<ExperimentHooks['inputGradientProvider']> | null;
}

const hotPaths: Partial<Record<BackendName, (threads: number) => Promise<HotPath | null>>> = {
  async wasm(threads) {
    const makeTrainer = await fusedTrainerFactory(threads);
    if (!makeTrainer) return null;
    return { name: 'fused wasm kernels', makeTrainer, inputGradientProvider: await fusedInputGradientProvider(threads) };
  },
};

/**
 * The fused hot path of the active backend `name`, or null: the generic trainer runs. `threads`
 * kernel threads share each batch where the hot path can split it (wasm: the two-layer net).
 */
export async function hotPathFor(name: BackendName, threads = 1): Promise<HotPath | null> {
  return (await hotPaths[name]?.(threads)) ?? null;
}
