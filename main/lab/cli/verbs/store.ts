/**
 * `lab store check` and `lab store rebuild`: the run store's own health. The run folders are the
 * truth and runs.sqlite their index, so a lost or damaged index is rebuilt from the folders.
 */
import { resolveStoreDir } from '../../store/location.ts';
import { RunStore } from '../../store/runStore.ts';
import { checkStore, rebuildStore } from '../../store/storeIndex.ts';
import type { Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const storeVerb: Verb = async (values, rest, io) => {
  const [action, ...extra] = rest;
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  const dir = resolveStoreDir({ flag: values.store, env: io.env });
  if (action === 'check') {
    const check = checkStore(dir);
    io.stdout.write(`store ${dir}: ${check.indexed ?? 'unknown'} run(s) indexed, ${check.folders} run folder(s)\n`);
    if (check.problems.length === 0) {
      io.stdout.write('no problems found\n');
      return 0;
    }
    io.stdout.write(`${check.problems.length} problem(s):\n${check.problems.map((p) => `- ${p}`).join('\n')}\n`);
    return 1;
  }
  if (action === 'rebuild') {
    const rebuilt = rebuildStore(dir);
    io.stdout.write(`rebuilt the index ${dir}/runs.sqlite from ${rebuilt.runs} run folder(s) and ${rebuilt.sweeps} sweep(s)\n`);
    if (rebuilt.aside) io.stdout.write(`the previous database is kept as ${rebuilt.aside}\n`);
    for (const problem of rebuilt.problems) io.stdout.write(`- ${problem}\n`);
    // Opening marks the runs whose process is gone as interrupted, as any open does.
    RunStore.open(dir).close();
    return 0;
  }
  throw new UsageError(`store needs "check" or "rebuild"${action ? `, not "${action}"` : ''}`);
};
