/**
 * The verbs that compute: `run` (one experiment), `sweep` (a grid x seeds) and `resume`. Each
 * goes through the job queue, so every run is recorded in the store as it goes, checkpointed,
 * and resumable; the terminal shows the progress from the same event stream.
 */
import { writeFileSync } from 'node:fs';
import { formatMeanStd, gridPoints, meanStd } from '../../../shared/aggregate.ts';
import type { ExperimentInput } from '../../../shared/config.ts';
import { isConfigPath, closestConfigPath, parseConfigValue, setConfigPath } from '../../../shared/configPath.ts';
import type { RunSummary } from '../../../shared/events.ts';
import { presets } from '../../../shared/presets.ts';
import { resolveExperiment } from '../../../shared/config.ts';
import { checkRunFits } from '../memoryCheck.ts';
import { backendRequests, describeBackend, type BackendRequest } from '../../engine/backend.ts';
import { experimentInput } from '../experimentInput.ts';
import { JobQueue, type JobUpdate } from '../jobs.ts';
import type { RunRecord, RunStore } from '../store/runStore.ts';
import { openStore, type CliValues } from './options.ts';
import { progressView } from './progressBar.ts';
import { summaryTable } from './summaryTable.ts';
import { UsageError } from './usage.ts';

function integerOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} "${value}": expected an integer >= ${min}`);
  return n;
}

function checkCommonOptions(values: CliValues): void {
  if (values.backend !== undefined && !(backendRequests as readonly string[]).includes(values.backend)) {
    throw new UsageError(`--backend "${values.backend}": expected one of ${backendRequests.join(', ')}`);
  }
  if (values.preset !== undefined && !presets.some((p) => p.name === values.preset)) {
    throw new UsageError(`--preset "${values.preset}": expected one of ${presets.map((p) => p.name).join(', ')}`);
  }
}

function makeQueue(store: RunStore, values: CliValues): JobQueue {
  return new JobQueue(store, {
    backend: values.backend as BackendRequest | undefined,
    fused: !values['no-fused'],
    checkpointEvery: integerOption(values['checkpoint-every'], 'checkpoint-every', 0) ?? 5,
  });
}

/**
 * Under `npm run`, one Ctrl-C reaches the CLI twice: from the terminal (the whole process group)
 * and again from npm, which forwards it. Run directly (`node --import tsx ...`), each signal is
 * the user's own.
 */
const relayedByNpm = process.env.npm_lifecycle_event !== undefined;

/** Signals this soon after the first are that same Ctrl-C, relayed (under npm only). */
const sameRequestMs = 1500;

/**
 * Run the queue until idle with a progress display. The runs compute in the queue's workers, so
 * this thread always hears Ctrl-C: the first stops the running run at the end of its epoch,
 * checkpointed and marked interrupted (resumable); a second stops at once, stuck or not, without
 * that checkpoint (resume continues from the previous one). Returns the failures by run id.
 */
async function drive(queue: JobQueue, store: RunStore): Promise<Map<string, JobUpdate & { kind: 'status' }>> {
  const view = progressView(process.stderr);
  const failures = new Map<string, JobUpdate & { kind: 'status' }>();
  const unsubscribe = queue.subscribe((update) => {
    if (update.kind === 'event') view.onEvent(update.event);
    else if (update.status === 'failed') failures.set(update.runId, update);
  });
  let interrupted = false;
  let firstSignalAt = 0;
  const onSignal = () => {
    const now = Date.now();
    if (interrupted) {
      if (relayedByNpm && now - firstSignalAt < sameRequestMs) return;
      const ids = queue.abandon('stopped by a second Ctrl-C, without waiting for the end of its epoch');
      view.clear();
      for (const id of ids) process.stderr.write(`\ninterrupted: ${id} (without a checkpoint of this epoch) — resume with: npm run lab -- resume ${id}\n`);
      store.close();
      process.exit(130);
    }
    interrupted = true;
    firstSignalAt = now;
    view.clear();
    process.stderr.write('\nstopping at the end of this epoch (checkpointed; resume it later)... Ctrl-C again stops at once, without that checkpoint\n');
    void queue.shutdown();
  };
  process.on('SIGINT', onSignal);
  try {
    await queue.idle();
  } finally {
    process.off('SIGINT', onSignal);
    unsubscribe();
    view.clear();
  }
  if (interrupted) {
    for (const run of store.list({ status: 'interrupted' }).slice(0, 5)) process.stderr.write(`interrupted: ${run.id} — resume with: npm run lab -- resume ${run.id}\n`);
  }
  return failures;
}

function exitCodeOf(failure: (JobUpdate & { kind: 'status' }) | undefined): number {
  if (!failure) return 0;
  process.stderr.write(`${failure.error ?? 'the run failed'}\n`);
  return failure.errorName === 'DeadNetworkError' ? 3 : 1;
}

function printFinished(store: RunStore, run: RunRecord, jsonFile: string | undefined): void {
  const result = store.result(run.id);
  const final = result.evaluations.find((e) => e.label === 'final');
  process.stdout.write(`\n${summaryTable(result.config, result.summary, final)}\n\n`);
  process.stdout.write(`run ${run.id}: seed ${result.config.seed}, ${result.timing.steps} steps in ${result.timing.seconds.toFixed(1)} s (training ${result.timing.trainSeconds.toFixed(1)} s); stored in ${run.folder}\n`);
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify(result));
    process.stdout.write(`result written to ${jsonFile}\n`);
  }
}

export async function runCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  checkCommonOptions(values);
  const seed = integerOption(values.seed, 'seed', 0);
  const sources = { preset: values.preset, configFile: values.config, sets: values.set, seed };
  const input = experimentInput(sources);
  const config = resolveExperiment(input, values.config ? `config (from ${values.config} and the command line)` : 'config');
  checkRunFits(config);
  const store = openStore(values);
  try {
    const queue = makeQueue(store, values);
    const info = await queue.backendInfo();
    process.stdout.write(`${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`);
    const run = queue.submit({ input, config, preset: values.preset ?? 'flagship', name: values.name, notes: values.notes });
    process.stderr.write(`run ${run.id} (store: ${store.dir})\n`);
    const failures = await drive(queue, store);
    const after = store.get(run.id);
    if (after.status === 'finished') printFinished(store, after, values.json);
    return after.status === 'finished' ? 0 : after.status === 'interrupted' || after.status === 'cancelled' ? 130 : exitCodeOf(failures.get(run.id));
  } finally {
    store.close();
  }
}

export async function resumeCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length !== 1) throw new UsageError('resume needs exactly one run id');
  checkCommonOptions(values);
  const store = openStore(values);
  try {
    const queue = makeQueue(store, values);
    const run = store.get(rest[0]!);
    const info = await queue.backendInfo();
    process.stdout.write(`${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`);
    if (run.backend && run.backend.name !== info.name) {
      process.stderr.write(`note: run ${run.id} started on ${run.backend.label} and continues on ${info.label}; results match an uninterrupted run only on the same backend\n`);
    }
    queue.resume(run.id);
    process.stderr.write(run.checkpointEpoch !== null ? `resuming ${run.id} from its checkpoint after epoch ${run.checkpointEpoch}\n` : `run ${run.id} has no checkpoint: starting it again from the beginning\n`);
    const failures = await drive(queue, store);
    const after = store.get(run.id);
    if (after.status === 'finished') printFinished(store, after, values.json);
    return after.status === 'finished' ? 0 : exitCodeOf(failures.get(run.id)) || 130;
  } finally {
    store.close();
  }
}

/** `--grid path=v1,v2,v3` into [path, values]; the path must exist. */
function parseGrid(assignments: readonly string[]): [string, unknown[]][] {
  return assignments.map((a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--grid "${a}": expected PATH=V1,V2,..., for example --grid train.attack.eps=0.1,0.2,0.3`);
    const path = a.slice(0, eq).trim();
    if (!isConfigPath(path)) throw new UsageError(`--grid: unknown config path "${path}": did you mean "${closestConfigPath(path)}"?`);
    const raw = a.slice(eq + 1).trim();
    const values = raw.startsWith('[') ? (parseConfigValue(raw) as unknown[]) : raw.split(',').map((v) => parseConfigValue(v.trim()));
    if (!Array.isArray(values) || values.length === 0) throw new UsageError(`--grid "${a}": expected at least one value`);
    return [path, values];
  });
}

