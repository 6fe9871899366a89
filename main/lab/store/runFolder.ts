/**
 * A run's own record, kept in its folder: the truth that `runs.sqlite` only indexes. Plain JSON
 * that any language reads (the README documents it; a Slurm import writes the same):
 *
 *   run.json      who the run is: id, name, notes, status (and error), preset, sweep tag, seed,
 *                 config as given and its hash, code version, times, backend, provenance, and the
 *                 owner process (pid, host) while it is queued or running. Rewritten atomically
 *                 (temporary file, fsync, rename) on every change.
 *   events.jsonl  the run's event stream (shared/events.ts), one JSON event a line, appended as
 *                 each is produced (`progress` events, a heartbeat, are left out). Never rewritten:
 *                 a resumed run appends a `run-started` with `resumedFromEpoch: N`, which makes
 *                 the events before it with a global epoch after N void (the run computes them
 *                 again); a `run-started` without it (a restart from scratch) voids all before it.
 *   sweeps/ID.json  (beside runs/) a sweep's name, grid, seeds and base config.
 *
 * Beside them, as before: config.json (the resolved config), checkpoint.safetensors,
 * weights-*.safetensors, result.json and summary.json (a finished run).
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { RunEvent } from '../../../shared/events.ts';
import { writeFileAtomic } from './atomicFile.ts';

export const runFileName = 'run.json';
export const eventLogName = 'events.jsonl';
export const runFileFormat = 'purification-lab/run';
export const sweepFileFormat = 'purification-lab/sweep';

export const runStatuses = ['queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled'] as const;

const json = z.record(z.string(), z.unknown());

/** run.json, version 1. Unknown fields are kept out of the index, not refused (newer writers). */
export const runFileSchema = z.object({
  format: z.literal(runFileFormat),
  version: z.literal(1),
  id: z.string().regex(/^[0-9A-Za-z._-]{1,100}$/),
  name: z.string(),
  notes: z.string(),
  status: z.enum(runStatuses),
  error: z.string().nullable(),
  preset: z.string().nullable(),
  sweepId: z.string().nullable(),
  seed: z.number().int(),
  configHash: z.string(),
  codeVersion: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  input: json,
  backend: json.nullable(),
  provenance: json.nullable(),
  owner: z.object({ pid: z.number().int(), host: z.string() }).nullable(),
});
export type RunFile = z.output<typeof runFileSchema>;

export const sweepFileSchema = z.object({
  format: z.literal(sweepFileFormat),
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  grid: z.record(z.string(), z.array(z.unknown())),
  seeds: z.number().int(),
  input: json,
  createdAt: z.string(),
});
export type SweepFile = z.output<typeof sweepFileSchema>;

/** A JSON file checked against its schema; errors name the file and each bad field. */
function readJsonFile<T>(file: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function writeRunFile(folder: string, record: RunFile): void {
  writeFileAtomic(join(folder, runFileName), JSON.stringify(record, null, 2) + '\n');
}

/** run.json of a folder, validated; throws naming the file and the field. */
export function readRunFile(folder: string): RunFile {
  return readJsonFile(join(folder, runFileName), runFileSchema);
}

export function writeSweepFile(storeDir: string, sweep: SweepFile): void {
  writeFileAtomic(join(storeDir, 'sweeps', `${sweep.id}.json`), JSON.stringify(sweep, null, 2) + '\n');
}

export function readSweepFile(file: string): SweepFile {
  return readJsonFile(file, sweepFileSchema);
}

/**
 * Append one event to the run's log, written through to the OS before this returns (a killed
 * process loses nothing it reported). A write cut short (a full disk) is undone, so the log
 * never ends in half a line. Returns the log's length before the line (for `truncateEventLog`).
 */
export function appendEventLine(folder: string, event: RunEvent): number {
  const bytes = Buffer.from(JSON.stringify(event) + '\n', 'utf8');
  const fd = openSync(join(folder, eventLogName), 'a');
  const before = fstatSync(fd).size;
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  } catch (error) {
    try {
      ftruncateSync(fd, before);
    } catch {
      // Nothing more can be done: the reader skips an incomplete last line.
    }
    throw error;
  } finally {
    closeSync(fd);
  }
  return before;
}

/** Take back the lines appended after `length` bytes (an event the index could not take). */
export function truncateEventLog(folder: string, length: number): void {
  truncateSync(join(folder, eventLogName), length);
}

/** The global epoch an event belongs to, for the resume rule (null: run-started, finished, failed, progress). */
export function eventGlobalEpoch(event: RunEvent): number | null {
  switch (event.type) {
    case 'metrics':
    case 'instruments':
    case 'warning':
      return event.globalEpoch;
    case 'evaluation':
      return event.evaluation.globalEpoch;
    case 'phase-changed':
      return event.startsAfterGlobalEpoch;
    default:
      return null;
  }
}

/**
 * The run's current stream from its log as written: each `run-started` voids what a resumed (or
 * restarted) run computes again, as described at the top of this file.
 */
export function currentStream(logged: readonly RunEvent[]): RunEvent[] {
  let stream: RunEvent[] = [];
  for (const event of logged) {
    if (event.type === 'run-started') {
      const from = event.resumedFromEpoch;
      stream =
        from === undefined
          ? []
          : stream.filter((e) => {
              const epoch = eventGlobalEpoch(e);
              return epoch !== null && epoch <= from;
            });
    }
    stream.push(event);
  }
  return stream;
}

export interface EventLog {
  /** Every complete event, in the order written. */
  readonly events: RunEvent[];
  /** Lines that could not be read (a torn last line after a crash, or damage), as "line N: why". */
  readonly problems: string[];
}

/** Read a run's event log; a missing log is an empty one. */
export function readEventLog(folder: string): EventLog {
  const file = join(folder, eventLogName);
  if (!existsSync(file)) return { events: [], problems: [] };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  const problems: string[] = [];
  lines.forEach((line, index) => {
    if (line === '') return;
    const last = index === lines.length - 1; // no newline after it: the write was cut short
    try {
      const event = JSON.parse(line) as RunEvent;
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') throw new Error('not an event');
      if (last) throw new Error('incomplete (no end of line)');
      events.push(event);
    } catch (error) {
      problems.push(`${file} line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return { events, problems };
}
