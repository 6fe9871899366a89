/**
 * A kill -9 of a whole process running several runs at once (`lab sweep --jobs 2`): the store
 * opens with every run that was running marked interrupted, and each resumes to the numbers of an
 * uninterrupted run. Also `--jobs` refused, by every verb that takes it, with a clear message when
 * it is no count.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { maxJobs } from '../../shared/jobSettings.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { labInProcess } from '../support/labCli.ts';

const root = new URL('../../', import.meta.url).pathname;
/**
 * Long enough that the second worker, which starts a while after the first, is still computing
 * beside it. Measured idle with 40 epochs, the second run began when the first was at its 33rd
 * epoch (its worker starts about a run's length later), so a loaded machine could let the first
 * run end before the second reached its second epoch; at 150 epochs the first has about 4 times
 * that margin. Epochs are cheap (1,000 samples, 300 test points), so the test stays short.
 */
const small = ['--preset', 'quick', '--set', 'task.trainSize=1000', '--set', 'train.cleanEpochs=140', '--set', 'train.adversarialEpochs=10', '--set', 'eval.testSize=300', '--checkpoint-every', '1'];

/** Runs in the store that are running and have recorded at least `epochs` epochs each (read-only, while another process writes). */
function runningPastEpoch(dir: string, epochs: number): string[] {
  let db: Database.Database;
  try {
    db = new Database(join(dir, 'runs.sqlite'), { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    const rows = db.prepare(`SELECT r.id AS id, MAX(m.global_epoch) AS epoch FROM runs r JOIN metrics m ON m.run_id = r.id WHERE r.status = 'running' GROUP BY r.id`).all() as { id: string; epoch: number }[];
    return rows.filter((r) => r.epoch >= epochs).map((r) => r.id);
  } catch {
    return []; // tables not there yet
  } finally {
    db.close();
  }
}

describe('kill -9 of a process running two runs at once', () => {
  it('marks both interrupted; each resumes to the numbers of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-crash-jobs-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'sweep', '--store', dir, '--jobs', '2', '--seeds', '2', ...small], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    // The sweep's own account, for the message of a failure: what it printed, and how it ended.
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const said = () => `the sweep (exit ${child.exitCode ?? child.signalCode ?? 'none yet'}) printed:\n${output.slice(-4000)}`;
    let killed: string[] = [];
    try {
      const deadline = Date.now() + 240_000;
      while (killed.length < 2) {
        // A sweep that ended before both ran at once cannot get there: say so at once, with why.
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the sweep ended before its two runs ran at once; ${said()}`);
        if (Date.now() > deadline) throw new Error(`the two runs never ran at once; ${said()}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
        killed = runningPastEpoch(dir, 2);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }

    const store = RunStore.open(dir); // marks the dead owner's runs interrupted
    for (const id of killed) expect(store.get(id)).toMatchObject({ status: 'interrupted' });
    expect(store.list({ status: 'running' })).toEqual([]);
    const seeds = killed.map((id) => store.get(id).config.seed).sort();
    store.close();
    expect(seeds).toEqual([0, 1]);

    // Both resume at once (a fresh queue, as a restarted server's), each to the numbers of the same run uninterrupted.
    const resumeStore = RunStore.open(dir);
    const queue = new JobQueue(resumeStore, { backend: 'wasm', concurrency: 2 });
    for (const id of killed) queue.resume(id);
    await queue.idle();
    await queue.shutdown();
    for (const id of killed) {
      const run = resumeStore.get(id);
      expect(run.status).toBe('finished');
      const uninterrupted = await runInProcess(run.config, { backend: 'wasm' });
      expect(run.summary, `seed ${run.config.seed}`).toEqual(JSON.parse(JSON.stringify(uninterrupted.summary)));
    }
    resumeStore.close();
  }, 600_000);
});

describe('--jobs', () => {
  const verbs: [string, string[]][] = [
    ['sweep', ['sweep', '--seeds', '2', '--preset', 'quick']],
    ['run', ['run', '--preset', 'quick']],
    ['figures', ['figures', '--out', join(tmpdir(), 'lab-jobs-figures-never')]],
    ['baselines', ['baselines', '--preset', 'quick']],
  ];
  it.each(verbs.flatMap(([verb, args]) => ['0', '1.5', String(maxJobs + 1)].map((jobs) => [verb, jobs, args] as const)))(
    '%s --jobs %s is refused before any work, naming the option and the range',
    async (_verb, jobs, args) => {
      const store = mkdtempSync(join(tmpdir(), 'lab-jobs-flag-'));
      const result = await labInProcess([...args, '--jobs', jobs], store);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--jobs "${jobs}": expected an integer from 1 to ${maxJobs}`);
      expect(existsSync(join(store, 'runs.sqlite')) ? RunStore.open(store).list({}) : []).toEqual([]);
    },
  );
});
