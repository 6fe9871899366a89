/**
 * The run store: each run is a folder that holds its own record (runFolder.ts: run.json, the
 * event log, config, checkpoints, weights, result), and one SQLite database (better-sqlite3, WAL)
 * indexes them for the CLI, browser mode and the desktop app. A run writes its folder first, then
 * the index, so a database lost or damaged is rebuilt from the folders (storeIndex.ts).
 *
 * Several processes share one store. Every write transaction starts IMMEDIATE: a transaction
 * that reads first and writes later cannot wait for another writer (SQLite answers "database is
 * locked" at once rather than risk a deadlock), while one that takes the write lock first waits
 * up to the busy timeout (busyTimeoutMs: one policy for every writer).
 *
 * Liveness: a queued or running run records its owner's pid, host and heartbeat; at open, runs
 * whose owner is gone are marked interrupted, and a run alive in another process is never touched.
 * A store that cannot be written (a full disk, a read-only file system) opens read-only for
 * looking, and every write says why it cannot be saved.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ExperimentInput, ResolvedExperiment } from '../../../shared/config.ts';
import type { BackendInfo, Evaluation, InstrumentsEvent, MetricsEvent, RunEvent, RunSummary, WarningEvent } from '../../../shared/events.ts';
import type { RunResult } from '../../../shared/result.ts';
import type { EngineCheckpoint, ResumeState } from '../../engine/training/checkpoint.ts';
import { temporaryFileOf, temporaryFileOwner, writeFileAtomic } from './atomicFile.ts';
import { decodeCheckpoint, encodeCheckpoint } from './checkpointFile.ts';
import { EventIndexWriter } from './indexRows.ts';
import { claimRun, ownerAlive, processAlive, releaseRun } from './liveness.ts';
import { appendEventLine, truncateEventLog, runFileFormat, sweepFileFormat, writeRunFile, writeSweepFile, type RunFile } from './runFolder.ts';
import { folderRecordsSince, migrations } from './schema.ts';
import { DiskFullError, StoreBusyError, StoreDamagedError, StoreError, isCorrupt, isDiskFull, isReadOnly, writeFailure } from './storeError.ts';
import { indexFolders } from './storeIndex.ts';

export { heartbeatStaleMs } from './liveness.ts';
export { writeFileAtomic } from './atomicFile.ts';
export { DiskFullError, StoreBusyError, StoreDamagedError, StoreError } from './storeError.ts';

export type RunStatus = 'queued' | 'running' | 'finished' | 'failed' | 'interrupted' | 'cancelled';

export interface RunRecord {
  readonly id: string;
  readonly name: string;
  readonly notes: string;
  readonly status: RunStatus;
  readonly preset: string | null;
  readonly input: ExperimentInput;
  readonly config: ResolvedExperiment;
  readonly configHash: string;
  readonly codeVersion: string;
  readonly seed: number;
  readonly sweepId: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly backend: BackendInfo | null;
  readonly provenance: Record<string, unknown> | null;
  readonly summary: RunSummary | null;
  readonly error: string | null;
  readonly progress: { done: number; total: number; phase: string; epoch: number; epochs: number } | null;
  readonly checkpointEpoch: number | null;
  readonly folder: string;
}

/** One row of the metrics table: the long ("tidy") form. */
export interface MetricRow {
  readonly run_id: string;
  readonly global_epoch: number;
  readonly phase: string;
  readonly epoch: number;
  readonly metric: string;
  readonly value: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
}

export interface RunRow {
  id: string;
  name: string;
  notes: string;
  status: RunStatus;
  preset: string | null;
  input_json: string;
  config_json: string;
  config_hash: string;
  code_version: string;
  seed: number;
  sweep_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  backend_json: string | null;
  provenance_json: string | null;
  summary_json: string | null;
  error: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: number | null;
  progress_json: string | null;
  checkpoint_epoch: number | null;
}

export const databaseFileName = 'runs.sqlite';

/**
 * The one wait policy of every writer to the store (SQLite's busy timeout: while another process
 * holds the write lock, SQLite retries until the timeout, then answers SQLITE_BUSY). Every write
 * that records something (a run's creation and status, an event, a checkpoint, a result, a name)
 * waits up to `busyTimeoutMs`: the other writers' transactions last milliseconds, but on a loaded
 * machine a writer descheduled in the middle of one holds the lock for seconds, and a write that
 * gave up then failed its run (the job queue fails a run whose results cannot be recorded). It
 * fails only for a lock held a whole minute (a writer stopped while holding it), and then says
 * what could not be saved (storeError.ts). Heartbeats alone wait `heartbeatBusyMs` and skip their
 * beat: better-sqlite3 waits synchronously, the process's event loop stands still meanwhile, and
 * the next beat comes soon enough.
 */
