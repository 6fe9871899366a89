/**
 * The database as an index of the run folders: fill it from them, check the two against each
 * other, and rebuild it when it is lost or damaged (the damaged file is kept aside, never deleted).
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunEvent, RunSummary } from '../../../shared/events.ts';
import { temporaryFileOwner } from './atomicFile.ts';
import { decodeCheckpoint } from './checkpointFile.ts';
import { EventIndexWriter } from './indexRows.ts';
import { processAlive } from './liveness.ts';
import { currentStream, eventGlobalEpoch, readEventLog, readRunFile, readSweepFile, runFileName, type EventLog, type RunFile } from './runFolder.ts';
import { migrations } from './schema.ts';
import { StoreError, isCorrupt } from './storeError.ts';

const databaseFile = (dir: string) => join(dir, 'runs.sqlite');

/**
 * The run folders of a store (every folder under runs/), sorted. A symbolic link to a folder
 * counts: a Slurm array task's node-local store links the one run folder it writes, which lives
 * in the job folder (slurm/memberTask.ts).
 */
export function runFolderIds(dir: string): string[] {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || (entry.isSymbolicLink() && existsSync(join(runs, entry.name)) && statSync(join(runs, entry.name)).isDirectory()))
    .map((entry) => entry.name)
    .sort();
}

function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

/**
 * Index one run folder: its row from run.json, config.json, summary.json and the checkpoint, and
 * its events and metrics from its log, replayed as they were written. Throws naming the file
 * when the folder cannot be read; returns the problems it read past (a torn log line).
 */
