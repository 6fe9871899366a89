/** `lab resume ID`: continue an interrupted run from its last checkpoint, on the job queue as `run`. */
import { checkBackendAndPreset, openStore, backendLine, type Verb } from '../options.ts';
import { drive, failureExitCode, makeQueue, printFinished } from '../runDriver.ts';
import { UsageError } from '../usage.ts';

export const resumeVerb: Verb = async (values, rest, io) => {
  if (rest.length !== 1) throw new UsageError('resume needs exactly one run id');
  checkBackendAndPreset(values);
  const store = openStore(values, io);
  try {
    const queue = makeQueue(store, values);
    const run = store.get(rest[0]!);
    const info = await queue.backendInfo();
    io.stdout.write(backendLine(info));
    if (run.backend && run.backend.name !== info.name) {
      io.stderr.write(`note: run ${run.id} started on ${run.backend.label} and continues on ${info.label}; results match an uninterrupted run only on the same backend\n`);
    }
    queue.resume(run.id);
    io.stderr.write(run.checkpointEpoch !== null ? `resuming ${run.id} from its checkpoint after epoch ${run.checkpointEpoch}\n` : `run ${run.id} has no checkpoint: starting it again from the beginning\n`);
    const failures = await drive(queue, store, io);
    const after = store.get(run.id);
    if (after.status === 'finished') printFinished(store, after, values.json, io);
    return after.status === 'finished' ? 0 : failureExitCode(failures.get(run.id), io) || 130;
  } finally {
    store.close();
  }
};
