/**
 * What the job host (parent: the CLI, browser mode's server, the desktop engine) and its workers
 * say to each other. Compute runs in the worker; the store stays in the parent, so everything a
 * run produces comes back as a message: its events, its checkpoints, its weight files' bytes and
 * its result. Weight files' bytes are transferred (no copy); a checkpoint is copied, since the
 * engine keeps some of its arrays (the initial and after-clean weights) for the rest of the run.
 */
import type { ExperimentInput, ResolvedExperiment, SparseCodingExperiment } from '../../../shared/config.ts';
import type { FileEvaluation } from '../../../shared/fileEvaluation.ts';
import type { BackendInfo, RunEvent } from '../../../shared/events.ts';
import type { RunResult } from '../../../shared/result.ts';
import type { Throughput } from '../costEstimate.ts';
import type { BackendRequest } from '../../engine/backend/chooseBackend.ts';
import type { BaselineOptions, BaselineResult } from '../../engine/baselines.ts';
import type { EngineCheckpoint, ResumeState } from '../../engine/training/checkpoint.ts';

/** How a worker loads its compute backend (once, when it starts). */
export interface WorkerSetup {
  readonly backend?: BackendRequest | undefined;
  readonly fused?: boolean;
}

/** What the model card of a run's weight files says about the run. */
export interface WeightsAbout {
  readonly configHash: string;
  readonly codeVersion: string;
}

/** The work a worker can be given. */
export type WorkerTask =
  | {
      readonly kind: 'experiment';
      readonly config: ResolvedExperiment;
      readonly checkpointEvery: number;
      readonly resume?: ResumeState;
      readonly weights?: WeightsAbout;
      /** Kernel threads of the run's hot path (default 1). */
      readonly threads?: number;
      /** A stack's member: it trains on the stack's kernels where it can (../stacks.ts, stacksOnKernels). */
      readonly stacked?: boolean;
    }
  | { readonly kind: 'baselines'; readonly config: SparseCodingExperiment }
  /** The flagship's throughput on `threads` kernel threads (default 1), the count the queue's new runs use. */
  | { readonly kind: 'throughput'; readonly steps: number; readonly threads?: number }
  /** An MLP weights file evaluated on a dataset file (../mlpEvaluation.ts); paths, read by the worker. */
  | { readonly kind: 'evaluate-mlp'; readonly weights: string; readonly data: string; readonly input: ExperimentInput; readonly names: { readonly weights: string; readonly data: string } };

/** What each task kind resolves to. */
export interface TaskResults {
  experiment: RunResult;
  baselines: BaselineResult[];
  throughput: Throughput;
  'evaluate-mlp': FileEvaluation;
}

/** One epoch of a baseline set's training (its progress). */
export type BaselineEpoch = Parameters<NonNullable<BaselineOptions['onEpoch']>>[0];

/** An error as it crosses the thread boundary: its class name (rebuilt in the parent) and message. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
}

/**
 * `continue` answers an `epoch-end`: the parent has handled everything the worker sent before it
 * (and posted any cancel that handling asked for, which therefore arrives first).
 */
export type ToWorker =
  | { readonly type: 'task'; readonly taskId: number; readonly task: WorkerTask }
  | { readonly type: 'cancel'; readonly taskId: number }
  | { readonly type: 'continue'; readonly taskId: number };

export type FromWorker =
  | { readonly type: 'ready'; readonly backend: BackendInfo }
  | { readonly type: 'setup-failed'; readonly error: WireError }
  | { readonly type: 'event'; readonly taskId: number; readonly event: RunEvent }
  | { readonly type: 'checkpoint'; readonly taskId: number; readonly checkpoint: EngineCheckpoint }
  | { readonly type: 'weights'; readonly taskId: number; readonly label: 'init' | 'after-clean' | 'final'; readonly bytes: Uint8Array }
  | { readonly type: 'baseline-epoch'; readonly taskId: number; readonly epoch: BaselineEpoch }
  | { readonly type: 'epoch-end'; readonly taskId: number }
  | { readonly type: 'done'; readonly taskId: number; readonly result: TaskResults[WorkerTask['kind']] }
  | { readonly type: 'failed'; readonly taskId: number; readonly error: WireError };

/**
 * Test-only: an experiment whose seed equals this variable's value spins in a synchronous loop at
 * its second epoch's metrics (after the first epoch's checkpoint when checkpoints come every
 * epoch), as a job stuck in a numerical routine would; in the style of the store's
 * killInCheckpointVariable. The worker reads it from its environment.
 */
export const stuckJobSeedVariable = 'PURIFICATION_LAB_TEST_STUCK_SEED';


/**
 * Test-only: the worker of an experiment whose seed equals this variable's value ends its thread
 * at the run's second epoch's metrics (process.exit in a worker ends that thread alone), as a
 * worker dying of its own accord would.
 */
export const workerExitSeedVariable = 'PURIFICATION_LAB_TEST_WORKER_EXIT_SEED';
