/**
 * The run store: each run is a folder (resolved config, checkpoints, weights, result) plus rows
 * in one SQLite database (better-sqlite3, WAL), shared by the CLI, browser mode and the desktop
 * app. Events are written as they are produced, one transaction each, so a run killed half-way
 * keeps everything up to its last event. Liveness of a running run is its owner's pid and
 * heartbeat: at open, runs whose owner is gone are marked interrupted; a run alive in another
 * process is never touched.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ExperimentInput, ResolvedExperiment } from '../../../shared/config.ts';
import type { BackendInfo, Evaluation, InstrumentsEvent, MetricsEvent, RunEvent, RunSummary, WarningEvent } from '../../../shared/events.ts';
import type { RunResult } from '../../../shared/result.ts';
import type { EngineCheckpoint, ResumeState } from '../../engine/checkpoint.ts';
import { decodeCheckpoint, encodeCheckpoint } from './checkpointFile.ts';
import { migrations } from './schema.ts';

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

export class StoreError extends Error {
  override name = 'StoreError';
}

/** A heartbeat older than this, from a process we cannot see, means its owner is gone. */
export const heartbeatStaleMs = 5 * 60_000;

interface RunRow {
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

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** Whether a process with this pid exists on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Write a file so that a crash leaves either the old content or the new one, never a mix. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, data);
  const fd = openSync(temporary, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
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

export class RunStore {
  private checkpointsWritten = 0;
  private readonly insertEvent: Database.Statement;
  private readonly insertMetric: Database.Statement;
  private readonly nextSeq: Database.Statement;

  private constructor(
    readonly dir: string,
    readonly db: Database.Database,
  ) {
    this.insertEvent = db.prepare('INSERT INTO events (run_id, seq, type, global_epoch, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertMetric = db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, global_epoch, phase, epoch, metric, value, lower, upper) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.nextSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events WHERE run_id = ?');
  }

  /**
   * Open (or create) the store in `dir`: checks that the folder is writable, applies migrations,
   * and marks runs whose owner process is gone as interrupted. Errors name the folder or file.
   */
  static open(dir: string): RunStore {
    try {
      mkdirSync(join(dir, 'runs'), { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (error) {
      throw new StoreError(`The run store folder ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)}): choose another with --store DIR or ${'PURIFICATION_LAB_STORE'}`);
    }
    const file = join(dir, 'runs.sqlite');
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new StoreError(`Cannot open the run database ${file}: ${(error as Error).message}`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      db.close();
      throw new StoreError(
        `The run database ${file} has schema version ${version}, newer than this version of Purification Lab understands (${migrations.length}): update the app, or use another store`,
      );
    }
    try {
      for (let v = version; v < migrations.length; v++) {
        db.transaction(() => {
          db.exec(migrations[v]!);
          db.pragma(`user_version = ${v + 1}`);
        })();
      }
    } catch (error) {
      db.close();
      throw new StoreError(`Cannot migrate the run database ${file}: ${(error as Error).message}`);
    }
    const store = new RunStore(dir, db);
    store.markInterrupted();
    return store;
  }

  close(): void {
    this.db.close();
  }

  folderOf(id: string): string {
    return join(this.dir, 'runs', id);
  }

  private record(row: RunRow): RunRecord {
    return {
      id: row.id,
      name: row.name,
      notes: row.notes,
      status: row.status,
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
      error: row.error,
      progress: parse(row.progress_json),
      checkpointEpoch: row.checkpoint_epoch,
      folder: this.folderOf(row.id),
    };
  }

  /** A new queued run: its row and its folder with the resolved config. */
  createRun(spec: {
    input: ExperimentInput;
    config: ResolvedExperiment;
    configHash: string;
    codeVersion: string;
    name?: string | undefined;
    notes?: string | undefined;
    preset?: string | undefined;
    sweepId?: string | undefined;
  }): RunRecord {
    const id = newRunId();
    const folder = this.folderOf(id);
    mkdirSync(folder, { recursive: true });
    writeFileAtomic(join(folder, 'config.json'), JSON.stringify(spec.config, null, 2) + '\n');
    const name = spec.name ?? `${spec.preset ?? 'custom'} · seed ${spec.config.seed}`;
    this.db
      .prepare(
        `INSERT INTO runs (id, name, notes, status, preset, input_json, config_json, config_hash, code_version, seed, sweep_id, created_at)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, name, spec.notes ?? '', spec.preset ?? null, JSON.stringify(spec.input), JSON.stringify(spec.config), spec.configHash, spec.codeVersion, spec.config.seed, spec.sweepId ?? null, new Date().toISOString());
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

  /** Runs, newest first, optionally filtered. */
  list(filter: { status?: RunStatus | undefined; sweepId?: string | undefined; text?: string | undefined; preset?: string | undefined } = {}): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.sweepId) add('sweep_id = ?', filter.sweepId);
    if (filter.preset) add('preset = ?', filter.preset);
    if (filter.text) add('(name LIKE ? OR notes LIKE ? OR id LIKE ?)', ...Array(3).fill(`%${filter.text}%`));
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    return (this.db.prepare(sql).all(...args) as RunRow[]).map((row) => this.record(row));
  }

  rename(id: string, name: string): void {
    if (!name.trim()) throw new StoreError('A run name cannot be empty');
    this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name.trim(), this.get(id).id);
  }

  setNotes(id: string, notes: string): void {
    this.db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run(notes, this.get(id).id);
  }

  /** Claim a run for this process: status running, owner pid/host, heartbeat now. */
  markRunning(id: string, backend: BackendInfo, provenance: Record<string, unknown>): void {
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), backend_json = ?, provenance_json = ?,
         owner_pid = ?, owner_host = ?, heartbeat_at = ?, error = NULL WHERE id = ?`,
      )
      .run(new Date().toISOString(), JSON.stringify(backend), JSON.stringify(provenance), process.pid, hostname(), Date.now(), id);
  }

  /** The owner is alive: record the time and, optionally, the progress. */
  heartbeat(id: string, progress?: RunRecord['progress']): void {
    if (progress) this.db.prepare('UPDATE runs SET heartbeat_at = ?, progress_json = ? WHERE id = ?').run(Date.now(), JSON.stringify(progress), id);
    else this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), id);
  }

  /** Store one event of the run's stream (progress events are heartbeats, not stored). */
  appendEvent(id: string, event: RunEvent): void {
    if (event.type === 'progress' || event.type === 'run-started' || event.type === 'finished' || event.type === 'failed') return;
    const globalEpoch =
      event.type === 'metrics' || event.type === 'instruments' || event.type === 'warning'
        ? event.globalEpoch
        : event.type === 'evaluation'
          ? event.evaluation.globalEpoch
          : event.startsAfterGlobalEpoch;
    this.db.transaction(() => {
      const { seq } = this.nextSeq.get(id) as { seq: number };
      this.insertEvent.run(id, seq, event.type, globalEpoch, JSON.stringify(event));
      if (event.type === 'metrics') {
        const rows: [string, number | null, number | null, number | null][] = [
          ['loss', Number.isFinite(event.loss) ? event.loss : null, null, null],
          ['learning_rate', event.learningRate, null, null],
          ['clean_accuracy', event.cleanAccuracy.estimate, event.cleanAccuracy.lower, event.cleanAccuracy.upper],
          ['mixture_direction_accuracy', event.mixtureDirectionAccuracy.estimate, event.mixtureDirectionAccuracy.lower, event.mixtureDirectionAccuracy.upper],
          ['silent_fraction', event.silentFraction, null, null],
        ];
        if (event.robustAccuracy) rows.push(['robust_accuracy', event.robustAccuracy.estimate, event.robustAccuracy.lower, event.robustAccuracy.upper]);
        for (const [metric, value, lower, upper] of rows) this.insertMetric.run(id, event.globalEpoch, event.phase, event.epoch, metric, value, lower, upper);
      } else if (event.type === 'instruments') {
        for (const [metric, dist] of [
          ['mixture_ratio_median', event.mixtureRatio],
          ['participation_ratio_median', event.participationRatio],
          ['coherence_median', event.coherence],
          ['coherent_share_median', event.coherentShare ?? null],
        ] as const) {
          if (!dist) continue;
          this.insertMetric.run(id, event.globalEpoch, event.phase, event.epoch, metric, Number.isFinite(dist.summary.median) ? dist.summary.median : null, dist.summary.q1, dist.summary.q3);
        }
      }
      this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), id);
    })();
  }

  /** Save the latest checkpoint atomically; the previous one stays valid until the rename. */
  writeCheckpoint(id: string, checkpoint: EngineCheckpoint): void {
    const file = join(this.folderOf(id), 'checkpoint.safetensors');
    const bytes = encodeCheckpoint(checkpoint);
    this.checkpointsWritten += 1;
    if (Number(process.env[killInCheckpointVariable]) === this.checkpointsWritten) {
      // Fault injection for the reliability tests: die half-way through the write, after the
      // temporary file exists and before the rename that would publish it.
      writeFileSync(`${file}.tmp-${process.pid}`, bytes.subarray(0, bytes.length >> 1));
      process.kill(process.pid, 'SIGKILL');
    }
    writeFileAtomic(file, bytes);
    this.db.prepare('UPDATE runs SET checkpoint_epoch = ?, heartbeat_at = ? WHERE id = ?').run(checkpoint.globalEpoch, Date.now(), id);
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
   * What a resumed run needs: its checkpoint and the events up to it. Events written after the
   * checkpoint (by the run that was cut off) are removed, since the resumed run recomputes them.
   */
  prepareResume(id: string): ResumeState {
    const checkpoint = this.readCheckpoint(id);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM events WHERE run_id = ? AND global_epoch > ?').run(id, checkpoint.globalEpoch);
      this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND global_epoch > ?').run(id, checkpoint.globalEpoch);
    })();
    const events = this.events(id);
    return {
      checkpoint,
      metrics: events.filter((e): e is MetricsEvent => e.type === 'metrics'),
      instruments: events.filter((e): e is InstrumentsEvent => e.type === 'instruments'),
      evaluations: events.filter((e) => e.type === 'evaluation').map((e) => (e as { evaluation: Evaluation }).evaluation),
      warnings: events.filter((e): e is WarningEvent => e.type === 'warning'),
    };
  }

  /** A finished run: its summary, result file and final status. */
  finish(id: string, result: RunResult): void {
    writeFileAtomic(join(this.folderOf(id), 'result.json'), JSON.stringify(result));
    writeFileAtomic(join(this.folderOf(id), 'summary.json'), JSON.stringify(result.summary, null, 2) + '\n');
    this.db
      .prepare(`UPDATE runs SET status = 'finished', finished_at = ?, summary_json = ?, owner_pid = NULL, heartbeat_at = ?, progress_json = NULL WHERE id = ?`)
      .run(new Date().toISOString(), JSON.stringify(result.summary), Date.now(), id);
  }

  /** End a run that did not finish: failed (with its error), cancelled or interrupted. */
  end(id: string, status: 'failed' | 'cancelled' | 'interrupted', error?: string): void {
    this.db.prepare('UPDATE runs SET status = ?, error = ?, owner_pid = NULL, finished_at = ? WHERE id = ?').run(status, error ?? null, new Date().toISOString(), id);
  }

  /** Queue a run again (for resume). */
  requeue(id: string): void {
    this.db.prepare(`UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL WHERE id = ?`).run(id);
  }

  /**
   * Runs left "running" by a process that is gone become interrupted. A run whose owner is alive
   * (this machine: its pid exists and its heartbeat is fresh; another machine: a fresh heartbeat)
   * is left alone. Returns the ids marked.
   */
  markInterrupted(now = Date.now()): string[] {
    const rows = this.db.prepare(`SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE status = 'running'`).all() as Pick<RunRow, 'id' | 'owner_pid' | 'owner_host' | 'heartbeat_at'>[];
    const marked: string[] = [];
    for (const row of rows) {
      const fresh = row.heartbeat_at !== null && now - row.heartbeat_at < heartbeatStaleMs;
      const sameHost = row.owner_host === hostname();
      const alive = sameHost ? row.owner_pid !== null && row.owner_pid !== process.pid && processAlive(row.owner_pid) && fresh : fresh;
      if (!alive) {
        this.end(row.id, 'interrupted', 'the process running it stopped before the run finished');
        marked.push(row.id);
      }
    }
    return marked;
  }

  /** Delete a run: its rows, then its folder. */
  delete(id: string): void {
    const run = this.get(id);
    if (run.status === 'running') throw new StoreError(`Run ${run.id} is running: cancel it before deleting it`);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
    rmSync(run.folder, { recursive: true, force: true });
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
    this.db
      .prepare('INSERT INTO sweeps (id, name, grid_json, seeds, input_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, spec.name, JSON.stringify(spec.grid), spec.seeds, JSON.stringify(spec.input), new Date().toISOString());
    return id;
  }

  sweep(id: string): { id: string; name: string; grid: Record<string, unknown[]>; seeds: number } {
    const row = this.db.prepare('SELECT * FROM sweeps WHERE id = ? OR id LIKE ?').get(id, `${id}%`) as { id: string; name: string; grid_json: string; seeds: number } | undefined;
    if (!row) throw new StoreError(`No sweep "${id}" in the store ${this.dir}`);
    return { id: row.id, name: row.name, grid: JSON.parse(row.grid_json), seeds: row.seeds };
  }
}
