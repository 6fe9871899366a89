/**
 * The CLI's options, shared by every verb, the checks several verbs make of them, and the store
 * they name. A module that runs nothing, so that a verb can be imported (and tested) in-process
 * without starting the CLI: the entry file, lab.ts, only calls cli.ts's runCli.
 */
import type { parseArgs } from 'node:util';
import type { BackendInfo } from '../../../shared/events.ts';
import { presets } from '../../../shared/presets.ts';
import { backendRequests, describeBackend } from '../../engine/backend/chooseBackend.ts';
import { defaultJobs, parseJobs } from '../jobCount.ts';
import { parseThreads } from '../threadCount.ts';
import { resolveStoreDir } from '../store/location.ts';
import { RunStore } from '../store/runStore.ts';
import type { CliIo } from './cliIo.ts';
import { UsageError } from './usage.ts';

export const cliOptions = {
  preset: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  seed: { type: 'string' },
  seeds: { type: 'string' },
  ranks: { type: 'string' },
  dimensions: { type: 'string' },
  grid: { type: 'string', multiple: true },
  backend: { type: 'string' },
  json: { type: 'string' },
  name: { type: 'string' },
  notes: { type: 'string' },
  store: { type: 'string' },
  status: { type: 'string' },
  sweep: { type: 'string' },
  grep: { type: 'string' },
  format: { type: 'string', multiple: true },
  out: { type: 'string' },
  all: { type: 'boolean' },
  weights: { type: 'string' },
  data: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'checkpoint-every': { type: 'string' },
  'init-weights': { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  threads: { type: 'string' },
  'no-fused': { type: 'boolean' },
  'no-stack': { type: 'boolean' },
  slurm: { type: 'string' },
  submit: { type: 'boolean' },
  profile: { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  'cpus-per-task': { type: 'string' },
  mem: { type: 'string' },
  gres: { type: 'string' },
  'max-parallel': { type: 'string' },
  sbatch: { type: 'string', multiple: true },
  setup: { type: 'string', multiple: true },
  project: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliValues = ReturnType<typeof parseArgs<{ options: typeof cliOptions; allowPositionals: true }>>['values'];

/** What every verb is called with: its options, the words after the verb, and where to read and write. */
export type Verb = (values: CliValues, rest: readonly string[], io: CliIo) => Promise<number> | number;

/** Open the store the options name (else $PURIFICATION_LAB_STORE, else the default one). */
export function openStore(values: CliValues, io: CliIo): RunStore {
  const store = RunStore.open(resolveStoreDir({ flag: values.store, env: io.env }));
  for (const notice of store.notices) io.stderr.write(`note: ${notice}\n`);
  return store;
}

/** `--name N` as an integer of at least `min`, or undefined when not given. */
export function integerOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} "${value}": expected an integer >= ${min}`);
  return n;
}

/** --backend and --preset name things that exist, checked before any work. */
export function checkBackendAndPreset(values: CliValues): void {
  if (values.backend !== undefined && !(backendRequests as readonly string[]).includes(values.backend)) {
    throw new UsageError(`--backend "${values.backend}": expected one of ${backendRequests.join(', ')}`);
  }
  if (values.preset !== undefined && !presets.some((p) => p.name === values.preset)) {
    throw new UsageError(`--preset "${values.preset}": expected one of ${presets.map((p) => p.name).join(', ')}`);
  }
}

/** The first line every computing verb prints: the backend it runs on. */
export function backendLine(info: BackendInfo): string {
  return `${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`;
}

/**
 * `--threads N`: kernel threads per run (../threadCount.ts); by default the physical cores shared
 * among `jobs` runs at once. Undefined when not given, so the queue's default applies.
 */
export function threadsOption(values: CliValues): number | undefined {
  if (values.threads === undefined) return undefined;
  try {
    return parseThreads(values.threads);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--jobs N`: runs (or baseline sets) computing at once; by default one per physical core (../jobCount.ts). */
export function jobsOption(values: CliValues): number {
  if (values.jobs === undefined) return defaultJobs({ uiOpen: false });
  try {
    return parseJobs(values.jobs);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
