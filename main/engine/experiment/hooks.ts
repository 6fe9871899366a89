/** What the caller of an experiment (a job worker, the CLI, the tests) plugs into it. */
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { RunEvent } from '../../../shared/events.ts';
import type { Mlp } from '../models/mlp.ts';
import type { ImageModel } from '../models/imageModel.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import type { ModelWeights } from '../testbeds/testbed.ts';
import type { EngineCheckpoint, ResumeState } from '../training/checkpoint.ts';
import type { Trainer } from '../training/trainer.ts';

/** Weights to start from instead of the seeded init: the testbed's flat layout (checkpoints' W) and b. */
export interface InitialWeights {
  readonly W: Float32Array;
  readonly b: Float32Array | null;
}

/**
 * A backend's fused path for image models (webgpu's WGSL kernels; wasm's kernel threads for the
 * MLP; wasm's one-thread kernels are chosen by the testbed).
 */
export interface ImageHotPath {
  /** The fused trainer, or null where the model has none (the generic or wasm one runs). */
  makeTrainer(model: ImageModel, config: ResolvedExperiment): Trainer | null;
  /** Routes the MLP's attacks through the fused PGD step (Mlp.inputGradientProvider). */
  readonly mlpInputGradientProvider: Mlp['inputGradientProvider'];
  /** Replaces the MLP's attack sessions outright (Mlp.inputGradientSource: wasm's kernel threads). */
  readonly mlpInputGradientSource?: Mlp['inputGradientSource'];
}

export interface ExperimentHooks {
  /** Receives every event, in order. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Aborting cancels the run between steps. */
  readonly signal?: AbortSignal;
  /** Builds the trainer for a two-layer network (the fused wasm path, or the generic tfjs one). */
  readonly makeTrainer?: (net: TwoLayerNet, config: ResolvedExperiment) => Trainer;
  /** Epochs between checkpoints handed to `onCheckpoint` (0: only at the end of a phase). */
  readonly checkpointEvery?: number;
  /** Receives each checkpoint; writing it is the caller's business (the run store). */
  readonly onCheckpoint?: (checkpoint: EngineCheckpoint) => void;
  /** Receives the model's weights at initialisation, after clean training, and at the end. */
  readonly onWeights?: (label: 'init' | 'after-clean' | 'final', weights: ModelWeights) => void;
  /** Start from these weights (`model.init.file`, read by the lab) instead of the seeded init; ignored on resume. */
  readonly initialWeights?: InitialWeights;
  /** Continue a run from a checkpoint instead of starting afresh. */
  readonly resume?: ResumeState;
  /**
   * Kernel threads the hot path (makeTrainer, inputGradientProvider) was built for; recorded in
   * every checkpoint, so that a resume computes on as many (default 1).
   */
  readonly threads?: number;
  /** A faster source of input gradients for evaluation attacks (the fused wasm path). */
  readonly inputGradientProvider?: TwoLayerNet['inputGradientProvider'];
  /** The fused path for image models, where the backend has one. */
  readonly imageHotPath?: ImageHotPath;
  /**
   * Awaited after each epoch, before the next one checks `signal`. A worker waits here for its
   * parent to have handled the epoch's events, so that a cancel asked while handling them stops
   * the run at this epoch's end, as it does in-process.
   */
  readonly afterEpoch?: () => Promise<void>;
}
