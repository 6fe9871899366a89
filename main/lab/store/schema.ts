/**
 * The run store's SQLite schema, as numbered migrations. `PRAGMA user_version` holds the number
 * of migrations applied; a store written by a newer version of the product is refused rather
 * than misread.
 *
 *   runs      one row per run: identity, status, config and its hash, provenance, summary,
 *             liveness (owner pid/host and heartbeat), progress, latest checkpoint
 *   events    the run's event stream as it was produced (metrics, instruments, evaluations,
 *             warnings, phase changes): a killed run keeps everything up to its last event
 *   metrics   the same metrics in long ("tidy") form: one row per run, epoch and metric
 *   sweeps    a grid over config fields x seeds; its members are ordinary runs
 *
 * Since version 2 the database is an index of the run folders, which hold their own record
 * (runFolder.ts); opening a version-1 store writes each folder's record from its rows.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled')),
    preset TEXT,
    input_json TEXT NOT NULL,
    config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    code_version TEXT NOT NULL,
    seed INTEGER NOT NULL,
    sweep_id TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    backend_json TEXT,
    provenance_json TEXT,
    summary_json TEXT,
    error TEXT,
    owner_pid INTEGER,
    owner_host TEXT,
    heartbeat_at INTEGER,
    progress_json TEXT,
    checkpoint_epoch INTEGER
  );
  CREATE INDEX runs_status ON runs (status);
  CREATE INDEX runs_sweep ON runs (sweep_id);
  CREATE INDEX runs_hash ON runs (config_hash);
  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    global_epoch INTEGER,
    payload TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    global_epoch INTEGER NOT NULL,
    phase TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    lower REAL,
    upper REAL,
    PRIMARY KEY (run_id, global_epoch, metric)
  );
  CREATE TABLE sweeps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    grid_json TEXT NOT NULL,
    seeds INTEGER NOT NULL,
    input_json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  `,
  // Version 2: no table changes; the run folders hold their own record from here on.
  `-- run folders hold run.json and events.jsonl`,
];

/** The first version whose run folders hold their own record (run.json, events.jsonl). */
export const folderRecordsSince = 2;
