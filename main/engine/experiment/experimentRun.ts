/**
 * The state of one experiment run, shared by its phases: the testbed, the protocol's phases, the
 * random streams, the counters, the weights kept for the clean-to-final comparison, and the
 * record of everything reported (every event goes to the hooks' `onEvent` as it happens, and
 * into the result).
 */
import { isImageExperiment, sparseCodingOnly, type ResolvedExperiment } from '../../../shared/config.ts';
import type { BackendInfo, Evaluation, InstrumentsEvent, MetricsEvent, ModelSummary, RunEvent, WarningEvent } from '../../../shared/events.ts';
import { epochEvaluationStreamName, RandomStream } from '../random.ts';
import { imageTestbed } from '../testbeds/imageTestbed.ts';
import { sparseCodingTestbed } from '../testbeds/sparseCodingTestbed.ts';
import type { Testbed } from '../testbeds/testbed.ts';
import { batchSizes } from '../training/batches.ts';
import type { EngineCheckpoint } from '../training/checkpoint.ts';
import { phasesOf, type PhasePlan } from '../training/protocols.ts';
import type { Trainer } from '../training/trainer.ts';
import type { ExperimentHooks } from './hooks.ts';

export class ExperimentRun {
  readonly started = performance.now();
  readonly metrics: MetricsEvent[] = [];
  readonly instruments: InstrumentsEvent[] = [];
  readonly evaluations: Evaluation[] = [];
  readonly warnings: WarningEvent[] = [];
  readonly testbed: Testbed;
  readonly phases: readonly PhasePlan[];
  readonly stepsPerEpoch: number;
  /** Steps of the whole protocol, for progress. */
  readonly totalSteps: number;
  /**
   * The robust accuracies during training have their own stream; each phase-end evaluation
   * draws from a fresh one (../random.ts), so the final numbers do not depend on eval.every.
   */
  readonly epochEvalRng: RandomStream;
  shuffleRng: RandomStream;
  attackRng: RandomStream;
  /** Seconds of training: for a stack's member, its own (../training/memberClock.ts). */
  trainSeconds = 0;
  /** Seconds a stack's member waited while the other members computed: neither training nor evaluation. */
  waitedSeconds = 0;
  steps = 0;
  globalEpoch = 0;
  /** The weights at initialisation, and after the clean phase once it is over. */
  W0: Float32Array;
  Wclean: Float32Array | null = null;
  /** The thresholds after the clean phase (learned mode changes them), for the transfer attacks. */
  bClean: Float32Array | null = null;
  afterClean: ModelSummary | undefined;
  finalSummary: ModelSummary | null = null;
  /** The trainer of the phase being trained. */
  trainer: Trainer | null = null;

  constructor(
    readonly config: ResolvedExperiment,
    readonly backend: BackendInfo,
    readonly hooks: ExperimentHooks,
  ) {
    this.testbed = isImageExperiment(config)
      ? imageTestbed(config, backend, hooks.imageHotPath)
      : sparseCodingTestbed(sparseCodingOnly(config, 'The two-layer network'), { makeTrainer: hooks.makeTrainer, inputGradientProvider: hooks.inputGradientProvider });
    this.phases = phasesOf(config);
    this.stepsPerEpoch = batchSizes(config.task.trainSize, config.train.batchSize).length;
    this.totalSteps = this.phases.reduce((s, p) => s + p.epochs * this.stepsPerEpoch, 0);
    this.epochEvalRng = RandomStream.derive(config.seed, epochEvaluationStreamName);
    if (hooks.initialWeights && !hooks.resume) this.testbed.restore(hooks.initialWeights.W, hooks.initialWeights.b);
    this.W0 = this.testbed.weights();
    this.shuffleRng = RandomStream.derive(config.seed, 'train.shuffle');
    this.attackRng = RandomStream.derive(config.seed, 'train.attack');
  }

  emit(event: RunEvent): void {
    this.hooks.onEvent?.(event);
  }

  warn(warning: WarningEvent): void {
    this.warnings.push(warning);
    this.emit(warning);
  }

  /** Seconds since the run started. */
  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** A checkpoint of where the run is: `epochInPhase` epochs of phase `phaseIndex` done. */
  checkpoint(phaseIndex: number, epochInPhase: number, trainer: Trainer): EngineCheckpoint {
    return {
      version: 1,
      phaseIndex,
      epochInPhase,
      globalEpoch: this.globalEpoch,
      steps: this.steps,
      trainSeconds: this.trainSeconds,
      rng: { shuffle: this.shuffleRng.state, attack: this.attackRng.state, eval: this.epochEvalRng.state },
      W: this.testbed.weights(),
      b: this.testbed.thresholds(),
      W0: this.W0,
      Wclean: this.Wclean,
      bClean: this.bClean,
      optimizer: trainer.exportState(),
      afterClean: this.afterClean ?? null,
      threads: this.hooks.threads ?? 1,
    };
  }
}
