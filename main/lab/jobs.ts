/**
 * Job control, independent of any UI: a queue of runs (one at a time by default) that records
 * every run in the store as it goes, with progress, cancel, checkpoints every N epochs, and
 * resume from the last checkpoint. The CLI, browser mode and the desktop app all drive runs
 * through this.
 */
import { join } from 'node:path';
import { sparseCodingOnly, type ExperimentInput, type ImageExperiment, type ResolvedExperiment } from '../../shared/config.ts';
import { inputDim } from '../../shared/modelSize.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';
import type { BackendLoaders, BackendRequest } from '../engine/backend.ts';
import { RunCancelledError, runExperiment, type ExperimentHooks } from '../engine/experiment.ts';
import type { ModelWeights } from '../engine/subjects/subject.ts';
import { codeVersion, configHash, provenance } from './provenance.ts';
import { prepareBackend } from './runHeadless.ts';
import { writeFileAtomic, type RunRecord, type RunStatus, type RunStore } from './store/runStore.ts';
import { encodeImageWeights, encodeWeights, imageModelCard, modelCard } from './weightsFile.ts';

export interface JobRequest {
  readonly input: ExperimentInput;
  readonly config: ResolvedExperiment;
  readonly preset?: string | undefined;
  readonly name?: string | undefined;
  readonly notes?: string | undefined;
  readonly sweepId?: string | undefined;
}

/** What a queue reports: each run's events, and its status changes. */
export type JobUpdate =
  | { readonly kind: 'event'; readonly runId: string; readonly event: RunEvent }
  | { readonly kind: 'status'; readonly runId: string; readonly status: RunStatus; readonly error?: string; readonly errorName?: string };

export interface JobQueueOptions {
  readonly backend?: BackendRequest | undefined;
  readonly loaders?: BackendLoaders;
  readonly fused?: boolean;
  /** Epochs between checkpoints (phase ends always checkpoint). */
  readonly checkpointEvery?: number;
  /** Runs at a time (compute is single-threaded on wasm: 1 is the sensible default). */
  readonly concurrency?: number;
}

/** Heartbeats (and progress in the store) at most this often. */
const heartbeatIntervalMs = 1000;

