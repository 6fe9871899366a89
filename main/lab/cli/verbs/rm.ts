/**
 * `lab rm ID... [--yes]`: delete runs and their folders. It asks first on a terminal; without
 * one it refuses unless --yes, naming what it would delete.
 */
import { createInterface } from 'node:readline/promises';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const rmVerb: Verb = async (values, rest, io) => {
  if (rest.length === 0) throw new UsageError('rm needs one or more run ids');
  const store = openStore(values, io);
  try {
    // A prefix names runs for the person typing; what is deleted is always the whole id, shown first.
    const runs = [...new Map(rest.map((id) => store.get(id)).map((r) => [r.id, r])).values()];
    const named = runs.map((r) => `${r.id} (${r.name})`).join(', ');
    if (!values.yes) {
      if (!io.stdin.isTTY) throw new UsageError(`rm would delete ${named}: add --yes to confirm (there is no terminal to ask on)`);
      // The question goes to stderr (stdout stays the verb's result); the terminal echoes the answer.
      io.stderr.write(`Delete ${named} and their folders? [y/N] `);
      const rl = createInterface({ input: io.stdin });
      const answer = await rl.question('');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.stdout.write('nothing deleted\n');
        return 0;
      }
    }
    for (const r of runs) {
      store.delete(r.id);
      io.stdout.write(`deleted ${r.id}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
};
