/**
 * The fused hot path of each backend: the trainer factory and the input-gradient provider that
 * replace tfjs's generic ops for the training and PGD steps where a backend has fused kernels.
 * wasm has them in AssemblyScript SIMD (../kernels), webgpu in WGSL (./webgpu/, issue 14 item 2).
 * A backend without an entry, or
 * whose entry finds its kernels unusable, runs the generic trainer (../training/genericTrainer.ts),
 * which every backend runs, after the kernel plan (./kernelPlan.ts) has checked its kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedInputGradientProvider } from '../models/twoLayerFusedGradient.ts';
import { fusedTrainerFactory } from '../training/fusedTrainer.ts';
import { threadedMlpHotPath } from '../training/threadedMlpTrainer.ts';
import { createGenericTrainer } from '../training/genericTrainer.ts';
import { GpuKernels } from './webgpu/gpuKernels.ts';
import { createTwoLayerWebgpuTrainer, twoLayerWebgpuInputGradient } from './webgpu/twoLayerWebgpu.ts';
import type { ExperimentHooks } from '../experiment.ts';
import type { ImageHotPath } from '../experiment/hooks.ts';
import { Mlp } from '../models/mlp.ts';
import { createMlpWebgpuTrainer, mlpWebgpuInputGradient } from './webgpu/mlpWebgpu.ts';
import type { BackendName } from './chooseBackend.ts';

export interface HotPath {
  /** In words, for the backend line ("fused wasm kernels"). */
  readonly name: string;
  readonly makeTrainer: NonNullable<ExperimentHooks['makeTrainer']>;
  readonly inputGradientProvider: NonNullable<ExperimentHooks['inputGradientProvider']> | null;
  /** Image models' fused path, where the testbed does not pick it itself (wasm's it does). */
  readonly imageHotPath?: ImageHotPath;
}

const hotPaths: Partial<Record<BackendName, (threads: number) => Promise<HotPath | null>>> = {
  async wasm(threads) {
    const makeTrainer = await fusedTrainerFactory(threads);
    if (!makeTrainer) return null;
    // on one thread the image testbed picks wasm's fused image trainers itself
    const imageHotPath = threads > 1 ? await threadedMlpHotPath(threads) : null;
    return { name: 'fused wasm kernels', makeTrainer, inputGradientProvider: await fusedInputGradientProvider(threads), ...(imageHotPath ? { imageHotPath } : {}) };
  },
  async webgpu() {
    if (tf.getBackend() !== 'webgpu' || !GpuKernels.ofActiveBackend().fits) return null;
    return {
      name: 'fused WGSL kernels',
      makeTrainer: (net, config) => createTwoLayerWebgpuTrainer(net, config) ?? createGenericTrainer(net, config),
      inputGradientProvider: twoLayerWebgpuInputGradient,
      imageHotPath: {
        makeTrainer: (model, config) => (model instanceof Mlp ? createMlpWebgpuTrainer(model, config) : null),
        mlpInputGradientProvider: mlpWebgpuInputGradient,
      },
    };
  },
};

/**
 * The fused hot path of the active backend `name`, or null: the generic trainer runs. `threads`
 * kernel threads share each batch where the hot path can split it (wasm: the two-layer net and
 * the image MLP).
 */
export async function hotPathFor(name: BackendName, threads = 1): Promise<HotPath | null> {
  return (await hotPaths[name]?.(threads)) ?? null;
}
