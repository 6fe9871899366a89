/**
 * A full disk, for real: the store lives on a 3 MB tmpfs (the tests run as root). A run that
 * fills it stops with a clear message and a non-zero exit, leaves no temporary file, and is
 * recorded as stopped; with the disk completely full the store still opens read-only to list and
 * show runs, and a new run is refused in one sentence; once space is freed, `resume` finishes the
 * run with exactly the numbers of a run that never met a full disk.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { prerequisite } from '../support/prerequisite.ts';

const root = new URL('../../', import.meta.url).pathname;
const config = [
  '--preset', 'quick', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=8', '--set', 'train.adversarialEpochs=4', '--set', 'eval.testSize=200',
  '--set', 'instruments.coefficientsEvery=1', '--checkpoint-every', '2',
];

function lab(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Mount a tmpfs of `size` at a new folder; the reason it could not be, or the folder. */
function mountTmpfs(size: string): { dir: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-full-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.error || mounted.status !== 0) return { reason: `mount -t tmpfs failed (${mounted.error?.message ?? mounted.stderr.trim()}): this test needs root and a kernel that allows tmpfs mounts` };
  return { dir };
}

/** Fill the file system holding `file` to the last page. */
function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Files named like an interrupted atomic write (`NAME.tmp-PID`) anywhere under `dir`. */
const temporaryFiles = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.tmp-\d+$/.test(f));

/** A message for a person: no stack trace. */
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

const mount = mountTmpfs('3m');
const tmpfs = prerequisite('a 3 MB tmpfs', 'reason' in mount ? mount.reason : null);
afterAll(() => {
  if ('dir' in mount) spawnSync('umount', [mount.dir]);
});

describe.skipIf(tmpfs.skip)('a full disk', () => {
  beforeAll(() => tmpfs.require());

  it('stops the run clearly, keeps the store readable, and resume finishes it identically once space is freed', () => {
    const { dir } = mount as { dir: string };
    const store = join(dir, 'store');
    const reserve = join(dir, 'reserve');
    writeFileSync(reserve, Buffer.alloc(2 * 1024 * 1024, 1)); // the run gets about 1 MB of the 3

    const full = lab(['run', '--store', store, ...config]);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(/The disk holding (the run store|the folder) .* is full: .* could not be saved\. Free some space/);
    noStack(full.stderr);
    expect(temporaryFiles(dir)).toEqual([]);
    const run = (() => {
      const s = RunStore.open(store);
      try {
        const runs = s.list();
        expect(runs).toHaveLength(1);
        expect(s.metricRows([runs[0]!.id]).length).toBeGreaterThan(0); // it got some way
        return runs[0]!;
      } finally {
        s.close();
      }
    })();
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/is full/);
    expect(run.checkpointEpoch).toBeGreaterThanOrEqual(2);

    // The state the probe found: the row left "running" by a process that is gone, and not a
    // byte left on the disk. Every command used to crash with a raw SqliteError here.
    rmSync(reserve);
    const db = new Database(join(store, 'runs.sqlite'));
    db.prepare(`UPDATE runs SET status = 'running', owner_pid = ?, heartbeat_at = ? WHERE id = ?`).run(2 ** 22 + 4321, Date.now(), run.id);
    db.close();
    const filler = join(dir, 'filler');
    fillUp(filler);

    const listed = lab(['runs', '--store', store]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${run.id}\\s+interrupted`));
    expect(listed.stderr).toMatch(/note: The run store .* is open read-only: the disk holding it is full/);
    const shown = lab(['show', run.id, '--store', store]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/status\s+interrupted \(the process running it stopped before the run finished\)/);
    const refused = lab(['run', '--store', store, ...config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/open read-only \(the disk holding it is full\): the new run .* cannot be saved\. Free some space/);
    noStack(refused.stderr);
    const notResumed = lab(['resume', run.id, '--store', store]);
    expect(notResumed.code).not.toBe(0);
    expect(notResumed.stderr).toMatch(/the disk holding it is full/);
    noStack(notResumed.stderr);
    expect(temporaryFiles(dir)).toEqual([]);

    rmSync(filler);
    const resumed = lab(['resume', run.id, '--store', store]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(temporaryFiles(dir)).toEqual([]);
    const check = lab(['store', 'check', '--store', store]);
    expect(check.stdout, check.stdout).toMatch(/no problems found/);

    // The same run where the disk never filled.
    const elsewhere = mkdtempSync(join(tmpdir(), 'lab-full-disk-reference-'));
    expect(lab(['run', '--store', elsewhere, ...config]).code).toBe(0);
    const reference = RunStore.open(elsewhere);
    const after = RunStore.open(store);
    try {
      expect(after.get(run.id).status).toBe('finished');
      expect(after.get(run.id).summary).toEqual(reference.list()[0]!.summary);
    } finally {
      reference.close();
      after.close();
    }

    // Every connection closed cleanly, so no WAL is left, and on a full disk SQLite cannot even
    // create the WAL's shared-memory file to read the database in place: it is read from a copy.
    expect(existsSync(join(store, 'runs.sqlite-wal'))).toBe(false);
    fillUp(filler);
    const fromCopy = lab(['runs', '--store', store]);
    expect(fromCopy.code, fromCopy.stderr).toBe(0);
    expect(fromCopy.stdout).toMatch(new RegExp(`${run.id}\\s+finished`));
    expect(fromCopy.stderr).toMatch(/open read-only: the disk holding it is full/);
    rmSync(filler);
  }, 600_000);
});
