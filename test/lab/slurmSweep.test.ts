/**
 * The Slurm sweep's parts without a cluster: the sbatch script from a profile and options, each
 * member's status from its folder and one (stand-in) squeue answer, the tail read of an event log,
 * and import's checks, idempotence and updates, on clones of one real run folder.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsEvent, RunEvent } from '../../shared/events.ts';
import { importRuns } from '../../main/lab/runImport.ts';
import { arrayTasks, compactArray } from '../../main/lab/slurm/jobFolder.ts';
import { mergeResources, readProfile, sbatchScript, checkResources } from '../../main/lab/slurm/sbatchScript.ts';
import { parseSqueue, querySqueue } from '../../main/lab/slurm/squeue.ts';
import { sweepStatus } from '../../main/lab/slurm/sweepStatus.ts';
import { lastMetricsEvent } from '../../main/lab/store/eventLogTail.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { cloneRunFolder, makeTemplateRun, squeueLines, writeSyntheticJobFolder } from '../fixtures/syntheticSweep.ts';

let work = '';
let template = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'purification-lab-slurm-unit-'));
  template = makeTemplateRun(join(work, 'template-store'));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the sbatch script', () => {
  it('takes the profile, with the command line on top, and writes each resource on its own #SBATCH line', () => {
    const file = join(work, 'profile.json');
    writeFileSync(file, JSON.stringify({ partition: 'gpu', time: '2:00:00', mem: '8G', setup: ['module load nodejs/20'], sbatch: ['--account=lab'], project: '/home/me/purification-lab' }));
    const resources = mergeResources(readProfile(file), checkResources({ time: '30', gres: 'gpu:1', maxParallel: 8, cpusPerTask: 2, sbatch: ['--qos=short'] }, 'options'));
    const script = sbatchScript({ name: 'eps sweep', members: 40, resources });
    const sbatchLines = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(sbatchLines).toEqual([
      '#SBATCH --job-name=purification-lab-eps-sweep',
      '#SBATCH --array=0-39%8',
      '#SBATCH --output=logs/%A_%a.out',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --ntasks=1',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=30',
      '#SBATCH --mem=8G',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --account=lab',
      '#SBATCH --qos=short',
    ]);
    expect(script).toContain('\nmodule load nodejs/20\n');
    expect(script).toContain('PROJECT="${PURIFICATION_LAB_PROJECT:-/home/me/purification-lab}"');
    expect(script).toContain('exec node --import tsx main/lab/cli/lab.ts sweep member "$JOB_DIR" "$SLURM_ARRAY_TASK_ID"');
  });

  it('refuses a value that would leave its line, naming the field and the file', () => {
    const file = join(work, 'bad-profile.json');
    writeFileSync(file, JSON.stringify({ partition: 'gpu\n#SBATCH --uid=0' }));
    expect(() => readProfile(file)).toThrow(`The Slurm profile ${file}: partition: expected a partition name`);
    expect(() => checkResources({ time: 'two hours' }, 'The Slurm options')).toThrow('The Slurm options: time: expected a Slurm time limit');
    expect(() => checkResources({ mem: 'lots' }, 'The Slurm options')).toThrow('mem: expected a memory size');
    expect(() => checkResources({ nodes: 4 }, 'The Slurm options')).toThrow(/Unrecognized key.*nodes/);
  });

  it('lists array tasks both ways', () => {
    expect(arrayTasks('0-3,7%2')).toEqual([0, 1, 2, 3, 7]);
    expect(compactArray([7, 1, 2, 3, 9, 10])).toBe('1-3,7,9-10');
  });
});

describe('squeue', () => {
  it('is asked once for every job of the sweep, and an ended job is simply absent', () => {
    const calls: string[][] = [];
    const view = querySqueue(['12', '15'], (args) => {
      calls.push([...args]);
      return { status: 0, stdout: '12_0|RUNNING|None|n1\n12_1|PENDING|Resources|\n', stderr: '' };
    });
    expect(calls).toEqual([['--noheader', '--array', '--jobs=12,15', '--format=%i|%T|%r|%N']]);
    expect(view.reachable && [...view.tasks.entries()]).toEqual([
      ['12_0', { state: 'RUNNING', reason: 'None', node: 'n1' }],
      ['12_1', { state: 'PENDING', reason: 'Resources', node: '' }],
    ]);
    const gone = querySqueue(['9'], () => ({ status: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' }));
    expect(gone.reachable && gone.tasks.size).toBe(0);
    const absent = querySqueue(['9'], () => ({ status: null, stdout: '', stderr: '', error: Object.assign(new Error('spawn squeue ENOENT'), { code: 'ENOENT' }) }));
    expect(absent).toEqual({ reachable: false, why: 'squeue is not installed here (not on a cluster login node)' });
    expect(parseSqueue('\n  \n').size).toBe(0);
  });
});

describe('sweep status', () => {
  it('gives each member its state from its folder and the one squeue answer', () => {
    const dir = join(work, 'status');
    writeSyntheticJobFolder(dir, template, ['finished', 'running', 'killed', 'failed', 'queued', 'queued', 'queued']);
    // Member 5's task ended before its run began; its Slurm log says why.
    writeFileSync(join(dir, 'logs', '4242_5.out'), 'loading\nsweep.sbatch: PROJECT=\'\' is not a Purification Lab checkout: set PURIFICATION_LAB_PROJECT or write it with --project\n');
    const calls: (readonly string[])[] = [];
    const status = sweepStatus(dir, (jobIds) => {
      calls.push(jobIds);
      return { reachable: true, tasks: parseSqueue(squeueLines('4242', [{ index: 1, state: 'RUNNING' }, { index: 4, state: 'PENDING' }])) };
    });
    expect(calls).toEqual([['4242']]);
    expect(status.members.map((m) => m.state)).toEqual(['finished', 'running', 'interrupted', 'failed', 'queued', 'failed', 'failed']);
    const summary = JSON.parse(readFileSync(join(template, 'summary.json'), 'utf8'));
    expect(status.members[0]!.summary).toEqual(summary);
    const templateLog = readFileSync(join(template, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const epoch2 = templateLog.find((e): e is MetricsEvent => e.type === 'metrics' && e.globalEpoch === 2)!;
    expect(status.members[1]!.progress).toEqual({ phase: 'clean', epoch: 2, globalEpoch: 2, totalEpochs: 5, cleanAccuracy: epoch2.cleanAccuracy.estimate, robustAccuracy: null });
    expect(status.members[1]!.squeue).toEqual({ state: 'RUNNING', reason: 'None', node: 'node0042' });
    expect(status.members[2]!.why[0]).toBe('its folder says running, but Slurm no longer lists task 4242_2: it was killed (cancelled, out of time, or its node failed)');
    expect(status.members[3]!.why).toEqual(['The training loss became NaN at epoch 3: lower train.optimizer.lr (50)']);
    expect(status.members[5]!.why).toEqual(['its Slurm task ended before the run began; the end of its log:', 'loading', "sweep.sbatch: PROJECT='' is not a Purification Lab checkout: set PURIFICATION_LAB_PROJECT or write it with --project"]);
    expect(status.counts).toEqual({ 'not submitted': 0, queued: 1, running: 1, finished: 1, failed: 3, interrupted: 1 });
  });

  it('says what it cannot know when squeue cannot be asked, from the folders alone', () => {
    const dir = join(work, 'status-offline');
    writeSyntheticJobFolder(dir, template, ['finished', 'killed', 'queued']);
    const status = sweepStatus(dir, () => ({ reachable: false, why: 'squeue is not installed here (not on a cluster login node)' }));
    expect(status.members.map((m) => m.state)).toEqual(['finished', 'running', 'queued']);
    expect(status.members[1]!.why[0]).toContain('squeue cannot be asked');
    expect(status.members[1]!.progress?.globalEpoch).toBe(2);
  });
});

describe('the event log, read from its end', () => {
  it('finds the last metrics event past long lines and a torn last line', () => {
    const folder = mkdtempSync(join(work, 'tail-'));
    const metrics = (globalEpoch: number) => ({ type: 'metrics', phase: 'clean', epoch: globalEpoch, globalEpoch, loss: 0.5, cleanAccuracy: { estimate: 0.5 + globalEpoch / 100 } });
    const huge = { type: 'instruments', values: Array.from({ length: 40_000 }, (_, i) => i / 7) }; // ~ 700 KB: spans many chunks
    writeFileSync(join(folder, 'events.jsonl'), [metrics(1), huge, metrics(2), huge].map((e) => JSON.stringify(e)).join('\n') + '\n');
    appendFileSync(join(folder, 'events.jsonl'), JSON.stringify(metrics(3)).slice(0, 30)); // a write cut short
    expect(lastMetricsEvent(folder)).toEqual(metrics(2));
    writeFileSync(join(folder, 'events.jsonl'), JSON.stringify(metrics(1)) + '\n');
    expect(lastMetricsEvent(folder)).toEqual(metrics(1));
    writeFileSync(join(folder, 'events.jsonl'), JSON.stringify(metrics(1)));
    expect(lastMetricsEvent(folder)).toBeNull();
    expect(lastMetricsEvent(join(folder, 'absent'))).toBeNull();
  });
});

describe('lab import', () => {
  it('imports a job folder once (by run id and config hash), and a member finished since replaces its interrupted copy', () => {
    const dir = join(work, 'import-job');
    const job = writeSyntheticJobFolder(dir, template, ['finished', 'killed', 'queued']);
    const storeDir = join(work, 'import-store');
    const store = RunStore.open(storeDir);
    try {
      const first = importRuns(store, dir);
      expect(first).toEqual({ added: [job.members[0]!.runId, job.members[1]!.runId], updated: [], unchanged: [], sweeps: [job.sweepId], interrupted: [job.members[1]!.runId] });
      const killed = store.get(job.members[1]!.runId);
      expect(killed.status).toBe('interrupted');
      expect(killed.error).toContain('it was running on node0042 when it was imported');
      expect(killed.checkpointEpoch).not.toBeNull(); // resumable here
      expect(store.list({ sweepId: job.sweepId })).toHaveLength(2);
      expect(existsSync(join(storeDir, 'sweeps', `${job.sweepId}.json`))).toBe(true);

      expect(importRuns(store, dir)).toEqual({ added: [], updated: [], unchanged: [job.members[0]!.runId, job.members[1]!.runId], sweeps: [], interrupted: [] });

      // The member finishes on the cluster (a resubmission); importing again brings it finished.
      rmSync(join(dir, 'runs', job.members[1]!.runId), { recursive: true });
      cloneRunFolder(template, join(dir, 'runs'), job.members[1]!.runId, { sweepId: job.sweepId });
      const third = importRuns(store, dir);
      expect(third.updated).toEqual([job.members[1]!.runId]);
      expect(store.get(job.members[1]!.runId).status).toBe('finished');
      expect(store.get(job.members[1]!.runId).summary).toEqual(JSON.parse(readFileSync(join(template, 'summary.json'), 'utf8')));
      expect(readdirSync(storeDir).filter((n) => n.startsWith('import-staging'))).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('imports a .tar.gz of a run folder', () => {
    const folderParent = mkdtempSync(join(work, 'tar-'));
    cloneRunFolder(template, folderParent, 'run-in-a-tarball');
    const archive = join(work, 'one-run.tar.gz');
    expect(spawnSync('tar', ['-czf', archive, '-C', folderParent, 'run-in-a-tarball']).status).toBe(0);
    const store = RunStore.open(join(work, 'tar-store'));
    try {
      expect(importRuns(store, archive).added).toEqual(['run-in-a-tarball']);
      expect(store.get('run-in-a-tarball').status).toBe('finished');
    } finally {
      store.close();
    }
  });

  it('refuses the whole import when one folder is damaged, foreign or holds what a run folder does not', () => {
    const storeDir = join(work, 'refuse-store');
    const store = RunStore.open(storeDir);
    try {
      const before = { runs: readdirSync(join(storeDir, 'runs')), rows: store.list().length };
      const cases: [string, (folder: string) => void, string][] = [
        ['weights', (f) => truncateSync(join(f, 'weights-final.safetensors'), statSync(join(f, 'weights-final.safetensors')).size - 10), 'weights-final.safetensors'],
        ['summary', (f) => writeFileSync(join(f, 'summary.json'), '{"final":{}}'), 'summary.json differs from the summary in result.json'],
        ['stray', (f) => writeFileSync(join(f, 'notes.txt'), 'hello'), 'notes.txt is not a file of a Purification Lab run folder'],
        ['record', (f) => writeFileSync(join(f, 'run.json'), readFileSync(join(f, 'run.json'), 'utf8').replace('"status": "finished"', '"status": "done"')), 'run.json: status'],
        ['unfinished', (f) => writeFileSync(join(f, 'events.jsonl'), readFileSync(join(f, 'events.jsonl'), 'utf8').split('\n').slice(0, 5).join('\n') + '\n'), 'does not end with the run\'s "finished" event'],
      ];
      for (const [name, damage, message] of cases) {
        const dir = join(work, `refuse-${name}`);
        const job = writeSyntheticJobFolder(dir, template, ['finished', 'finished']);
        damage(join(dir, 'runs', job.members[1]!.runId));
        expect(() => importRuns(store, dir), name).toThrow(message);
        expect({ runs: readdirSync(join(storeDir, 'runs')), rows: store.list().length }, name).toEqual(before);
        expect(existsSync(join(storeDir, 'sweeps')), name).toBe(false);
      }
    } finally {
      store.close();
    }
  });
});
