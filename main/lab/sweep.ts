/**
 * A sweep: a grid over config fields crossed with seeds, each member an ordinary run tagged with
 * its sweep. The grid's expansion into members is pure (expandSweep), so the CLI, and a batch
 * system writing one config per member, resolve exactly the same runs; startSweep records the
 * sweep and queues its members; sweepTable aggregates the finished members, mean ± std over seeds.
 */
import { formatMeanStd, gridPoints, meanStd } from '../../shared/aggregate.ts';
import { ConfigError, picturesOf, resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../shared/config.ts';
import { closestConfigPath, isConfigPath, parseConfigValue, setConfigPath, valueAt } from '../../shared/configPath.ts';
import type { RunSummary } from '../../shared/events.ts';
import type { JobQueue } from './jobs.ts';
import { availableMemory } from './memoryCheck.ts';
import { canonicalJson } from './provenance.ts';
import { sweepStacks } from './stacks.ts';
import type { RunRecord, RunStore } from './store/runStore.ts';
import { textTable } from './textTable.ts';

/** The grid: each config path with the values it takes, in the order given. */
export type SweepGrid = readonly (readonly [string, readonly unknown[]])[];

/** One run of a sweep: its grid point, its seed, and the config it resolves to. */
export interface SweepMember {
  /** The grid point's assignments, path -> value. */
  readonly point: Readonly<Record<string, unknown>>;
  /** The point's index in gridPoints(grid) order. */
  readonly pointIndex: number;
  readonly seed: number;
  /** The input as given (the base with the point's fields and the seed set), as the store keeps it. */
  readonly input: ExperimentInput;
  readonly config: ResolvedExperiment;
  /** "train.attack.eps=0.2 · seed 1" */
  readonly name: string;
}

const gridProblem = (text: string, message: string) => new ConfigError(`--grid "${text}": ${message}`, [{ path: '--grid', message }]);

/** `PATH=V1,V2,...` (or `PATH=[...]`, a JSON list) into [path, values]; the path must exist. */
export function parseGrid(assignments: readonly string[]): SweepGrid {
  return assignments.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw gridProblem(text, 'expected PATH=V1,V2,..., for example --grid train.attack.eps=0.1,0.2,0.3');
    const path = text.slice(0, eq).trim();
    if (!isConfigPath(path)) throw new ConfigError(`--grid: unknown config path "${path}": did you mean "${closestConfigPath(path)}"?`, [{ path, message: 'unknown config path' }]);
    const raw = text.slice(eq + 1).trim();
    const values = raw.startsWith('[') ? parseConfigValue(raw) : raw.split(',').map((v) => parseConfigValue(v.trim()));
    if (!Array.isArray(values) || values.length === 0) throw gridProblem(text, 'expected at least one value');
    return [path, values] as const;
  });
}

/**
 * Every member of the sweep: each grid point (gridPoints order) with seeds firstSeed ..
 * firstSeed + seeds - 1, resolved. Resolving all of them first means a bad value anywhere stops
 * the sweep before any work; the ConfigError names the member.
 */
export function expandSweep(base: ExperimentInput, grid: SweepGrid, seeds: number, firstSeed = 0): SweepMember[] {
  if (!Number.isInteger(seeds) || seeds < 1) throw new ConfigError(`seeds = ${seeds}: expected an integer >= 1`, [{ path: 'seeds', message: 'expected an integer >= 1' }]);
  return gridPoints(grid).flatMap((point, pointIndex) => {
    const label = Object.entries(point).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    return Array.from({ length: seeds }, (_, s) => {
      const seed = firstSeed + s;
      let input = base;
      for (const [path, value] of Object.entries(point)) input = setConfigPath(input, path, value);
      input = { ...input, seed };
      const config = resolveExperiment(input, `sweep member ${JSON.stringify(point)} seed ${seed}`);
      return { point, pointIndex, seed, input, config, name: `${label} · seed ${seed}` };
    });
  });
}

/** "sweep train.attack.eps=0.2,0.3 x 2 seeds" */
export function sweepName(grid: SweepGrid, seeds: number): string {
  return `sweep ${grid.map(([p, v]) => `${p}=${v.join(',')}`).join(' ')} x ${seeds} seeds`;
}