const sweepMetrics: [string, (s: RunSummary) => number | undefined][] = [
  ['clean', (s) => s.final.cleanAccuracy],
  ['robust', (s) => s.final.robustAccuracy],
  ['mixture-dir', (s) => s.final.mixtureDirectionAccuracy],
  ['mixture ratio', (s) => s.final.mixtureRatioMedian],
  ['robust after clean', (s) => s.afterClean?.robustAccuracy],
];

/** The sweep's table: one row per grid point, each metric as mean ± std over its seeds. */
export function sweepTable(points: Record<string, unknown>[], runsByPoint: RunRecord[][]): string {
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
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => (c < keys.length ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')).join('\n');
}

export async function sweepCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  checkCommonOptions(values);
  const grid = parseGrid(values.grid ?? []);
  const seeds = integerOption(values.seeds, 'seeds', 1) ?? 1;
  const firstSeed = integerOption(values.seed, 'seed', 0) ?? 0;
  const base = experimentInput({ preset: values.preset, configFile: values.config, sets: values.set });
  const points = gridPoints(grid);
  // Resolve every member first: a bad value anywhere stops the sweep before any work.
  const members: { point: number; input: ExperimentInput; config: ReturnType<typeof resolveExperiment> }[] = [];
  points.forEach((point, index) => {
    for (let s = 0; s < seeds; s++) {
      let input: ExperimentInput = base;
      for (const [path, value] of Object.entries(point)) input = setConfigPath(input, path, value);
      input = { ...input, seed: firstSeed + s };
      const source = `sweep member ${JSON.stringify(point)} seed ${firstSeed + s}`;
      const config = resolveExperiment(input, source);
      // A Slurm sweep runs on the cluster's nodes, whose memory --mem asks for: this machine's is beside the point.
      if (values.slurm === undefined) checkRunFits(config, undefined, source);
      members.push({ point: index, input, config });
    }
  });
  if (values.slurm !== undefined) {
    const name = values.name ?? `sweep ${grid.map(([p, v]) => `${p}=${v.join(',')}`).join(' ')} x ${seeds} seeds`;
    const expanded = members.map((m) => ({
      point: points[m.point]!,
      pointIndex: m.point,
      seed: m.config.seed,
      input: m.input,
      config: m.config,
      name: `${Object.entries(points[m.point]!).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')} · seed ${m.config.seed}`,
    }));
    return (await import('./slurmCommand.ts')).writeSlurmSweep(values, { name, preset: values.preset ?? 'flagship', grid: Object.fromEntries(grid), seeds, base, members: expanded });
  }
  const store = openStore(values);
  try {
    const queue = makeQueue(store, values);
    const info = await queue.backendInfo();
    process.stdout.write(`${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`);
    const name = values.name ?? `sweep ${grid.map(([p, v]) => `${p}=${v.join(',')}`).join(' ')} x ${seeds} seeds`;
    const sweepId = store.createSweep({ name, grid: Object.fromEntries(grid), seeds, input: base });
    process.stderr.write(`${sweepId}: ${members.length} runs (${points.length} grid points x ${seeds} seeds)\n`);
    const runs = members.map((m) => {
      const label = Object.entries(points[m.point]!).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
      return { point: m.point, run: queue.submit({ input: m.input, config: m.config, preset: values.preset ?? 'flagship', name: `${label} · seed ${m.config.seed}`, sweepId }) };
    });
    const failures = await drive(queue, store);
    const byPoint = points.map((_, i) => runs.filter((r) => r.point === i).map((r) => store.get(r.run.id)));
    process.stdout.write(`\n${sweepTable(points, byPoint)}\n\n${sweepId}: final model metrics, mean ± std over seeds\n`);
    return failures.size > 0 ? 1 : 0;
  } finally {
    store.close();
  }
}
