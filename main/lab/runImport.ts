/**
 * `lab import`: bring run folders made elsewhere (a Slurm job folder, a store, one run folder, or
 * a .tar.gz of any of them) into the local store, where they are ordinary runs: listed, compared,
 * in their sweep's table, reused by config hash, resumable.
 *
 * All or nothing. Every file of every run folder is checked first (run.json against its schema
 * and its folder's name, config.json against the record's config hash, every event line, the
 * result and summary of a finished run, the checkpoint and weight files); one bad folder refuses
 * the whole import, naming the file and what is wrong, and nothing changes. Then the folders are
 * copied beside the store, renamed into `runs/`, and indexed in one transaction; a failure there
 * renames them back out and the transaction rolls back.
 *
 * Idempotent by run id and config hash: a run already in the store with the same id and hash is
 * left as it is, unless the import brings it finished and the store's copy is not (a member that
 * was interrupted when first imported, finished since). The same id with another config hash is
 * refused: it is not the same run.
 *
 * A run that says it is queued or running was cut off where it ran (SIGKILL, a node failure): it
 * comes in interrupted, resumable from its last checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { RunSummary } from '../../shared/events.ts';
import { decodeSafetensors } from './formats/safetensors.ts';
import { canonicalJson, configHash } from './provenance.ts';
import type { ResolvedExperiment } from '../../shared/config.ts';
import { decodeCheckpoint } from './store/checkpointFile.ts';
import { temporaryFileOwner } from './store/atomicFile.ts';
import { EventIndexWriter } from './store/indexRows.ts';
import { currentStream, eventLogName, readEventLog, readRunFile, readSweepFile, runFileName, sweepFileFormat, writeRunFile, writeSweepFile, type EventLog, type RunFile, type SweepFile } from './store/runFolder.ts';
import { indexRunFolder } from './store/storeIndex.ts';
import type { RunStore } from './store/runStore.ts';
import { StoreError } from './store/storeError.ts';
import { isJobFolder, readJobFile } from './slurm/jobFolder.ts';

export class ImportError extends Error {
  override name = 'ImportError';
}

/** The files a run folder may hold (store/runFolder.ts); anything else is not ours. */
const knownFiles = new Set([runFileName, eventLogName, 'config.json', 'summary.json', 'result.json', 'checkpoint.safetensors', 'weights-init.safetensors', 'weights-after-clean.safetensors', 'weights-final.safetensors']);

export interface ImportReport {
  /** Runs added to the store. */
  readonly added: string[];
  /** Runs replaced by a finished copy. */
  readonly updated: string[];
  /** Runs already in the store, unchanged. */
  readonly unchanged: string[];
  /** Sweeps added (a job folder's, or a store's sweeps/). */
  readonly sweeps: string[];
  /** Runs that came in interrupted (they were cut off where they ran). */
  readonly interrupted: string[];
}

interface CheckedRun {
  readonly id: string;
  readonly folder: string;
  readonly record: RunFile;
  /** The files to copy (leftover temporary files are not). */
  readonly files: string[];
  /** Its event log, read and checked (indexed from this, not read again). */
  readonly log: EventLog;
}

