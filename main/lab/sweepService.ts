/**
 * The sweep API methods: the store's sweeps with each grid point's mean ± std over its finished
 * seeds (the runs list's sweep view; imported sweeps included), and the sbatch script of a sweep
 * as a Slurm job array (the setup form shows it; nothing is written). The params arrive checked
 * against shared/api.ts; here the grid's paths, every member's config and the resources are.
 */
import { gridPoints, meanStd } from '../../shared/aggregate.ts';
import { ApiError, type ApiParams, type SlurmScriptPreview, type SweepItem } from '../../shared/api.ts';
import { ConfigError, type ExperimentInput } from '../../shared/config.ts';
import { closestConfigPath, isConfigPath, mergeConfig } from '../../shared/configPath.ts';
import { presetByName } from '../../shared/presets.ts';
import { checkResources, SlurmSetupError, sbatchScript } from './slurm/sbatchScript.ts';
import type { RunStore } from './store/runStore.ts';
import { configAtPoint, expandSweep, sweepName, type SweepGrid, type SweepMember } from './sweep.ts';

const seedStat = (values: number[]) => {
  const m = meanStd(values);
  return { mean: m.n > 0 ? m.mean : null, std: m.n > 1 ? m.std : null, n: m.n };
};

/** Every sweep of the store, newest first, with its table. */
export function sweepList(store: RunStore): SweepItem[] {
  const rows = store.db.prepare('SELECT id, name, grid_json, seeds, created_at FROM sweeps ORDER BY created_at DESC, id DESC').all() as { id: string; name: string; grid_json: string; seeds: number; created_at: string }[];
  return rows.map((row) => {
    const grid = JSON.parse(row.grid_json) as Record<string, unknown[]>;
    const runs = store.list({ sweepId: row.id });
    const points = gridPoints(Object.entries(grid)).map((point) => {
      const members = runs.filter((r) => configAtPoint(r.config, point));
      const finals = members.filter((r) => r.status === 'finished' && r.summary?.final).map((r) => r.summary!.final);
      return {
        point,
        runs: members.length,
        finished: finals.length,
        clean: seedStat(finals.map((f) => f.cleanAccuracy)),
        robust: seedStat(finals.map((f) => f.robustAccuracy)),
      };
    });
    return { id: row.id, name: row.name, grid, seeds: row.seeds, createdAt: row.created_at, points };
  });
}

/** The most members the setup form writes in one array (the design's scale: 10,000 members). */
export const maxSlurmMembers = 10_000;

/** Shell-quote one word of the printed command. */
const quote = (word: string) => (/^[\w.,=/:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** A sweep's grid, base and members from the setup form's params; ApiErrors name the field. */
export function sweepFromParams(params: ApiParams<'sweeps.start'>, maxMembers: number): { preset: string; base: ExperimentInput; grid: SweepGrid; members: SweepMember[] } {
  const grid = params.grid.map((g, i) => {
    if (!isConfigPath(g.path)) {
      const message = `unknown config path "${g.path}": did you mean "${closestConfigPath(g.path)}"?`;
      throw new ApiError(`grid.${i}.path: ${message}`, [{ path: `grid.${i}.path`, message }]);
    }
    return [g.path, g.values] as const;
  });
  // Checked before expanding: 8 fields of 100 values would be 10^16 members.
  const count = grid.reduce((n, [, values]) => n * values.length, params.seeds);
  if (count > maxMembers) {
    const message = `${count} members (grid points x seeds): at most ${maxMembers} in one sweep here`;
    throw new ApiError(`grid: ${message}`, [{ path: 'grid', message }]);
  }
  const preset = params.preset ?? 'flagship';
  const presetConfig = presetByName(preset)?.config;
  if (!presetConfig) throw new ApiError(`preset: no preset "${preset}"`, [{ path: 'preset', message: `no preset "${preset}"` }]);
  const base = mergeConfig(structuredClone(presetConfig), params.input) as ExperimentInput;
  try {
    return { preset, base, grid, members: expandSweep(base, grid, params.seeds) };
  } catch (error) {
    if (error instanceof ConfigError) throw new ApiError(error.message, error.problems.map((p) => ({ path: p.path, message: p.message })));
    throw error;
  }
}

/** The sbatch script and the command of a sweep as a Slurm job array (nothing is written). */
export function slurmScriptPreview(params: ApiParams<'sweeps.slurmScript'>): SlurmScriptPreview {
  const { preset, grid, members } = sweepFromParams(params, maxSlurmMembers);
  let resources;
  try {
    resources = checkResources(params.resources, 'resources');
  } catch (error) {
    if (error instanceof SlurmSetupError) throw new ApiError(error.message, [{ path: 'resources', message: error.message }]);
    throw error;
  }
  const name = sweepName(grid, params.seeds);
  const r = resources;
  const command = [
    'npm', 'run', 'lab', '--', 'sweep', '--preset', preset,
    ...Object.keys(params.input).length > 0 ? ['--config', 'CHANGES.json'] : [],
    ...grid.flatMap(([path, values]) => ['--grid', `${path}=${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',')}`]),
    '--seeds', String(params.seeds), '--slurm', 'SWEEP_FOLDER',
    ...(r.partition ? ['--partition', r.partition] : []),
    ...(r.time ? ['--time', r.time] : []),
    ...(r.cpusPerTask ? ['--cpus-per-task', String(r.cpusPerTask)] : []),
    ...(r.mem ? ['--mem', r.mem] : []),
    ...(r.gres ? ['--gres', r.gres] : []),
    ...(r.maxParallel ? ['--max-parallel', String(r.maxParallel)] : []),
    ...(r.setup ?? []).flatMap((line) => ['--setup', line]),
    ...(r.project ? ['--project', r.project] : []),
  ].map(quote).join(' ');
  return { members: members.length, script: sbatchScript({ name, members: members.length, resources }), command };
}
