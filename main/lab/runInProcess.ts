/**
 * One experiment run in this process, start to finish, with no store and no job queue: prepare
 * the backend, run, hand back the result. The benchmark and the tests that need a whole run's
 * result come through here; runs a user starts go through the job queue (./jobs.ts) instead.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { RunResult } from '../../shared/result.ts';
import { prepareBackend, type BackendOptions } from '../engine/backend/prepareBackend.ts';
import { runExperiment } from '../engine/experiment.ts';

export interface InProcessOptions extends BackendOptions {
  readonly onEvent?: (event: RunEvent) => void;
  readonly onBackend?: (backend: BackendInfo) => void;
  readonly signal?: AbortSignal;
}

export async function runInProcess(config: ResolvedExperiment, options: InProcessOptions = {}): Promise<RunResult> {
  const { info, hooks } = await prepareBackend(options);
  options.onBackend?.(info);
  return runExperiment(config, info, {
    ...hooks,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
