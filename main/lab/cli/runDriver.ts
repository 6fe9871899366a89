/**
 * What the verbs that compute runs (`run`, `sweep`, `resume`) share: the job queue their options
 * ask for, driving it to idle with a progress display and Ctrl-C, a failed run's exit status,
 * and a finished run's report. Every run goes through the queue, so it is recorded in the store
 * as it goes, checkpointed, and resumable; the terminal shows the progress from the same event
 * stream as the UI.
 */
import { writeFileSync } from 'node:fs';
import type { BackendRequest } from '../../engine/backend/chooseBackend.ts';
import { JobQueue, type JobUpdate } from '../jobs.ts';
import type { RunRecord, RunStore } from '../store/runStore.ts';
import type { CliIo } from './cliIo.ts';
import { exitCodeOf } from './exitCode.ts';
import { integerOption, jobsOption, threadsOption, type CliValues } from './options.ts';
import { progressView } from './progressBar.ts';
import { summaryTable } from './summaryTable.ts';

type FailedUpdate = JobUpdate & { kind: 'status' };

export function makeQueue(store: RunStore, values: CliValues): JobQueue {
  return new JobQueue(store, {
    backend: values.backend as BackendRequest | undefined,
    fused: !values['no-fused'],
    checkpointEvery: integerOption(values['checkpoint-every'], 'checkpoint-every', 0) ?? 5,
    concurrency: jobsOption(values),
    threads: threadsOption(values) ?? 'auto',
  });
}

/** Signals this soon after the first are that same Ctrl-C, relayed (under npm only). */
const sameRequestMs = 1500;

/**
 * Run the queue until idle with a progress display. The runs compute in the queue's workers, so
 * this thread always hears Ctrl-C: the first stops the running run at the end of its epoch,
 * checkpointed and marked interrupted (resumable); a second stops at once, stuck or not, without
 * that checkpoint (resume continues from the previous one), and ends the process with 130.
 * Returns the failures by run id.
 */
export async function drive(queue: JobQueue, store: RunStore, io: CliIo): Promise<Map<string, FailedUpdate>> {
  // Under `npm run`, one Ctrl-C reaches the CLI twice: from the terminal (the whole process
  // group) and again from npm, which forwards it. Run directly, each signal is the user's own.
  const relayedByNpm = io.env.npm_lifecycle_event !== undefined;
  const view = progressView(io.stderr);
  const failures = new Map<string, FailedUpdate>();
  const unsubscribe = queue.subscribe((update) => {
    if (update.kind === 'event') view.onEvent(update.event);
    else if (update.status === 'failed') failures.set(update.runId, update);
  });
  let interrupted = false;
  let firstSignalAt = 0;
  const onSignal = () => {
    const now = Date.now();
    if (interrupted) {
      if (relayedByNpm && now - firstSignalAt < sameRequestMs) return;
      const ids = queue.abandon('stopped by a second Ctrl-C, without waiting for the end of its epoch');
      view.clear();
      for (const id of ids) io.stderr.write(`\ninterrupted: ${id} (without a checkpoint of this epoch) — resume with: npm run lab -- resume ${id}\n`);
      store.close();
      process.exit(130);
    }
    interrupted = true;
    firstSignalAt = now;
    view.clear();
    io.stderr.write('\nstopping at the end of this epoch (checkpointed; resume it later)... Ctrl-C again stops at once, without that checkpoint\n');
    void queue.shutdown();
  };
  process.on('SIGINT', onSignal);
  try {
    await queue.idle();
  } finally {
    process.off('SIGINT', onSignal);
    unsubscribe();
    view.clear();
  }
  if (interrupted) {
    for (const run of store.list({ status: 'interrupted' }).slice(0, 5)) io.stderr.write(`interrupted: ${run.id} — resume with: npm run lab -- resume ${run.id}\n`);
  }
  return failures;
}

/** A failed run's message, and its exit status by the class of the error it failed with. */
export function failureExitCode(failure: FailedUpdate | undefined, io: CliIo): number {
  if (!failure) return 0;
  io.stderr.write(`${failure.error ?? 'the run failed'}\n`);
  return exitCodeOf(failure.errorName);
}

/** A finished run's summary table and where it is stored; its whole result as JSON when asked. */
export function printFinished(store: RunStore, run: RunRecord, jsonFile: string | undefined, io: CliIo): void {
  const result = store.result(run.id);
  const final = result.evaluations.find((e) => e.label === 'final');
  io.stdout.write(`\n${summaryTable(result.config, result.summary, final)}\n\n`);
  io.stdout.write(`run ${run.id}: seed ${result.config.seed}, ${result.timing.steps} steps in ${result.timing.seconds.toFixed(1)} s (training ${result.timing.trainSeconds.toFixed(1)} s); stored in ${run.folder}\n`);
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify(result));
    io.stdout.write(`result written to ${jsonFile}\n`);
  }
}
