/**
 * `lab run [options]`: one experiment through the job queue (recorded in the store as it goes,
 * checkpointed, resumable), its progress on the terminal, then the clean-vs-final summary.
 */
import { resolve } from 'node:path';
import { resolveExperiment } from '../../../../shared/config.ts';
import { experimentInput } from '../../experimentInput.ts';
import { initialWeightsOf } from '../../initialWeights.ts';
import { checkRunFits } from '../../memoryCheck.ts';
import { checkBackendAndPreset, integerOption, openStore, backendLine, type Verb } from '../options.ts';
import { drive, failureExitCode, makeQueue, printFinished } from '../runDriver.ts';
import { UsageError } from '../usage.ts';

export const runVerb: Verb = async (values, rest, io) => {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  checkBackendAndPreset(values);
  const seed = integerOption(values.seed, 'seed', 0);
  const given = experimentInput({ preset: values.preset, configFile: values.config, sets: values.set, seed });
  // --init-weights FILE is model.init.file, made absolute so that a resume from elsewhere finds it.
  const initFile = values['init-weights'];
  const input = initFile === undefined ? given : { ...given, model: { ...given.model, init: { file: resolve(initFile) } } as typeof given.model };
  const config = resolveExperiment(input, values.config ? `config (from ${values.config} and the command line)` : 'config');
  checkRunFits(config);
  // A weights file that does not fit is named now, before anything is queued.
  initialWeightsOf(config);
  const store = openStore(values, io);
  try {
    const queue = makeQueue(store, values);
    io.stdout.write(backendLine(await queue.backendInfo()));
    const run = queue.submit({ input, config, preset: values.preset ?? 'flagship', name: values.name, notes: values.notes });
    io.stderr.write(`run ${run.id} (store: ${store.dir})\n`);
    const failures = await drive(queue, store, io);
    const after = store.get(run.id);
    if (after.status === 'finished') printFinished(store, after, values.json, io);
    return after.status === 'finished' ? 0 : after.status === 'interrupted' || after.status === 'cancelled' ? 130 : failureExitCode(failures.get(run.id), io);
  } finally {
    store.close();
  }
};
