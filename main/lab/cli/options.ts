/**
 * The CLI's options, shared by every verb, and the store they name. A module that runs nothing, so
 * that a verb can be imported (and tested) in-process without starting the CLI: the entry file,
 * lab.ts, only parses and dispatches.
 */
import type { parseArgs } from 'node:util';
import { defaultJobs, parseJobs } from '../jobCount.ts';
import { resolveStoreDir } from '../store/location.ts';
import { RunStore } from '../store/runStore.ts';
import { UsageError } from './usage.ts';

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
  jobs: { type: 'string', short: 'j' },
  'no-fused': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliValues = ReturnType<typeof parseArgs<{ options: typeof cliOptions; allowPositionals: true }>>['values'];

/** Open the store the options name (or the default one). */
export function openStore(values: CliValues): RunStore {
  const store = RunStore.open(resolveStoreDir({ flag: values.store }));
  for (const notice of store.notices) process.stderr.write(`note: ${notice}\n`);
  return store;
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