export interface SweepPlan {
  readonly base: ExperimentInput;
  readonly grid: SweepGrid;
  readonly seeds: number;
  readonly members: readonly SweepMember[];
  /** The sweep's name; sweepName(grid, seeds) when not given. */
  readonly name?: string | undefined;
  /** The preset the members are recorded under. */
  readonly preset: string;
  /**
   * Compute same-shaped members as stacks (./stacks.ts), one per job slot of the queue (default
   * true); false runs every member alone.
   */
  readonly stack?: boolean;
}

export interface StartedSweep {
  readonly sweepId: string;
  readonly points: readonly Record<string, unknown>[];
  /** Each member's run, in the members' order. */
  readonly runs: readonly { readonly pointIndex: number; readonly runId: string }[];
  /** How many job slots the members take: stacks, and members alone, one slot each. */
  readonly stacks: number;
}

/**
 * Record the sweep in the store and queue its members (returns at once; the queue runs them):
 * same-shaped members as stacks, one per job slot (./stacks.ts), the others alone.
 */
export function startSweep(store: RunStore, queue: JobQueue, plan: SweepPlan): StartedSweep {
  const sweepId = store.createSweep({ name: plan.name ?? sweepName(plan.grid, plan.seeds), grid: Object.fromEntries(plan.grid.map(([path, values]) => [path, [...values]])), seeds: plan.seeds, input: plan.base });
  const runIds: string[] = [];
  const stacks = sweepStacks(plan.members.map((m) => m.config), { jobs: queue.concurrency, stack: plan.stack ?? true, available: availableMemory() });
  for (const stack of stacks) {
    const records = queue.submitStack(stack.map((i) => ({ input: plan.members[i]!.input, config: plan.members[i]!.config, preset: plan.preset, name: plan.members[i]!.name, sweepId })));
    stack.forEach((i, k) => (runIds[i] = records[k]!.id));
  }
  const runs = plan.members.map((m, i) => ({ pointIndex: m.pointIndex, runId: runIds[i]! }));
  return { sweepId, points: gridPoints(plan.grid), runs, stacks: stacks.length };
}

/**
 * Whether a run's config holds a grid point's values: how a store's runs (run here or imported)
 * are sorted into a sweep's points. eval.pictures is read with its defaults, where a resolved
 * config leaves it out.
 */
export function configAtPoint(config: ResolvedExperiment, point: Readonly<Record<string, unknown>>): boolean {
  const filled = { ...config, eval: { ...config.eval, pictures: picturesOf(config.eval) } };
  return Object.entries(point).every(([path, v]) => canonicalJson(valueAt(filled, path)) === canonicalJson(v));
}

/** The sweep's runs as they are now in the store, grouped by grid point. */
export function sweepRunsByPoint(store: RunStore, sweep: StartedSweep): RunRecord[][] {
  return sweep.points.map((_, i) => sweep.runs.filter((r) => r.pointIndex === i).map((r) => store.get(r.runId)));
}

const sweepMetrics: [string, (s: RunSummary) => number | undefined][] = [
  ['clean', (s) => s.final.cleanAccuracy],
  ['robust', (s) => s.final.robustAccuracy],
  ['mixture-dir', (s) => s.final.mixtureDirectionAccuracy],
  ['mixture ratio', (s) => s.final.mixtureRatioMedian],
  ['robust after clean', (s) => s.afterClean?.robustAccuracy],
];

/** The sweep's table: one row per grid point, each metric as mean ± std over its finished seeds. */
export function sweepTable(points: readonly Record<string, unknown>[], runsByPoint: readonly (readonly RunRecord[])[]): string {
  const keys = Object.keys(points[0] ?? {});
  const header = [...keys, 'seeds', ...sweepMetrics.map(([name]) => name)];
  const rows = points.map((p, i) => {
    const summaries = runsByPoint[i]!.map((r) => r.summary).filter((s): s is RunSummary => s !== null && s.final !== undefined);
    return [
      ...keys.map((k) => JSON.stringify(p[k])),
      String(summaries.length),
      ...sweepMetrics.map(([, get]) => formatMeanStd(meanStd(summaries.map(get).filter((v): v is number => v !== undefined)))),
    ];
  });
  return textTable([header, ...rows], { leftAligned: keys.length });
}
