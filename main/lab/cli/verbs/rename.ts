/** `lab rename ID NAME...`: a run's new name (the words after the id, joined by spaces). */
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const renameVerb: Verb = (values, rest, io) => {
  if (rest.length < 2) throw new UsageError('rename needs an id and the new name');
  const store = openStore(values, io);
  try {
    const run = store.get(rest[0]!);
    store.rename(run.id, rest.slice(1).join(' '));
    io.stdout.write(`${run.id}: renamed\n`);
    return 0;
  } finally {
    store.close();
  }
};