export const busyTimeoutMs = 60_000;
/** How long a heartbeat waits for another process's write lock before it skips that beat. */
export const heartbeatBusyMs = 250;

/** How often a process refreshes the heartbeat of the runs it has queued. */
const queuedHeartbeatMs = 60_000;

const diskFullReason = 'the disk holding it is full';

const interruptedReason = {
  running: 'the process running it stopped before the run finished',
  queued: 'the process that queued it stopped before the run started',
} as const;

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** run.json of a row: the folder's copy of everything that is not a metric or an event. */
function runFileOf(row: RunRow): RunFile {
  const owned = row.status === 'queued' || row.status === 'running';
  return {
    format: runFileFormat,
    version: 1,
    id: row.id,
    name: row.name,
    notes: row.notes,
    status: row.status,
    error: row.error,
    preset: row.preset,
    sweepId: row.sweep_id,
    seed: row.seed,
    configHash: row.config_hash,
    codeVersion: row.code_version,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    input: JSON.parse(row.input_json) as Record<string, unknown>,
    backend: parse(row.backend_json),
    provenance: parse(row.provenance_json),
    owner: owned && row.owner_pid !== null && row.owner_host !== null ? { pid: row.owner_pid, host: row.owner_host } : null,
  };
}

/** A sortable, readable run id: creation time plus randomness. */
function newRunId(): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const random = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `${stamp.slice(0, 8)}-${stamp.slice(8)}-${random}`;
}

/** Test-only: the process kills itself during its N-th checkpoint write (see writeCheckpoint). */
export const killInCheckpointVariable = 'PURIFICATION_LAB_TEST_KILL_IN_CHECKPOINT';

