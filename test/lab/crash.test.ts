/**
 * Reliability, for real: a child process running a run is killed with SIGKILL mid-epoch, and
 * again in the middle of a checkpoint write. Each time the store opens, the run is marked
 * interrupted, `resume` finishes it with exactly the numbers of an uninterrupted run, and
 * nothing else in the store changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../shared/events.ts';
import { currentStream, eventGlobalEpoch } from '../../main/lab/store/runFolder.ts';
import { RunStore, killInCheckpointVariable } from '../../main/lab/store/runStore.ts';
import { checkStore, rebuildStore } from '../../main/lab/store/storeIndex.ts';

const root = new URL('../../', import.meta.url).pathname;
const config = ['--preset', 'quick', '--set', 'task.d=32', '--set', 'model.width=32', '--set', 'task.trainSize=2000', '--set', 'train.cleanEpochs=8', '--set', 'train.adversarialEpochs=8', '--set', 'eval.testSize=300', '--checkpoint-every', '2'];

function lab(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
}

/** Rows of every run but `except`, to prove a crash touched nothing else. */
function otherRows(dir: string, except: string): unknown {
  const db = new Database(join(dir, 'runs.sqlite'), { readonly: true });
  try {
    return {
      runs: db.prepare('SELECT id, status, summary_json, name FROM runs WHERE id != ? ORDER BY id').all(except),
      events: db.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id != ?').get(except),
      metrics: db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id != ?').get(except),
    };
  } finally {
    db.close();
  }
}

/** Start a run in a child process; resolve with its id once it has written `epochs` epochs, then SIGKILL it. */
async function killMidRun(dir: string, epochs: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'run', '--store', dir, ...config], { cwd: root, stdio: 'ignore' });
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error('the child never got far enough');
      await new Promise((r) => setTimeout(r, 15));
      let db: Database.Database;
      try {
        db = new Database(join(dir, 'runs.sqlite'), { readonly: true, fileMustExist: true });
      } catch {
        continue;
      }
      try {
        const row = db.prepare(`SELECT r.id AS id, MAX(m.global_epoch) AS epoch FROM runs r JOIN metrics m ON m.run_id = r.id WHERE r.status = 'running' GROUP BY r.id`).get() as { id: string; epoch: number } | undefined;
        if (row && row.epoch >= epochs) {
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
          return row.id;
        }
      } catch {
        // tables not there yet
      } finally {
        db.close();
      }
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

describe('a run killed with SIGKILL', () => {
  it('mid-epoch: the store opens, the run is interrupted, resume finishes it identically, nothing else changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-crash-'));
    const reference = lab(['run', '--store', dir, ...config]);
    expect(reference.status, reference.stderr).toBe(0);
    const referenceRun = new RunStore_(dir).only('finished');

    const killed = await killMidRun(dir, 5);
    const before = otherRows(dir, killed);
    const store = RunStore.open(dir); // marks the dead owner's run interrupted
    const run = store.get(killed);
    expect(run.status).toBe('interrupted');
    expect(run.checkpointEpoch).toBeGreaterThanOrEqual(4);
    store.close();
    expect(otherRows(dir, killed)).toEqual(before);

    const resumed = lab(['resume', killed, '--store', dir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = RunStore.open(dir);
    expect(after.get(killed).status).toBe('finished');
    expect(after.get(killed).summary).toEqual(after.get(referenceRun).summary);
    const indexed = { metrics: after.metricRows(), events: after.events(killed) };
    after.close();
    expect(otherRows(dir, killed)).toEqual(before);

    // The run's own log holds the epochs the killed process computed after its checkpoint, then
    // the resumed run's `run-started` that voids them: read by that rule, it is the index exactly.
    expect(checkStore(dir).problems).toEqual([]);
    const logged = readFileSync(join(dir, 'runs', killed, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const resumedFrom = logged.findIndex((e) => e.type === 'run-started' && e.resumedFromEpoch !== undefined);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(currentStream(logged).filter((e) => eventGlobalEpoch(e) !== null)).toEqual(indexed.events);
    rebuildStore(dir);
    const rebuilt = RunStore.open(dir);
    expect({ metrics: rebuilt.metricRows(), events: rebuilt.events(killed) }).toEqual(indexed);
    rebuilt.close();
  }, 300_000);

  it('mid-checkpoint-write: the previous checkpoint stays valid and resume finishes identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-crash-'));
    const reference = lab(['run', '--store', dir, ...config]);
    expect(reference.status).toBe(0);
    const referenceRun = new RunStore_(dir).only('finished');
    // Die during the 3rd checkpoint write (epoch 6): checkpoint 2 (epoch 4) must survive.
    const crashed = lab(['run', '--store', dir, ...config], { [killInCheckpointVariable]: '3' });
    expect(crashed.signal).toBe('SIGKILL');
    const store = RunStore.open(dir);
    const run = store.list({ status: 'interrupted' })[0]!;
    expect(run.checkpointEpoch).toBe(4);
    expect(store.readCheckpoint(run.id).globalEpoch).toBe(4);
    store.close();
    // Opening removed the half-written checkpoint the killed process left.
    expect(readdirSync(join(dir, 'runs', run.id)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const resumed = lab(['resume', run.id, '--store', dir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = RunStore.open(dir);
    expect(after.get(run.id).summary).toEqual(after.get(referenceRun).summary);
    after.close();
  }, 300_000);
});

/** A tiny read-only view for finding the reference run. */
class RunStore_ {
  constructor(private readonly dir: string) {}
  only(status: string): string {
    const store = RunStore.open(this.dir);
    try {
      const runs = store.list({ status: status as 'finished' });
      expect(runs).toHaveLength(1);
      return runs[0]!.id;
    } finally {
      store.close();
    }
  }
}
