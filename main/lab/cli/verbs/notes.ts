/** `lab notes ID TEXT...`: a run's notes, replaced (the words after the id, joined by spaces). */
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const notesVerb: Verb = (values, rest, io) => {
  if (rest.length < 2) throw new UsageError('notes needs an id and the new notes');
  const store = openStore(values, io);
  try {
    const run = store.get(rest[0]!);
    store.setNotes(run.id, rest.slice(1).join(' '));
    io.stdout.write(`${run.id}: notes saved\n`);
    return 0;
  } finally {
    store.close();
  }
};
