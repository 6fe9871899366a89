/**
 * C4's baselines as background work beside the job queue: the Paper page asks for the baselines
 * of a config, they train as many sets at a time as the queue runs runs (each set: a linear classifier, random features and
 * the tangent model, clean and adversarially), their progress can be read and they can be
 * cancelled, and the results go into the store's BaselineCache, where the figures read them.
 *
 * They are not queue jobs: a baseline set is no run (no events, checkpoints or weights). It trains
 * in a job host worker of its own (JobQueue.trainBaselines), so it neither blocks the server's
 * event loop nor waits behind a run.
 */
import type { SparseCodingExperiment } from '../../shared/config.ts';
import { baselineKinds, baselineTrainings, type BaselineOptions, type BaselineResult } from '../engine/baselines.ts';
import type { BaselineProgress } from './paper/runMatching.ts';
import { codeVersion, configHash } from './provenance.ts';
import type { BaselineCache } from './store/baselineCache.ts';

/** Epochs a baseline set trains in all (every kind, clean and adversarial). */
export function baselineEpochs(config: SparseCodingExperiment): number {
  const epochs = config.train.cleanEpochs > 0 ? config.train.cleanEpochs : config.train.adversarialEpochs;
  return baselineKinds.length * baselineTrainings.length * epochs;
}

/** Trains a config's baselines somewhere (JobQueue.trainBaselines: in a worker). */
export type BaselineTrainer = (config: SparseCodingExperiment, options: Pick<BaselineOptions, 'onEpoch' | 'signal'>) => Promise<readonly BaselineResult[]>;

/** The baselines of this config from the cache, trained (and cached) first when missing. */
export async function cachedBaselines(
  cache: BaselineCache,
  config: SparseCodingExperiment,
  train: BaselineTrainer,
  options: Pick<BaselineOptions, 'onEpoch' | 'signal'> = {},
): Promise<readonly BaselineResult[]> {
  const hash = configHash(config);
  const cached = cache.get(hash, codeVersion());
  if (cached) return cached;
  const results = await train(config, options);
  cache.put(hash, codeVersion(), results);
  return results;
}

interface Job {
  readonly hash: string;
  readonly config: SparseCodingExperiment;
  readonly controller: AbortController;
  done: number;
  readonly total: number;
  running: boolean;
}

export class BaselineJobs {
  private readonly jobs: Job[] = [];
  private readonly failures = new Map<string, string>();
  /** The sets training now, one promise each. */
  private readonly training = new Set<Promise<void>>();
  private closed = false;

  /** `concurrency`: how many sets train at once (the job queue's jobs setting, read as each set ends). */
  constructor(
    private readonly cache: BaselineCache,
    private readonly train: BaselineTrainer,
    private readonly concurrency: () => number = () => 1,
  ) {}

  /** Train this config's baselines unless they are cached or on their way; true when queued now. */
  request(config: SparseCodingExperiment): boolean {
    if (this.closed) return false;
    const hash = configHash(config);
    if (this.jobs.some((j) => j.hash === hash) || this.cache.has(hash, codeVersion())) return false;
    this.failures.delete(hash);
    this.jobs.push({ hash, config, controller: new AbortController(), done: 0, total: baselineEpochs(config), running: false });
    this.fill();
    return true;
  }

  /** Where this config's baselines stand, when something is (or was, and failed) training them. */
  state(hash: string): BaselineProgress | null {
    const job = this.jobs.find((j) => j.hash === hash);
    if (job) return { status: job.running ? 'running' : 'queued', progress: { done: job.done, total: job.total }, error: null };
    const error = this.failures.get(hash);
    return error === undefined ? null : { status: 'failed', progress: null, error };
  }

  /** Stop this config's baselines (queued: dropped; running: stops at the next epoch). */
  cancel(hash: string): boolean {
    const job = this.jobs.find((j) => j.hash === hash);
    if (!job) return false;
    job.controller.abort();
    if (!job.running) this.jobs.splice(this.jobs.indexOf(job), 1);
    return true;
  }

  /** Resolves when nothing is queued or training. */
  async idle(): Promise<void> {
    while (this.training.size > 0) await Promise.all(this.training);
  }

  /** Stop everything (the service is closing). */
  close(): void {
    this.closed = true;
    for (const job of [...this.jobs]) this.cancel(job.hash);
  }

  /** Start queued sets while fewer than `concurrency()` train. */
  private fill(): void {
    for (let job = this.jobs.find((j) => !j.running); job && this.training.size < this.concurrency(); job = this.jobs.find((j) => !j.running)) {
      job.running = true;
      const set = this.trainOne(job).finally(() => {
        this.training.delete(set);
        this.fill();
      });
      this.training.add(set);
    }
  }

  private async trainOne(job: Job): Promise<void> {
    try {
      await cachedBaselines(this.cache, job.config, this.train, {
        signal: job.controller.signal,
        onEpoch: () => {
          job.done += 1;
        },
      });
    } catch (error) {
      if (!job.controller.signal.aborted) this.failures.set(job.hash, error instanceof Error ? error.message : String(error));
    } finally {
      this.jobs.splice(this.jobs.indexOf(job), 1);
    }
  }
}