/** Check every file of one run folder; throws ImportError naming the file. */
export function checkRunFolder(folder: string): CheckedRun {
  const id = basename(folder);
  const fail = (what: string): never => {
    throw new ImportError(`${what}: the run folder ${folder} is refused`);
  };
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (temporaryFileOwner(entry.name) !== null) continue; // left by a process killed mid-write
    if (!entry.isFile() || !knownFiles.has(entry.name)) fail(`${join(folder, entry.name)} is not a file of a Purification Lab run folder`);
    files.push(entry.name);
  }
  let record: RunFile;
  try {
    record = readRunFile(folder);
  } catch (error) {
    return fail((error as Error).message);
  }
  if (record.id !== id) fail(`${join(folder, runFileName)} says it is run "${record.id}"`);
  const configFile = join(folder, 'config.json');
  let config: ResolvedExperiment;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as ResolvedExperiment;
  } catch (error) {
    return fail(`${configFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message}`);
  }
  if (configHash(config) !== record.configHash) fail(`${configFile} does not hash to the config hash in ${runFileName} (changed, or from another run)`);
  const log = readEventLog(folder);
  if (log.problems.length > 0) fail(`${log.problems.slice(0, 2).join('; ')} (truncated or damaged)`);
  if (record.status === 'finished') {
    const stream = currentStream(log.events);
    if (stream.at(-1)?.type !== 'finished') fail(`${join(folder, eventLogName)} does not end with the run's "finished" event, though ${runFileName} says finished (truncated?)`);
    let result: { summary?: RunSummary; config?: unknown };
    let summary: RunSummary;
    try {
      result = JSON.parse(readFileSync(join(folder, 'result.json'), 'utf8')) as typeof result;
      summary = JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8')) as RunSummary;
    } catch (error) {
      return fail(`${(error as Error).message.includes('ENOENT') ? `a finished run needs result.json and summary.json (${(error as Error).message})` : `result.json or summary.json: ${(error as Error).message}`}`);
    }
    if (canonicalJson(result.summary) !== canonicalJson(summary)) fail(`${join(folder, 'summary.json')} differs from the summary in result.json`);
    if (canonicalJson(result.config) !== canonicalJson(config)) fail(`${join(folder, 'result.json')} was computed from another config than config.json`);
  }
  for (const name of files.filter((f) => f.endsWith('.safetensors'))) {
    const file = join(folder, name);
    try {
      const bytes = readFileSync(file);
      if (name === 'checkpoint.safetensors') decodeCheckpoint(bytes, file);
      else decodeSafetensors(bytes, file);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  return { id, folder, record, files, log };
}

/** The run folders and sweep files a source holds (a folder, not an archive). */
function collect(source: string): { runFolders: string[]; sweeps: SweepFile[] } {
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new ImportError(`${source} is not a folder or a .tar.gz archive`);
  if (existsSync(join(source, runFileName))) return { runFolders: [source], sweeps: [] };
  if (isJobFolder(source)) {
    const job = readJobFile(source);
    const sweep: SweepFile = { format: sweepFileFormat, version: 1, id: job.sweepId, name: job.name, grid: job.grid, seeds: job.seeds, input: job.input, createdAt: job.createdAt };
    // Members that never began have no run.json (or no folder): there is nothing of them to import.
    const runFolders = job.members.map((m) => join(source, 'runs', m.runId)).filter((f) => existsSync(join(f, runFileName)));
    return { runFolders, sweeps: [sweep] };
  }
  const runs = join(source, 'runs');
  if (existsSync(runs)) {
    const runFolders = readdirSync(runs, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(runs, e.name));
    const sweepDir = join(source, 'sweeps');
    const sweeps = existsSync(sweepDir) ? readdirSync(sweepDir).filter((n) => n.endsWith('.json')).map((n) => readSweepFile(join(sweepDir, n))) : [];
    return { runFolders, sweeps };
  }
  throw new ImportError(`${source} is neither a run folder (no run.json), a Slurm job folder (no sweep.json) nor a store (no runs/)`);
}

/** Unpack a .tar.gz into a temporary folder (one tar process for the whole archive). */
function unpack(archive: string): { dir: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), 'purification-lab-import-'));
  const tar = spawnSync('tar', ['-xzf', archive, '-C', dir, '--no-same-owner'], { encoding: 'utf8' });
  if (tar.error || tar.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new ImportError(`${archive} cannot be unpacked: ${tar.error?.message ?? tar.stderr.trim()}`);
  }
  // An archive of a folder holds that folder: import what is inside it.
  const entries = readdirSync(dir);
  const root = entries.length === 1 && statSync(join(dir, entries[0]!)).isDirectory() && !existsSync(join(dir, runFileName)) && !existsSync(join(dir, 'sweep.json')) ? join(dir, entries[0]!) : dir;
  return { dir, root };
}

/** Import a job folder, a store, a run folder, or a .tar.gz of one (see the top of this file). */
export function importRuns(store: RunStore, source: string, now = new Date()): ImportReport {
  if (store.readOnly !== null) throw new StoreError(`The run store ${store.dir} is open read-only (${store.readOnly}): nothing can be imported`);
  const archive = /\.(tar\.gz|tgz)$/.test(source) ? unpack(source) : null;
  try {
    return importFolder(store, archive?.root ?? source, now);
  } finally {
    if (archive) rmSync(archive.dir, { recursive: true, force: true });
  }
}

