/**
 * `lab runs [--status S] [--sweep ID] [--grep TEXT] [--preset P]`: the stored runs, newest first,
 * one line each; with --sweep, the sweep's table (mean ± std over seeds per grid point) below.
 */
import { gridPoints } from '../../../../shared/aggregate.ts';
import { configAtPoint, sweepTable } from '../../sweep.ts';
import { threeDecimals as fmt, textTable } from '../../textTable.ts';
import type { RunStatus } from '../../store/runStore.ts';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

const statuses: RunStatus[] = ['queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled'];

export const runsVerb: Verb = (values, rest, io) => {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (values.status && !statuses.includes(values.status as RunStatus)) throw new UsageError(`--status "${values.status}": expected one of ${statuses.join(', ')}`);
  const store = openStore(values, io);
  try {
    const runs = store.list({ status: values.status as RunStatus | undefined, sweepId: values.sweep, text: values.grep, preset: values.preset });
    if (runs.length === 0) {
      io.stdout.write(`no runs${values.status || values.sweep || values.grep ? ' match' : ' yet'} in ${store.dir}\n`);
      return 0;
    }
    const rows = [['id', 'status', 'name', 'clean', 'robust', 'mixture-dir', 'progress'], ...runs.map((r) => [
      r.id,
      r.status,
      r.name.length > 40 ? `${r.name.slice(0, 39)}…` : r.name,
      fmt(r.summary?.final?.cleanAccuracy),
      fmt(r.summary?.final?.robustAccuracy),
      fmt(r.summary?.final?.mixtureDirectionAccuracy),
      r.status === 'running' && r.progress ? `${Math.round((100 * r.progress.done) / r.progress.total)} % (${r.progress.phase} ${r.progress.epoch}/${r.progress.epochs})` : r.checkpointEpoch !== null && r.status !== 'finished' ? `checkpoint @ epoch ${r.checkpointEpoch}` : '',
    ])];
    io.stdout.write(`${textTable(rows, { leftAligned: Infinity, gap: '  ' })}\n`);
    if (values.sweep) {
      // The sweep's table below its runs (run here, or imported from a cluster): mean ± std per grid point.
      const sweep = store.sweep(values.sweep);
      const grid = Object.entries(sweep.grid);
      const points = gridPoints(grid);
      const members = store.list({ sweepId: sweep.id });
      const byPoint = points.map((p) => members.filter((r) => configAtPoint(r.config, p)));
      io.stdout.write(`\n${sweepTable(points, byPoint)}\n\n${sweep.id}: final model metrics of its finished runs, mean ± std over seeds\n`);
    }
    return 0;
  } finally {
    store.close();
  }
};
