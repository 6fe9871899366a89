/**
 * `lab sweep --grid PATH=V1,V2,... --seeds N [run options]`: a grid over config fields x seeds
 * (../../sweep.ts expands, records and aggregates it), driven on the job queue as `run` is, then
 * the table of mean ± std over seeds per grid point.
 */
import { ConfigError } from '../../../../shared/config.ts';
import { experimentInput } from '../../experimentInput.ts';
import { checkRunFits } from '../../memoryCheck.ts';
import { expandSweep, parseGrid, startSweep, sweepRunsByPoint, sweepTable, type SweepGrid } from '../../sweep.ts';
import { backendLine, checkBackendAndPreset, integerOption, openStore, type Verb } from '../options.ts';
import { drive, makeQueue } from '../runDriver.ts';
import { UsageError } from '../usage.ts';

export const sweepVerb: Verb = async (values, rest, io) => {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  checkBackendAndPreset(values);
  let grid: SweepGrid;
  try {
    grid = parseGrid(values.grid ?? []);
  } catch (error) {
    // A malformed --grid is a command-line mistake: say it with the usage.
    throw error instanceof ConfigError ? new UsageError(error.message) : error;
  }
  const seeds = integerOption(values.seeds, 'seeds', 1) ?? 1;
  const firstSeed = integerOption(values.seed, 'seed', 0) ?? 0;
  const base = experimentInput({ preset: values.preset, configFile: values.config, sets: values.set });
  const members = expandSweep(base, grid, seeds, firstSeed);
  // Every member must fit this machine's memory before any of them starts.
  for (const m of members) checkRunFits(m.config, undefined, `sweep member ${JSON.stringify(m.point)} seed ${m.seed}`);
  const store = openStore(values, io);
  try {
    const queue = makeQueue(store, values);
    io.stdout.write(backendLine(await queue.backendInfo()));
    const sweep = startSweep(store, queue, { base, grid, seeds, members, name: values.name, preset: values.preset ?? 'flagship' });
    io.stderr.write(`${sweep.sweepId}: ${members.length} runs (${sweep.points.length} grid points x ${seeds} seeds)\n`);
    const failures = await drive(queue, store, io);
    io.stdout.write(`\n${sweepTable(sweep.points, sweepRunsByPoint(store, sweep))}\n\n${sweep.sweepId}: final model metrics, mean ± std over seeds\n`);
    return failures.size > 0 ? 1 : 0;
  } finally {
    store.close();
  }
};