function importFolder(store: RunStore, source: string, now: Date): ImportReport {
  const { runFolders, sweeps } = collect(source);
  const db = store.db;
  const existing = db.prepare('SELECT status, config_hash FROM runs WHERE id = ?');
  const added: CheckedRun[] = [];
  const updated: CheckedRun[] = [];
  const unchanged: string[] = [];
  const seen = new Set<string>();
  // 1. Check everything that will come in; refuse the whole import on the first bad folder. A run
  //    the store already has (same id and config hash) and keeps is only identified, not copied.
  for (const folder of runFolders) {
    const id = basename(folder);
    if (seen.has(id)) throw new ImportError(`The run ${id} is in ${source} twice: nothing was imported`);
    seen.add(id);
    const row = existing.get(id) as { status: string; config_hash: string } | undefined;
    if (row) {
      let record: RunFile;
      try {
        record = readRunFile(folder);
      } catch (error) {
        throw new ImportError(`${(error as Error).message}: the run folder ${folder} is refused`);
      }
      if (row.config_hash !== record.configHash) throw new ImportError(`The run ${id} in ${folder} has another config hash than the store's run with that id: it is not the same run, and nothing was imported`);
      const replaces = record.status === 'finished' && row.status !== 'finished' && row.status !== 'running' && row.status !== 'queued';
      if (!replaces) {
        unchanged.push(id);
        continue;
      }
      updated.push(checkRunFolder(folder));
    } else {
      added.push(checkRunFolder(folder));
    }
  }
  const newSweeps = sweeps.filter((s) => !db.prepare('SELECT 1 FROM sweeps WHERE id = ?').get(s.id));
  // 2. Copy into a staging folder beside runs/ (same file system, so the renames are atomic).
  const staging = join(store.dir, `import-staging-${process.pid}-${now.getTime()}`);
  const incoming = [...added, ...updated];
  const interrupted: string[] = [];
  mkdirSync(staging, { recursive: true });
  const moved: { from: string; to: string }[] = [];
  const asides: { from: string; to: string }[] = [];
  const sweepFiles: string[] = [];
  try {
    for (const run of incoming) {
      const target = join(staging, run.id);
      mkdirSync(target);
      for (const name of run.files) copyFileSync(join(run.folder, name), join(target, name));
      if (run.record.status === 'running' || run.record.status === 'queued') {
        const host = run.record.owner?.host ?? 'another machine';
        writeRunFile(target, { ...run.record, status: 'interrupted', owner: null, error: `it was ${run.record.status} on ${host} when it was imported (its process was killed, or is still going there): resume continues from its last checkpoint` });
        interrupted.push(run.id);
      }
    }
    // 3. Move the folders in (replaced ones aside first), then index them in one transaction.
    for (const run of updated) {
      const aside = join(staging, `${run.id}.replaced`);
      renameSync(store.folderOf(run.id), aside);
      asides.push({ from: store.folderOf(run.id), to: aside });
    }
    for (const run of incoming) {
      renameSync(join(staging, run.id), store.folderOf(run.id));
      moved.push({ from: join(staging, run.id), to: store.folderOf(run.id) });
    }
    // The sweep files are the truth beside runs/, as the run folders are: written before the index.
    if (newSweeps.length > 0) mkdirSync(join(store.dir, 'sweeps'), { recursive: true });
    for (const s of newSweeps) {
      sweepFiles.push(join(store.dir, 'sweeps', `${s.id}.json`));
      writeSweepFile(store.dir, s);
    }
    db.transaction(() => {
      const writer = new EventIndexWriter(db);
      for (const run of updated) db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
      for (const run of incoming) indexRunFolder(db, writer, store.folderOf(run.id), run.id, run.log);
      for (const s of newSweeps) {
        db.prepare('INSERT INTO sweeps (id, name, grid_json, seeds, input_json, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(s.id, s.name, JSON.stringify(s.grid), s.seeds, JSON.stringify(s.input), s.createdAt);
      }
    }).immediate();
  } catch (error) {
    // Undo: the copies leave runs/, the replaced folders come back; the transaction rolled back.
    for (const m of moved.reverse()) renameSync(m.to, m.from);
    for (const a of asides.reverse()) renameSync(a.to, a.from);
    for (const f of sweepFiles) rmSync(f, { force: true });
    rmSync(staging, { recursive: true, force: true });
    throw error instanceof ImportError || error instanceof StoreError ? error : new StoreError(`The import into ${store.dir} failed and was undone: ${(error as Error).message}`);
  }
  rmSync(staging, { recursive: true, force: true });
  return { added: added.map((r) => r.id), updated: updated.map((r) => r.id), unchanged, sweeps: newSweeps.map((s) => s.id), interrupted };
}