export function indexRunFolder(db: Database.Database, writer: EventIndexWriter, folder: string, id: string, readLog: EventLog | null = null): string[] {
  const record = readRunFile(folder);
  if (record.id !== id) throw new Error(`${join(folder, runFileName)}: says it is run "${record.id}", but its folder is ${id}`);
  const configFile = join(folder, 'config.json');
  const config = readJson<Record<string, unknown>>(configFile);
  if (config === null) throw new Error(`${configFile} is missing`);
  const summary = readJson<RunSummary>(join(folder, 'summary.json'));
  const problems: string[] = [];
  let checkpointEpoch: number | null = null;
  const checkpoint = join(folder, 'checkpoint.safetensors');
  if (existsSync(checkpoint)) {
    try {
      checkpointEpoch = decodeCheckpoint(readFileSync(checkpoint), checkpoint).globalEpoch;
    } catch (error) {
      problems.push(`${(error as Error).message} (the run cannot be resumed from it)`);
    }
  }
  db.prepare(
    `INSERT INTO runs (id, name, notes, status, preset, input_json, config_json, config_hash, code_version, seed, sweep_id, created_at, started_at, finished_at,
       backend_json, provenance_json, summary_json, error, owner_pid, owner_host, heartbeat_at, progress_json, checkpoint_epoch)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
  ).run(
    id,
    record.name,
    record.notes,
    record.status,
    record.preset,
    JSON.stringify(record.input),
    JSON.stringify(config),
    record.configHash,
    record.codeVersion,
    record.seed,
    record.sweepId,
    record.createdAt,
    record.startedAt,
    record.finishedAt,
    record.backend === null ? null : JSON.stringify(record.backend),
    record.provenance === null ? null : JSON.stringify(record.provenance),
    record.status === 'finished' && summary !== null ? JSON.stringify(summary) : null,
    record.error,
    record.owner?.pid ?? null,
    record.owner?.host ?? null,
    checkpointEpoch,
  );
  // An import has read (and checked) the log already: it passes it in rather than have it parsed twice.
  const log = readLog ?? readEventLog(folder);
  for (const event of log.events) writer.add(id, event);
  return [...problems, ...log.problems];
}

/**
 * Fill an empty index from the folders (call inside a transaction). Folders that cannot be read
 * are left out and named in `problems`.
 */
export function indexFolders(db: Database.Database, dir: string): { runs: number; sweeps: number; problems: string[] } {
  const writer = new EventIndexWriter(db);
  const problems: string[] = [];
  let runs = 0;
  for (const id of runFolderIds(dir)) {
    const folder = join(dir, 'runs', id);
    if (!existsSync(join(folder, runFileName))) {
      problems.push(`${folder} has no ${runFileName} (a run being created, or a folder from an older version whose database is gone): left out`);
      continue;
    }
    try {
      problems.push(...indexRunFolder(db, writer, folder, id));
      runs += 1;
    } catch (error) {
      problems.push(`${(error as Error).message}: the run in ${folder} is left out`);
    }
  }
  let sweeps = 0;
  const sweepDir = join(dir, 'sweeps');
  if (existsSync(sweepDir)) {
    for (const name of readdirSync(sweepDir).filter((n) => n.endsWith('.json')).sort()) {
      try {
        const s = readSweepFile(join(sweepDir, name));
        db.prepare('INSERT INTO sweeps (id, name, grid_json, seeds, input_json, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(s.id, s.name, JSON.stringify(s.grid), s.seeds, JSON.stringify(s.input), s.createdAt);
        sweeps += 1;
      } catch (error) {
        problems.push(`${(error as Error).message}: the sweep is left out`);
      }
    }
  }
  return { runs, sweeps, problems };
}

export interface StoreCheck {
  readonly database: string;
  /** Runs in the index (null when it cannot be read). */
  readonly indexed: number | null;
  /** Run folders. */
  readonly folders: number;
  /** Each problem found, as a sentence naming the file or run. */
  readonly problems: string[];
}

/**
 * Check a store without changing it: the database's full integrity check, then the index against
 * the folders (runs on one side only, records that differ, event logs that differ from the index
 * or have unreadable lines) and temporary files left by processes that are gone.
 */
export function checkStore(dir: string): StoreCheck {
  const file = databaseFile(dir);
  const folders = runFolderIds(dir);
  const problems: string[] = [];
  const rebuild = '`npm run lab -- store rebuild` rebuilds it from the run folders';
  let indexed: number | null = null;
  if (!existsSync(file)) {
    problems.push(`${file} does not exist: ${rebuild}`);
  } else {
    let db: Database.Database | null = null;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      const findings = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      if (!(findings.length === 1 && findings[0] === 'ok')) problems.push(`${file} fails its integrity check (${findings.slice(0, 5).join('; ')}${findings.length > 5 ? `; and ${findings.length - 5} more` : ''}): ${rebuild}`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === 0) {
        problems.push(`${file} is empty${statSync(file).size === 0 ? ' (0 bytes)' : ''}: ${folders.length} run folder(s) are not indexed; ${rebuild}`);
      } else if (version > migrations.length) {
        problems.push(`${file} has schema version ${version}, newer than this version of Purification Lab (${migrations.length}): not checked further`);
      } else {
        indexed = compareWithFolders(db, dir, folders, problems);
      }
    } catch (error) {
      problems.push(`${file} cannot be read (${(error as Error).message})${isCorrupt(error) ? `: ${rebuild}` : ''}`);
    } finally {
      db?.close();
    }
  }
  for (const id of folders) {
    const folder = join(dir, 'runs', id);
    for (const name of readdirSync(folder)) {
      const pid = temporaryFileOwner(name);
      if (pid !== null && !processAlive(pid)) problems.push(`${join(folder, name)} is a temporary file left by a process that is gone (pid ${pid}); it can be deleted`);
    }
  }
  return { database: file, indexed, folders: folders.length, problems };
}

/** Index and folders side by side; returns the number of runs indexed. */
function compareWithFolders(db: Database.Database, dir: string, folders: readonly string[], problems: string[]): number {
  const rows = db.prepare('SELECT id, name, notes, status, sweep_id FROM runs').all() as { id: string; name: string; notes: string; status: string; sweep_id: string | null }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const onDisk = new Set(folders);
  for (const row of rows) if (!onDisk.has(row.id)) problems.push(`run ${row.id} is in the index but its folder ${join(dir, 'runs', row.id)} is missing`);
  const countEvents = db.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?');
  for (const id of folders) {
    const folder = join(dir, 'runs', id);
    const row = byId.get(id);
    let record: RunFile;
    try {
      record = readRunFile(folder);
    } catch (error) {
      problems.push(existsSync(join(folder, runFileName)) ? `${(error as Error).message}` : `${folder} has no ${runFileName}: a rebuild would leave this run out`);
      continue;
    }
    if (!row) {
      problems.push(`run ${id} (${record.name}) has a folder but is not in the index`);
      continue;
    }
    const differs = [
      record.name !== row.name ? 'name' : '',
      record.notes !== row.notes ? 'notes' : '',
      record.status !== row.status ? `status (${row.status} in the index, ${record.status} in the folder)` : '',
      record.sweepId !== row.sweep_id ? 'sweep' : '',
    ].filter((d) => d !== '');
    if (differs.length > 0) problems.push(`run ${id}: the index and ${join(folder, runFileName)} differ in ${differs.join(', ')}`);
    const log = readEventLog(folder);
    problems.push(...log.problems);
    const expected = currentStream(log.events).filter((e: RunEvent) => eventGlobalEpoch(e) !== null).length;
    const { n } = countEvents.get(id) as { n: number };
    if (n !== expected) problems.push(`run ${id}: the index holds ${n} events, its log ${expected}`);
  }
  return rows.length;
}

export interface Rebuilt {
  readonly runs: number;
  readonly sweeps: number;
  /** Where the old database was moved (null when there was none). */
  readonly aside: string | null;
  readonly problems: string[];
}

/**
 * Rebuild the index from the run folders: a new database is built beside the old one, then the
 * old one (with its WAL files) is renamed `runs.sqlite.damaged-TIME` and the new one takes its
 * place. Refused while a run of this machine is still running or queued by a live process.
 */
export function rebuildStore(dir: string, now = new Date()): Rebuilt {
  const file = databaseFile(dir);
  for (const id of runFolderIds(dir)) {
    let record: RunFile;
    try {
      record = readRunFile(join(dir, 'runs', id));
    } catch {
      continue;
    }
    const owner = record.owner;
    if ((record.status === 'running' || record.status === 'queued') && owner && owner.host === hostname() && owner.pid !== process.pid && processAlive(owner.pid)) {
      throw new StoreError(`Run ${id} is ${record.status} in process ${owner.pid}: stop it (or let it finish) before rebuilding the store's index`);
    }
  }
  const fresh = `${file}.rebuilding-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(fresh + suffix, { force: true });
  const db = new Database(fresh);
  let found: ReturnType<typeof indexFolders>;
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    found = db.transaction(() => {
      for (const migration of migrations) db.exec(migration);
      db.pragma(`user_version = ${migrations.length}`);
      return indexFolders(db, dir);
    })();
  } finally {
    db.close();
  }
  let aside: string | null = null;
  if (existsSync(file)) {
    aside = `${file}.damaged-${now.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}`;
    // The WAL files travel with it: SQLite finds a database's WAL by its name plus "-wal".
    for (const suffix of ['-wal', '-shm', '']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  renameSync(fresh, file);
  return { runs: found.runs, sweeps: found.sweeps, aside, problems: found.problems };
}