export class JobQueue {
  private readonly pending: { runId: string; resume: boolean }[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly stopReason = new Map<string, 'cancelled' | 'interrupted'>();
  private readonly listeners = new Set<(update: JobUpdate) => void>();
  private readonly idleWaiters: (() => void)[] = [];
  private backend: Promise<Awaited<ReturnType<typeof prepareBackend>>> | null = null;

  constructor(
    readonly store: RunStore,
    private readonly options: JobQueueOptions = {},
  ) {}

  /** Subscribe to updates; returns the unsubscribe function. */
  subscribe(listener: (update: JobUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(update: JobUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  /** The backend, loaded once for the queue's lifetime. */
  backendInfo(): Promise<BackendInfo> {
    return this.prepared().then((p) => p.info);
  }

  private prepared() {
    this.backend ??= prepareBackend({ backend: this.options.backend, ...(this.options.loaders ? { loaders: this.options.loaders } : {}), ...(this.options.fused === false ? { fused: false } : {}) });
    return this.backend;
  }

  /** Queue a new run; it is in the store (status queued) when this returns. */
  submit(request: JobRequest): RunRecord {
    const run = this.store.createRun({
      input: request.input,
      config: request.config,
      configHash: configHash(request.config),
      codeVersion: codeVersion(),
      name: request.name,
      notes: request.notes,
      preset: request.preset,
      sweepId: request.sweepId,
    });
    this.pending.push({ runId: run.id, resume: false });
    this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return run;
  }

  /** Queue an interrupted, failed or cancelled run to continue from its last checkpoint. */
  resume(id: string): RunRecord {
    const run = this.store.get(id);
    if (run.status === 'finished') throw new Error(`Run ${run.id} has finished: there is nothing to resume`);
    if (run.status === 'running' || this.running.has(run.id) || this.pending.some((p) => p.runId === run.id)) {
      throw new Error(`Run ${run.id} is already running or queued`);
    }
    const hasCheckpoint = run.checkpointEpoch !== null;
    this.store.requeue(run.id);
    this.pending.push({ runId: run.id, resume: hasCheckpoint });
    this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return this.store.get(run.id);
  }

  /** Cancel a queued or running run (a running one stops at the next epoch, checkpointed). */
  cancel(id: string): boolean {
    const run = this.store.get(id);
    const queued = this.pending.findIndex((p) => p.runId === run.id);
    if (queued >= 0) {
      this.pending.splice(queued, 1);
      this.store.end(run.id, 'cancelled');
      this.publish({ kind: 'status', runId: run.id, status: 'cancelled' });
      return true;
    }
    const controller = this.running.get(run.id);
    if (!controller) return false;
    this.stopReason.set(run.id, 'cancelled');
    controller.abort();
    return true;
  }

  /** Stop everything: running runs checkpoint and become interrupted (resumable); queued ones stay queued. */
  async shutdown(): Promise<void> {
    for (const [id, controller] of this.running) {
      this.stopReason.set(id, 'interrupted');
      controller.abort();
    }
    this.pending.length = 0;
    await this.idle();
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ids of the runs this queue is running now. */
  get active(): string[] {
    return [...this.running.keys()];
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 1;
    while (this.running.size < concurrency && this.pending.length > 0) {
      const next = this.pending.shift()!;
      const controller = new AbortController();
      this.running.set(next.runId, controller);
      void this.execute(next.runId, next.resume, controller.signal).finally(() => {
        this.running.delete(next.runId);
        this.stopReason.delete(next.runId);
        this.pump();
        if (this.running.size === 0 && this.pending.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async execute(runId: string, resume: boolean, signal: AbortSignal): Promise<RunResult | null> {
    const run = this.store.get(runId);
    let lastBeat = 0;
    try {
      const { info, hooks } = await this.prepared();
      this.store.markRunning(run.id, info, provenance(info));
      this.publish({ kind: 'status', runId: run.id, status: 'running' });
      const config = run.config;
      const about = (label: string) => ({ configHash: run.configHash, codeVersion: run.codeVersion, checkpoint: label });
      const weightsFile = (label: string, weights: ModelWeights): Uint8Array =>
        weights.kind === 'two-layer'
          ? encodeWeights(modelCard(sparseCodingOnly(config, 'two-layer weights').model, inputDim(config), about(label)), weights.W, weights.b)
          : encodeImageWeights(imageModelCard(config as ImageExperiment, about(label)), weights.tensors);
      const experimentHooks: ExperimentHooks = {
        ...hooks,
        signal,
        checkpointEvery: this.options.checkpointEvery ?? 5,
        onCheckpoint: (checkpoint) => this.store.writeCheckpoint(run.id, checkpoint),
        onWeights: (label, weights) => writeFileAtomic(join(run.folder, `weights-${label}.safetensors`), weightsFile(label, weights)),
        ...(resume ? { resume: this.store.prepareResume(run.id) } : {}),
        onEvent: (event) => {
          this.store.appendEvent(run.id, event);
          if (event.type === 'progress') {
            const now = Date.now();
            if (now - lastBeat >= heartbeatIntervalMs) {
              lastBeat = now;
              this.store.heartbeat(run.id, { done: event.done, total: event.total, phase: event.phase, epoch: event.epoch, epochs: event.epochs });
            }
          }
          this.publish({ kind: 'event', runId: run.id, event });
        },
      };
      const result = await runExperiment(run.config, info, experimentHooks);
      this.store.finish(run.id, result);
      this.publish({ kind: 'status', runId: run.id, status: 'finished' });
      return result;
    } catch (error) {
      if (error instanceof RunCancelledError) {
        const status = this.stopReason.get(run.id) ?? 'cancelled';
        this.store.end(run.id, status);
        this.publish({ kind: 'status', runId: run.id, status });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.store.end(run.id, 'failed', message);
        this.publish({ kind: 'event', runId: run.id, event: { type: 'failed', error: message } });
        this.publish({ kind: 'status', runId: run.id, status: 'failed', error: message, errorName: error instanceof Error ? error.name : 'Error' });
      }
      return null;
    }
  }
}
