/**
 * The CLI's options, shared by every verb, and the store they name. A module that runs nothing, so
 * that a verb can be imported (and tested) in-process without starting the CLI: the entry file,
 * lab.ts, only parses and dispatches.
 */
import type { parseArgs } from 'node:util';
import { resolveStoreDir } from '../store/location.ts';
import { RunStore } from '../store/runStore.ts';

export const cliOptions = {
  preset: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  seed: { type: 'string' },
  seeds: { type: 'string' },
  ranks: { type: 'string' },
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
  'no-fused': { type: 'boolean' },
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

/** Open the store the options name (or the default one). */
export function openStore(values: CliValues): RunStore {
  const store = RunStore.open(resolveStoreDir({ flag: values.store }));
  for (const notice of store.notices) process.stderr.write(`note: ${notice}\n`);
  return store;
}
