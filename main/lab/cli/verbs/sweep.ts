/**
 * `lab sweep --grid PATH=V1,V2,... --seeds N [run options]`: a grid over config fields x seeds
 * (../../sweep.ts expands, records and aggregates it), driven on the job queue as `run` is, then
 * the table of mean ± std over seeds per grid point. With `--slurm DIR` the same members are
 * written as a Slurm job array instead; `sweep status|resubmit|member DIR` work on such a folder
 * (slurm.ts).
 */
import { ConfigError } from '../../../../shared/config.ts';
import { experimentInput } from '../../experimentInput.ts';
import { checkRunFits } from '../../memoryCheck.ts';
import { expandSweep, parseGrid, startSweep, sweepName, sweepRunsByPoint, sweepTable, type SweepGrid } from '../../sweep.ts';
import { backendLine, checkBackendAndPreset, integerOption, openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

export const sweepVerb: Verb = async (values, rest, io) => {
  // `sweep status|resubmit|member DIR`: a Slurm sweep's job folder (slurm.ts).
  if (rest.length > 0) return (await import('./slurm.ts')).slurmSweepVerb(values, rest, io);
  if (values['init-weights'] !== undefined) throw new UsageError('--init-weights is an option of run; a sweep takes model.init.file in its --config');
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
  if (values.slurm !== undefined) {
    // Written as a Slurm job array: the members run on the cluster's nodes, whose memory --mem asks for.
    const name = values.name ?? sweepName(grid, seeds);
    return (await import('./slurm.ts')).writeSlurmSweep(values, { name, preset: values.preset ?? 'flagship', grid: Object.fromEntries(grid), seeds, base, members }, io.stdout);
  }
  // Every member must fit this machine's memory before any of them starts.
  for (const m of members) checkRunFits(m.config, undefined, `sweep member ${JSON.stringify(m.point)} seed ${m.seed}`);
  // The job queue (and with it the engine) loads only for a sweep run here.
  const { drive, makeQueue } = await import('../runDriver.ts');
  const store = openStore(values, io);
  try {
    const queue = makeQueue(store, values);
    io.stdout.write(backendLine(await queue.backendInfo()));
    const sweep = startSweep(store, queue, { base, grid, seeds, members, name: values.name, preset: values.preset ?? 'flagship', stack: !values['no-stack'] });
    io.stderr.write(`${sweep.sweepId}: ${members.length} runs (${sweep.points.length} grid points x ${seeds} seeds) ${values['no-stack'] ? 'each alone (--no-stack)' : `in ${sweep.stacks} ${sweep.stacks === 1 ? 'stack' : 'stacks'} of runs computing together`}\n`);
    const failures = await drive(queue, store, io);
    io.stdout.write(`\n${sweepTable(sweep.points, sweepRunsByPoint(store, sweep))}\n\n${sweep.sweepId}: final model metrics, mean ± std over seeds\n`);
    return failures.size > 0 ? 1 : 0;
  } finally {
    store.close();
  }
};