/** Connect to the database file with the store's settings (WAL, foreign keys, busy timeout). */
function connect(file: string, readonly: boolean): Database.Database {
  const db = new Database(file, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  try {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * A database that cannot even be read in place (on a full disk, SQLite cannot create the WAL's
 * shared-memory file): read a copy into memory instead. Only safe when no WAL holds commits that
 * the main file lacks, so only then.
 */
function inMemoryCopy(file: string): Database.Database | null {
  const wal = `${file}-wal`;
  if (!existsSync(file) || statSync(file).size === 0 || (existsSync(wal) && statSync(wal).size > 0)) return null;
  const bytes = readFileSync(file);
  // Bytes 18-19 say "WAL mode"; in memory there is no WAL, so mark the copy as a rollback-journal file.
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  try {
    const db = new Database(bytes);
    db.pragma('query_only = ON');
    return db;
  } catch {
    return null;
  }
}

/** `PRAGMA quick_check`'s findings ("ok" when none). Throws on a file that is not a database. */
function quickCheck(db: Database.Database): string[] {
  const rows = db.pragma('quick_check(10)') as { quick_check: string }[];
  const findings = rows.map((r) => r.quick_check);
  return findings.length === 1 && findings[0] === 'ok' ? [] : findings;
}

function damagedMessage(file: string, findings: readonly string[]): string {
  const shown = findings.slice(0, 3).join('; ');
  return (
    `The run database ${file} is damaged (${shown}${findings.length > 3 ? `; and ${findings.length - 3} more` : ''}). ` +
    `The runs themselves are safe in their folders: \`npm run lab -- store check\` lists the problems, ` +
    `and \`npm run lab -- store rebuild\` rebuilds the database from the folders (the damaged file is kept beside it)`
  );
}

export class RunStore {
  private checkpointsWritten = 0;
  private indexWriter: EventIndexWriter | null = null;
  /** Why this store is open read-only, or null when it can write. */
  private readOnlyReason: string | null = null;
  /** Read-only: runs whose owner is gone, shown as interrupted without being written. */
  private readonly staleRuns = new Map<string, string>();
  private queuedBeat: NodeJS.Timeout | null = null;
  /** Things the user should hear about this store once (a rebuilt index, read-only mode). */
  readonly notices: string[] = [];

  private constructor(
    readonly dir: string,
    readonly db: Database.Database,
  ) {}

  /** The statements that index events (prepared once the tables exist). */
  private get index(): EventIndexWriter {
    this.indexWriter ??= new EventIndexWriter(this.db);
    return this.indexWriter;
  }

  /**
   * Open (or create) the store in `dir`: applies migrations, checks the database's integrity,
   * and marks runs whose owner process is gone as interrupted. A store that exists but cannot be
   * written opens read-only (`readOnly` says why). Errors name the folder or file, and a damaged
   * database says how to rebuild it.
   */
  static open(dir: string): RunStore {
    const file = join(dir, databaseFileName);
    let cannotWrite: string | null = null;
    try {
      mkdirSync(join(dir, 'runs'), { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      if (!existsSync(file)) {
        if (isDiskFull(error)) throw new DiskFullError(`The disk holding ${dir} is full: the run store cannot be created there. Free some space, or choose another folder with --store DIR or PURIFICATION_LAB_STORE`);
        throw new StoreError(`The run store folder ${dir} is not writable (${code}): choose another with --store DIR or ${'PURIFICATION_LAB_STORE'}`);
      }
      cannotWrite = `the folder ${dir} is not writable (${code})`;
    }
    let db: Database.Database;
    try {
      db = connect(file, cannotWrite !== null);
    } catch (error) {
      if (isCorrupt(error)) throw new StoreDamagedError(damagedMessage(file, [(error as Error).message]));
      const copy = isDiskFull(error) || isReadOnly(error) ? inMemoryCopy(file) : null;
      if (!copy) {
        if (isDiskFull(error)) throw new DiskFullError(`The disk holding the run store ${dir} is full: its database ${file} cannot be opened. Free some space and try again`);
        throw new StoreError(`Cannot open the run database ${file}: ${(error as Error).message}`);
      }
      db = copy;
      cannotWrite = isDiskFull(error) ? diskFullReason : `it cannot be written (${(error as { code?: string }).code})`;
    }
    try {
      const findings = quickCheck(db);
      if (findings.length > 0) throw new StoreDamagedError(damagedMessage(file, findings));
      const store = new RunStore(dir, db);
      if (cannotWrite !== null) store.becomeReadOnly(cannotWrite);
      store.migrate(file);
      store.settleOrphans();
      return store;
    } catch (error) {
      db.close();
      if (isCorrupt(error)) throw new StoreDamagedError(damagedMessage(file, [(error as Error).message]));
      throw error;
    }
  }

  /** Why the store is open read-only (null when it can write). */
  get readOnly(): string | null {
    return this.readOnlyReason;
  }

  private becomeReadOnly(reason: string): void {
    this.readOnlyReason = reason;
    this.db.pragma('query_only = ON');
    this.notices.push(`The run store ${this.dir} is open read-only: ${reason}. Runs can be listed and shown, nothing can be saved.`);
  }

  /**
   * Apply the migrations this database lacks, in one IMMEDIATE transaction that reads the version
   * itself (two processes opening a new store at once must not both migrate it). A database created
   * empty beside existing run folders is filled from them; one from before the folders held their
   * own record gives each folder its record.
   */
  private migrate(file: string): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      throw new StoreError(
        `The run database ${file} has schema version ${version}, newer than this version of Purification Lab understands (${migrations.length}): update the app, or use another store`,
      );
    }
    if (version === migrations.length) return;
    if (this.readOnlyReason !== null) {
      if (version === 0) throw new StoreError(`The run database ${file} is empty and cannot be filled from the run folders now: ${this.readOnlyReason}`);
      return; // older schemas read the same tables
    }
    let from = version;
    try {
      this.db
        .transaction(() => {
          from = this.db.pragma('user_version', { simple: true }) as number;
          for (let v = from; v < migrations.length; v++) this.db.exec(migrations[v]!);
          this.db.pragma(`user_version = ${migrations.length}`);
          if (from === 0) {
            const found = indexFolders(this.db, this.dir);
            if (found.runs > 0) this.notices.push(`The run database ${file} was empty: its index was rebuilt from ${found.runs} run folder(s) in ${join(this.dir, 'runs')}.`);
            for (const problem of found.problems) this.notices.push(problem);
          } else if (from < folderRecordsSince) {
            this.writeFolderRecords();
          }
        })
        .immediate();
    } catch (error) {
      if (isDiskFull(error) || isReadOnly(error)) {
        if (from === 0) throw writeFailure(error, 'the new run database', `the run store ${this.dir}`);
        this.becomeReadOnly(isDiskFull(error) ? diskFullReason : `it cannot be written (${(error as { code?: string }).code})`);
        return;
      }
      if (error instanceof StoreError) throw error;
      throw new StoreError(`Cannot migrate the run database ${file}: ${(error as Error).message}`);
    }
  }

  /** Give every run folder its own record (run.json, events.jsonl) from the database. */
  private writeFolderRecords(): void {
    for (const row of this.db.prepare('SELECT * FROM runs').all() as RunRow[]) {
      const folder = this.folderOf(row.id);
      if (!existsSync(folder)) continue;
      writeRunFile(folder, runFileOf(row));
      const log = join(folder, 'events.jsonl');
      if (!existsSync(log)) writeFileAtomic(log, this.events(row.id).map((e) => JSON.stringify(e) + '\n').join(''));
    }
    for (const s of this.db.prepare('SELECT * FROM sweeps').all() as { id: string; name: string; grid_json: string; seeds: number; input_json: string; created_at: string }[]) {
      mkdirSync(join(this.dir, 'sweeps'), { recursive: true });
      writeSweepFile(this.dir, { format: sweepFileFormat, version: 1, id: s.id, name: s.name, grid: JSON.parse(s.grid_json), seeds: s.seeds, input: JSON.parse(s.input_json), createdAt: s.created_at });
    }
  }

  /** At open: runs left queued or running by a process that is gone. Read-only, they are only shown so. */
  private settleOrphans(): void {
    if (this.readOnlyReason === null) {
      try {
        this.markInterrupted();
        return;
      } catch (error) {
        if (!(error instanceof DiskFullError)) throw error;
        this.becomeReadOnly(diskFullReason);
      }
    }
    for (const row of this.orphans()) this.staleRuns.set(row.id, interruptedReason[row.status as 'queued' | 'running']);
  }

  close(): void {
    if (this.queuedBeat) clearInterval(this.queuedBeat);
    this.queuedBeat = null;
    this.db.close();
  }

  folderOf(id: string): string {
    return join(this.dir, 'runs', id);
  }

  private record(row: RunRow): RunRecord {
    const stale = this.staleRuns.get(row.id);
    return {
      id: row.id,
      name: row.name,
      notes: row.notes,
      status: stale !== undefined ? 'interrupted' : row.status,
      preset: row.preset,
      input: JSON.parse(row.input_json),
      config: JSON.parse(row.config_json),
      configHash: row.config_hash,
      codeVersion: row.code_version,
      seed: row.seed,
      sweepId: row.sweep_id,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      backend: parse(row.backend_json),
      provenance: parse(row.provenance_json),
      summary: parse(row.summary_json),
      error: stale ?? row.error,
      progress: parse(row.progress_json),
      checkpointEpoch: row.checkpoint_epoch,
      folder: this.folderOf(row.id),
    };
  }

  /**
   * Run a write: refused with the reason on a read-only store; a full disk or a read-only file
   * system becomes a StoreError that says what could not be saved.
   */
  private write<T>(what: string, action: () => T): T {
    if (this.readOnlyReason !== null) {
      const message = `The run store ${this.dir} is open read-only (${this.readOnlyReason}): ${what} cannot be saved`;
      throw this.readOnlyReason === diskFullReason ? new DiskFullError(`${message}. Free some space and try again`) : new StoreError(message);
    }
    try {
      return action();
    } catch (error) {
      throw writeFailure(error, what, `the run store ${this.dir}`, this.db.pragma('busy_timeout', { simple: true }) as number);
    }
  }

  /** Change a run's row and rewrite its run.json, together: a failed file write rolls the row back. */
  private updateRun(id: string, what: string, sql: string, ...args: unknown[]): void {
    this.write(what, () =>
      this.db
        .transaction(() => {
          this.db.prepare(sql).run(...args);
          const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
          if (row && existsSync(this.folderOf(id))) writeRunFile(this.folderOf(id), runFileOf(row));
        })
        .immediate(),
    );
  }

  /** Keep the heartbeat of the runs this process has queued fresh, so no other process takes them for orphans. */
  private beatForQueued(): void {
    if (this.queuedBeat) return;
    this.queuedBeat = setInterval(() => {
      try {
        this.withBusyTimeout(heartbeatBusyMs, () => this.refreshQueued());
      } catch {
        // A busy or full store: the next beat tries again; the heartbeat has minutes to spare.
      }
    }, queuedHeartbeatMs);
    this.queuedBeat.unref();
  }

  private refreshQueued(): void {
    if (this.readOnlyReason !== null || !this.db.open) return;
    this.db.prepare(`UPDATE runs SET heartbeat_at = ? WHERE status = 'queued' AND owner_pid = ? AND owner_host = ?`).run(Date.now(), process.pid, hostname());
  }

  /** A new queued run, owned by this process: its folder (config and record), then its row. */
  createRun(spec: {
    input: ExperimentInput;
    config: ResolvedExperiment;
    configHash: string;
    codeVersion: string;
    name?: string | undefined;
    notes?: string | undefined;
    preset?: string | undefined;
    sweepId?: string | undefined;
    /** A run id fixed beforehand (a Slurm job folder names its members' runs); else a new one. */
    id?: string | undefined;
  }): RunRecord {
    if (spec.id !== undefined && !/^[0-9A-Za-z._-]{1,100}$/.test(spec.id)) throw new StoreError(`The run id "${spec.id}" is not valid: expected 1 to 100 letters, digits, '.', '_' or '-'`);
    if (spec.id !== undefined && this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(spec.id)) throw new StoreError(`A run with the id ${spec.id} is already in the store ${this.dir}`);
    const id = spec.id ?? newRunId();
    const folder = this.folderOf(id);
    const name = spec.name ?? `${spec.preset ?? 'custom'} · seed ${spec.config.seed}`;
    this.write(`the new run ${id}`, () => {
      mkdirSync(folder, { recursive: true });
      try {
        writeFileAtomic(join(folder, 'config.json'), JSON.stringify(spec.config, null, 2) + '\n');
        this.db
          .transaction(() => {
            this.db
              .prepare(
                `INSERT INTO runs (id, name, notes, status, preset, input_json, config_json, config_hash, code_version, seed, sweep_id, created_at, owner_pid, owner_host, heartbeat_at)
                 VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              )
              .run(id, name, spec.notes ?? '', spec.preset ?? null, JSON.stringify(spec.input), JSON.stringify(spec.config), spec.configHash, spec.codeVersion, spec.config.seed, spec.sweepId ?? null, new Date().toISOString(), process.pid, hostname(), Date.now());
            writeRunFile(folder, runFileOf(this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow));
          })
          .immediate();
      } catch (error) {
        rmSync(folder, { recursive: true, force: true }); // no half-made run left behind
        throw error;
      }
    });
    claimRun(id);
    this.beatForQueued();
    return this.get(id);
  }

  /** The run with this id, or the only run whose id starts with it. */
  get(idOrPrefix: string): RunRecord {
    const exact = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(idOrPrefix) as RunRow | undefined;
    if (exact) return this.record(exact);
    const matches = this.db.prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id").all(`${idOrPrefix.replace(/[\\%_]/g, '\\$&')}%`) as RunRow[];
    if (matches.length === 1) return this.record(matches[0]!);
    if (matches.length === 0) throw new StoreError(`No run "${idOrPrefix}" in the store ${this.dir}`);
    throw new StoreError(`"${idOrPrefix}" matches ${matches.length} runs (${matches.slice(0, 4).map((r) => r.id).join(', ')}…): give more of the id`);
  }

  /** The run with exactly this id (no prefixes: for actions that cannot be undone). */
  getExact(id: string): RunRecord {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new StoreError(`No run with the id "${id}" in the store ${this.dir} (give the whole id)`);
    return this.record(row);
  }

  /** Runs, newest first, optionally filtered. */
  list(filter: { status?: RunStatus | undefined; sweepId?: string | undefined; text?: string | undefined; preset?: string | undefined } = {}): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.sweepId) add('sweep_id = ?', filter.sweepId);
    if (filter.preset) add('preset = ?', filter.preset);
    if (filter.text) add('(name LIKE ? OR notes LIKE ? OR id LIKE ?)', ...Array(3).fill(`%${filter.text}%`));
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    // Status is filtered on the records: read-only, an orphan shows as interrupted though its row says otherwise.
    const runs = (this.db.prepare(sql).all(...args) as RunRow[]).map((row) => this.record(row));
    return filter.status ? runs.filter((r) => r.status === filter.status) : runs;
  }

  rename(id: string, name: string): void {
    if (!name.trim()) throw new StoreError('A run name cannot be empty');
    const run = this.get(id);
    this.updateRun(run.id, `the name of run ${run.id}`, 'UPDATE runs SET name = ? WHERE id = ?', name.trim(), run.id);
  }

  setNotes(id: string, notes: string): void {
    const run = this.get(id);
    this.updateRun(run.id, `the notes of run ${run.id}`, 'UPDATE runs SET notes = ? WHERE id = ?', notes, run.id);
  }

  /** Claim a run for this process: status running, owner pid/host, heartbeat now. */
  markRunning(id: string, backend: BackendInfo, provenance: Record<string, unknown>): void {
    claimRun(id);
    this.updateRun(
      id,
      `the start of run ${id}`,
      `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), backend_json = ?, provenance_json = ?,
       owner_pid = ?, owner_host = ?, heartbeat_at = ?, error = NULL WHERE id = ?`,
      new Date().toISOString(),
      JSON.stringify(backend),
      JSON.stringify(provenance),
      process.pid,
      hostname(),
      Date.now(),
      id,
    );
  }

  /**
   * The owner is alive: record the time and, optionally, the progress (and keep this process's
   * queued runs fresh). On a full disk, or while another process holds the write lock, the beat is
   * skipped rather than thrown (it comes from a timer or the event stream, where a throw would end
   * the process and every run in it): the heartbeat has minutes to spare, the next beat carries
   * newer progress, and the run's next event, which must be saved, reports a full disk. A beat
   * waits for the lock only briefly (heartbeatBusyMs), since better-sqlite3 waits synchronously
   * and the process's event loop stands still meanwhile.
   */
  heartbeat(id: string, progress?: RunRecord['progress']): void {
    try {
      this.withBusyTimeout(heartbeatBusyMs, () =>
        this.write(`the progress of run ${id}`, () => {
          if (progress) this.db.prepare('UPDATE runs SET heartbeat_at = ?, progress_json = ? WHERE id = ?').run(Date.now(), JSON.stringify(progress), id);
          else this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), id);
          this.refreshQueued();
        }),
      );
    } catch (error) {
      if (!(error instanceof DiskFullError) && !(error instanceof StoreBusyError)) throw error;
    }
  }

  /** Run `action` with this connection's busy timeout set to `ms`, then put the store's back. */
  private withBusyTimeout<T>(ms: number, action: () => T): T {
    if (!this.db.open || this.db.readonly) return action();
    this.db.pragma(`busy_timeout = ${ms}`);
    try {
      return action();
    } finally {
      this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  }

  /**
   * Record one event of the run's stream: a line of its event log (the truth), then its rows in
   * the index. Progress events are heartbeats, in neither.
   */
  appendEvent(id: string, event: RunEvent): void {
    if (event.type === 'progress') return;
    this.write(`the ${event.type} event of run ${id}`, () => {
      const folder = this.folderOf(id);
      const logLength = appendEventLine(folder, event);
      try {
        this.db
          .transaction(() => {
            this.index.add(id, event);
            this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), id);
          })
          .immediate();
      } catch (error) {
        // Log and index hold the same events: one the index could not take leaves the log too.
        truncateEventLog(folder, logLength);
        throw error;
      }
    });
  }

  /** Save the latest checkpoint atomically; the previous one stays valid until the rename. */
  writeCheckpoint(id: string, checkpoint: EngineCheckpoint): void {
    const file = join(this.folderOf(id), 'checkpoint.safetensors');
    const bytes = encodeCheckpoint(checkpoint);
    this.checkpointsWritten += 1;
    if (Number(process.env[killInCheckpointVariable]) === this.checkpointsWritten) {
      // Fault injection for the reliability tests: die half-way through the write, after the
      // temporary file exists and before the rename that would publish it.
      writeFileSync(temporaryFileOf(file), bytes.subarray(0, bytes.length >> 1));
      process.kill(process.pid, 'SIGKILL');
    }
    this.write(`the checkpoint of run ${id}`, () => {
      writeFileAtomic(file, bytes);
      this.db.prepare('UPDATE runs SET checkpoint_epoch = ?, heartbeat_at = ? WHERE id = ?').run(checkpoint.globalEpoch, Date.now(), id);
    });
  }

  /** The latest checkpoint of a run, validated; errors name the file. */
  readCheckpoint(id: string): EngineCheckpoint {
    const file = join(this.folderOf(id), 'checkpoint.safetensors');
    if (!existsSync(file)) throw new StoreError(`Run ${id} has no checkpoint (${file} is missing): it cannot be resumed`);
    return decodeCheckpoint(readFileSync(file), file);
  }

  /** The stored events of a run, in order. */
  events(id: string): RunEvent[] {
    return (this.db.prepare('SELECT payload FROM events WHERE run_id = ? ORDER BY seq').all(id) as { payload: string }[]).map((r) => JSON.parse(r.payload) as RunEvent);
  }

  /**
   * What a resumed run needs: its checkpoint and the events up to it. Events indexed after the
   * checkpoint (by the run that was cut off) are dropped, since the resumed run recomputes them;
   * its log keeps them until the resumed run's `run-started` voids them (runFolder.ts).
   */
  prepareResume(id: string): ResumeState {
    const checkpoint = this.readCheckpoint(id);
    this.write(`the resume of run ${id}`, () => this.db.transaction(() => this.index.voidEventsAfter(id, checkpoint.globalEpoch)).immediate());
    const events = this.events(id);
    return {
      checkpoint,
      metrics: events.filter((e): e is MetricsEvent => e.type === 'metrics'),
      instruments: events.filter((e): e is InstrumentsEvent => e.type === 'instruments'),
      evaluations: events.filter((e) => e.type === 'evaluation').map((e) => (e as { evaluation: Evaluation }).evaluation),
      warnings: events.filter((e): e is WarningEvent => e.type === 'warning'),
    };
  }

  /** A finished run: its result and summary files, then its final status. */
  finish(id: string, result: RunResult): void {
    this.write(`the result of run ${id}`, () => {
      writeFileAtomic(join(this.folderOf(id), 'result.json'), JSON.stringify(result));
      writeFileAtomic(join(this.folderOf(id), 'summary.json'), JSON.stringify(result.summary, null, 2) + '\n');
    });
    this.updateRun(
      id,
      `the end of run ${id}`,
      `UPDATE runs SET status = 'finished', finished_at = ?, summary_json = ?, owner_pid = NULL, heartbeat_at = ?, progress_json = NULL WHERE id = ?`,
      new Date().toISOString(),
      JSON.stringify(result.summary),
      Date.now(),
      id,
    );
    releaseRun(id);
  }

  private endRecord(id: string, status: 'failed' | 'cancelled' | 'interrupted', error: string | undefined): void {
    releaseRun(id);
    this.updateRun(id, `the end of run ${id}`, 'UPDATE runs SET status = ?, error = ?, owner_pid = NULL, finished_at = ? WHERE id = ?', status, error ?? null, new Date().toISOString(), id);
  }

  /**
   * End a run that did not finish: failed (with its error), cancelled or interrupted. On a full
   * disk this records what it can (the row alone, when run.json no longer fits) and does not
   * throw: the caller is already reporting why the run stopped, and a run left "running" by a
   * process that has gone is marked interrupted at the next open.
   */
  end(id: string, status: 'failed' | 'cancelled' | 'interrupted', error?: string): void {
    try {
      this.endRecord(id, status, error);
    } catch (failure) {
      if (!(failure instanceof DiskFullError)) throw failure;
      try {
        this.db.prepare('UPDATE runs SET status = ?, error = ?, owner_pid = NULL, finished_at = ? WHERE id = ?').run(status, error ?? null, new Date().toISOString(), id);
      } catch {
        // Not even the row fits: the next open marks the run interrupted.
      }
    }
  }

  /** Queue a run again (for resume), owned by this process. */
  requeue(id: string): void {
    claimRun(id);
    this.updateRun(id, `the resume of run ${id}`, `UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL, owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?`, process.pid, hostname(), Date.now(), id);
    this.beatForQueued();
  }

  /** Queued and running runs whose owner process is gone. */
  private orphans(now = Date.now()): Pick<RunRow, 'id' | 'status' | 'owner_pid'>[] {
    const rows = this.db.prepare(`SELECT id, status, owner_pid, owner_host, heartbeat_at FROM runs WHERE status IN ('running', 'queued')`).all() as RunRow[];
    return rows.filter((row) => !ownerAlive(row, now));
  }

  /**
   * Runs left "running" or "queued" by a process that is gone become interrupted (resumable). A
   * run whose owner is alive (this machine: its pid exists and its heartbeat is fresh; another
   * machine: a fresh heartbeat) is left alone. Temporary files the dead owner left in the run's
   * folder are removed. Returns the ids marked.
   */
  markInterrupted(now = Date.now()): string[] {
    const marked: string[] = [];
    for (const row of this.orphans(now)) {
      this.endRecord(row.id, 'interrupted', interruptedReason[row.status as 'queued' | 'running']);
      this.removeTemporaryFiles(row.id);
      marked.push(row.id);
    }
    return marked;
  }

  /**
   * Temporary files that processes which died mid-write left in an orphaned run's folder (the
   * owner, or a worker process of it). Ours are never touched: we have not written any there.
   */
  private removeTemporaryFiles(id: string): void {
    const folder = this.folderOf(id);
    if (!existsSync(folder)) return;
    for (const name of readdirSync(folder)) {
      const pid = temporaryFileOwner(name);
      if (pid !== null && pid !== process.pid && !processAlive(pid)) rmSync(join(folder, name), { force: true });
    }
  }

  /** Delete a run by its whole id: its folder (the truth), then its rows. */
  delete(id: string): void {
    const run = this.getExact(id);
    if (run.status === 'running') throw new StoreError(`Run ${run.id} is running: cancel it before deleting it`);
    this.write(`the deletion of run ${run.id}`, () => {
      rmSync(run.folder, { recursive: true, force: true });
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
    });
    releaseRun(run.id);
  }

  /** A finished run that computed exactly this config with this code, if any. */
  findFinished(configHash: string, codeVersion: string): RunRecord | null {
    const row = this.db.prepare(`SELECT * FROM runs WHERE config_hash = ? AND code_version = ? AND status = 'finished' ORDER BY id DESC LIMIT 1`).get(configHash, codeVersion) as RunRow | undefined;
    return row ? this.record(row) : null;
  }

  /** Every run of exactly this config (by this code, when given), newest first, whatever its status. */
  withConfig(configHash: string, codeVersion?: string): RunRecord[] {
    const rows = (
      codeVersion === undefined
        ? this.db.prepare(`SELECT * FROM runs WHERE config_hash = ? ORDER BY id DESC`).all(configHash)
        : this.db.prepare(`SELECT * FROM runs WHERE config_hash = ? AND code_version = ? ORDER BY id DESC`).all(configHash, codeVersion)
    ) as RunRow[];
    return rows.map((row) => this.record(row));
  }

  /** The full result of a finished run (from its folder), or the partial one from its events. */
  result(id: string): RunResult {
    const run = this.get(id);
    const file = join(run.folder, 'result.json');
    if (run.status === 'finished' && existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as RunResult;
      } catch (error) {
        throw new StoreError(`The result file ${file} is corrupt (${(error as Error).message})`);
      }
    }
    const events = this.events(run.id);
    const metrics = events.filter((e): e is MetricsEvent => e.type === 'metrics');
    return {
      schemaVersion: 1,
      config: run.config,
      backend: run.backend ?? { name: 'wasm', device: 'cpu', label: 'unknown', skipped: [], forced: false, details: {}, fusedKernels: false },
      metrics,
      instruments: events.filter((e): e is InstrumentsEvent => e.type === 'instruments'),
      evaluations: events.filter((e) => e.type === 'evaluation').map((e) => (e as { evaluation: Evaluation }).evaluation),
      warnings: events.filter((e): e is WarningEvent => e.type === 'warning'),
      summary: run.summary ?? ({} as RunSummary),
      timing: { seconds: metrics.at(-1)?.elapsedSeconds ?? 0, trainSeconds: 0, evalSeconds: 0, steps: 0 },
    };
  }

  /** Rows of the metrics table (long format) for some runs, or all. */
  metricRows(ids?: readonly string[]): MetricRow[] {
    if (!ids) return this.db.prepare('SELECT * FROM metrics ORDER BY run_id, global_epoch, metric').all() as MetricRow[];
    const out: MetricRow[] = [];
    for (const id of ids) out.push(...(this.db.prepare('SELECT * FROM metrics WHERE run_id = ? ORDER BY global_epoch, metric').all(id) as MetricRow[]));
    return out;
  }

  createSweep(spec: { name: string; grid: Record<string, unknown[]>; seeds: number; input: ExperimentInput }): string {
    const id = `sweep-${newRunId()}`;
    const createdAt = new Date().toISOString();
    this.write(`the sweep ${spec.name}`, () => {
      mkdirSync(join(this.dir, 'sweeps'), { recursive: true });
      writeSweepFile(this.dir, { format: sweepFileFormat, version: 1, id, name: spec.name, grid: spec.grid, seeds: spec.seeds, input: spec.input as Record<string, unknown>, createdAt });
      this.db
        .prepare('INSERT INTO sweeps (id, name, grid_json, seeds, input_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, spec.name, JSON.stringify(spec.grid), spec.seeds, JSON.stringify(spec.input), createdAt);
    });
    return id;
  }

  sweep(id: string): { id: string; name: string; grid: Record<string, unknown[]>; seeds: number } {
    const row = this.db.prepare('SELECT * FROM sweeps WHERE id = ? OR id LIKE ?').get(id, `${id}%`) as { id: string; name: string; grid_json: string; seeds: number } | undefined;
    if (!row) throw new StoreError(`No sweep "${id}" in the store ${this.dir}`);
    return { id: row.id, name: row.name, grid: JSON.parse(row.grid_json), seeds: row.seeds };
  }
}
