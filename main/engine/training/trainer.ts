/**
 * The Trainer: what performs the steps of one training phase. A trainer owns the optimiser state
 * and the loss accumulator of its phase; the epoch loop (./trainEpoch.ts) drives it the same way
 * whichever implementation runs: the generic one on any tfjs backend (./genericTrainer.ts,
 * ./imageTrainer.ts), the fused wasm ones (./fusedTrainer.ts, ./fusedImageTrainer.ts) or the
 * low-rank fine-tuning (./lowRankTrainer.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { RandomStream } from '../random.ts';
import type { OptimizerState } from './checkpoint.ts';
import type { MemberClock } from './memberClock.ts';

/** The training attack of an adversarial phase (PGD, or FGM as one step of size eps). */
export interface TrainingAttack {
  readonly eps: number;
  readonly norm: 'l2' | 'linf';
  readonly steps: number;
  readonly stepSize: number | null;
  readonly stepScale?: number;
  readonly randomStart: boolean;
  readonly clip: readonly [number, number] | null;
  readonly rng: RandomStream;
}

export interface Trainer {
  /**
   * One optimiser step on the batch (x [B, d], its transpose, labels, loss weights). `xT` is x^T
   * [d, B] where the caller has it (a bench or test stepping one batch many times), else null: a
   * trainer whose gradient X^T G is a tfjs matMul transposes x itself, with the same kernel, where
   * it needs it; the fused WGSL, threaded and stacked kernels form X^T G from x and never make
   * it. So the epoch loop (./trainEpoch.ts) passes null, and those spend no transpose (on webgpu a
   * dispatch, and a second copy of the batch) on a batch they do not read.
   */
  step(x: tf.Tensor2D, xT: tf.Tensor2D | null, y: tf.Tensor1D, scale: tf.Tensor1D, lr: number): void;
  /** The adversarial version of a batch under the current weights (stays on the device). */
  perturb(x: tf.Tensor2D, y: tf.Tensor1D, attack: TrainingAttack): tf.Tensor2D;
  /** The loss summed over steps since the last call, then reset (one device read). */
  takeLoss(): number;
  /** Write the working weights back to the network (called at the end of each epoch). */
  sync(): void;
  /** The optimiser's state, for a checkpoint. */
  exportState(): OptimizerState;
  /** Continue from a checkpointed optimiser state. */
  importState(state: OptimizerState): void;
  dispose(): void;
  /**
   * A stack's member (./stackedProgram.ts): its step and training attack as requests that the
   * stack answers together with its other members' in one kernel call; the epoch loop awaits them
   * instead of calling step and perturb.
   */
  readonly later?: {
    step(x: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D, lr: number): Promise<void>;
    perturb(x: tf.Tensor2D, y: tf.Tensor1D, attack: TrainingAttack): Promise<tf.Tensor2D>;
    /** The member's own training seconds, which its epoch's wall time overstates (./memberClock.ts). */
    readonly clock: MemberClock;
  };
}

/** The training attack of the config, for the trainer. */
export function trainingAttack(config: ResolvedExperiment, clip: readonly [number, number] | null, rng: RandomStream): TrainingAttack {
  const a = config.train.attack;
  return {
    eps: a.eps,
    norm: a.norm,
    steps: a.kind === 'fgm' ? 1 : a.steps,
    stepSize: a.kind === 'fgm' ? null : a.stepSize,
    ...(a.kind === 'fgm' ? { stepScale: 1 } : {}),
    randomStart: a.kind === 'fgm' ? false : a.randomStart,
    clip: a.clip ? clip : null,
    rng,
  };
}
