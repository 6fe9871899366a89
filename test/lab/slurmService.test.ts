/**
 * The setup form's Slurm methods (main/lab/slurmService.ts) without a cluster: a job folder
 * written from the form's params (and submitted to a stand-in sbatch), remembered by the store
 * across a restart; each member's status from one stand-in squeue call; the import of a job
 * folder's finished runs into the store and its sweep view; and the folder refused with a
 * problem naming `folder`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, apiParams, type ApiParams } from '../../shared/api.ts';
import { importSlurmFolder, slurmFolders, slurmStatus, writeSlurmFolder } from '../../main/lab/slurmService.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { sweepList } from '../../main/lab/sweepService.ts';
import { makeTemplateRun, squeueLines, writeSyntheticJobFolder } from '../fixtures/syntheticSweep.ts';

let work = '';
let template = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'purification-lab-slurm-service-'));
  template = makeTemplateRun(join(work, 'template-store'));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const form = (folder: string, submit: boolean): ApiParams<'slurm.write'> => ({
  preset: 'quick',
  input: { task: { d: 16 } },
  grid: [{ path: 'train.attack.eps', values: [0.1, 0.3] }],
  seeds: 2,
  resources: { time: '1:00:00', mem: '4G', setup: ['module load nodejs/20'], project: '/home/me/purification-lab' },
  folder,
  submit,
});

/** The ApiError a call throws, to check the field it names. */
function apiError(call: () => unknown): ApiError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('the call did not throw');
}

describe('slurm.write', () => {
  it('writes the job folder of the form\'s sweep, remembered by the store after a restart', () => {
    const storeDir = join(work, 'write-store');
    const folder = join(work, 'written');
    let store = RunStore.open(storeDir);
    try {
      const written = writeSlurmFolder(store, form(folder, false), '/unused');
      expect(written).toMatchObject({ folder, members: 4, jobId: null });
      expect(readdirSync(join(folder, 'members')).sort()).toEqual(['0.json', '1.json', '2.json', '3.json']);
      const job = JSON.parse(readFileSync(join(folder, 'sweep.json'), 'utf8')) as { sweepId: string; members: { point: Record<string, unknown>; seed: number }[] };
      expect(job.sweepId).toBe(written.sweepId);
      expect(job.members.map((m) => [m.point['train.attack.eps'], m.seed])).toEqual([[0.1, 0], [0.1, 1], [0.3, 0], [0.3, 1]]);
      expect(JSON.parse(readFileSync(join(folder, 'members', '2.json'), 'utf8'))).toMatchObject({ seed: 0, task: { d: 16 }, train: { attack: { eps: 0.3 } } });
      const script = readFileSync(join(folder, 'sweep.sbatch'), 'utf8');
      expect(script).toContain('#SBATCH --array=0-3\n');
      expect(script).toContain('/home/me/purification-lab');
      expect(existsSync(join(folder, 'submissions.json'))).toBe(false);
    } finally {
      store.close();
    }
    store = RunStore.open(storeDir);
    try {
      expect(slurmFolders(store).map(({ folder: f, exists }) => [f, exists])).toEqual([[folder, true]]);
    } finally {
      store.close();
    }
  });

  it('submits with sbatch in the folder, recording the job id', () => {
    const store = RunStore.open(join(work, 'submit-store'));
    const folder = join(work, 'submitted');
    const calls: { args: readonly string[]; cwd: string }[] = [];
    try {
      const written = writeSlurmFolder(store, { ...form(folder, true), resources: {} }, '/this/checkout', {
        sbatch: (args, cwd) => {
          calls.push({ args, cwd });
          return { status: 0, stdout: '777\n', stderr: '' };
        },
      });
      expect(written.jobId).toBe('777');
      expect(calls).toEqual([{ args: ['--parsable', 'sweep.sbatch'], cwd: folder }]);
      expect(JSON.parse(readFileSync(join(folder, 'submissions.json'), 'utf8'))).toMatchObject([{ jobId: '777', tasks: '0-3' }]);
      // Submitted from here: the script runs this checkout, as the CLI's --submit does.
      expect(readFileSync(join(folder, 'sweep.sbatch'), 'utf8')).toContain('/this/checkout');

      // Nothing runs the tasks: one squeue call lists them all pending.
      const squeueCalls: (readonly string[])[] = [];
      const status = slurmStatus(store, { folder }, {
        squeue: (args) => {
          squeueCalls.push(args);
          return { status: 0, stdout: squeueLines('777', [0, 1, 2, 3].map((index) => ({ index, state: 'PENDING' }))), stderr: '' };
        },
      });
      expect(squeueCalls).toHaveLength(1);
      expect(squeueCalls[0]).toContain('--jobs=777');
      expect(status.counts).toMatchObject({ queued: 4, running: 0, finished: 0 });
      expect(status.members.map((m) => [m.task, m.state, m.squeue?.state, m.squeue?.reason])).toEqual([0, 1, 2, 3].map((i) => [`777_${i}`, 'queued', 'PENDING', 'Priority']));
    } finally {
      store.close();
    }
  });

  it('says sbatch\'s refusal under `submit`, the folder kept', () => {
    const store = RunStore.open(join(work, 'refused-store'));
    const folder = join(work, 'refused');
    try {
      const error = apiError(() => writeSlurmFolder(store, form(folder, true), '/x', { sbatch: () => ({ status: 1, stdout: '', stderr: 'sbatch: error: invalid partition specified: nope' }) }));
      expect(error.problems.map((p) => p.path)).toEqual(['submit']);
      expect(error.message).toContain('invalid partition specified: nope');
      expect(existsSync(join(folder, 'sweep.json'))).toBe(true);
      expect(slurmFolders(store).map((f) => f.folder)).toEqual([folder]);
    } finally {
      store.close();
    }
  });

  it('refuses a folder that holds anything, a relative path, and bad resources, naming the field', () => {
    const store = RunStore.open(join(work, 'bad-store'));
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'results.txt'), 'keep me');
    try {
      const error = apiError(() => writeSlurmFolder(store, form(full, false), '/x'));
      expect(error.problems.map((p) => p.path)).toEqual(['folder']);
      expect(error.message).toContain('is not empty');
      expect(readdirSync(full)).toEqual(['results.txt']);
      const bad = apiError(() => writeSlurmFolder(store, { ...form(join(work, 'bad-resources'), false), resources: { partition: 'x\n#SBATCH --uid=0' } }, '/x'));
      expect(bad.problems.map((p) => p.path)).toEqual(['resources']);
      expect(existsSync(join(work, 'bad-resources'))).toBe(false);
      expect(slurmFolders(store)).toEqual([]);
    } finally {
      store.close();
    }
    const relative = apiParams['slurm.write'].safeParse(form('relative/dir', false));
    expect(relative.success).toBe(false);
    expect(relative.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['folder', 'an absolute path (starting with /)']]);
    expect(apiParams['slurm.status'].safeParse({ folder: '/tmp/x', extra: 1 }).success).toBe(false);
  });
});

describe('slurm.status and slurm.import', () => {
  it('shows each member\'s state from one squeue call, then imports the finished runs into the store and its sweep view', () => {
    const folder = join(work, 'synthetic');
    const job = writeSyntheticJobFolder(folder, template, ['finished', 'running', 'failed', 'killed', 'queued'], '4242');
    const summary = JSON.parse(readFileSync(join(template, 'summary.json'), 'utf8')) as { final: { cleanAccuracy: number; robustAccuracy: number } };
    const store = RunStore.open(join(work, 'import-store'));
    try {
      const status = slurmStatus(store, { folder }, { squeue: () => ({ status: 0, stdout: squeueLines('4242', [{ index: 1, state: 'RUNNING' }, { index: 4, state: 'PENDING' }]), stderr: '' }) });
      expect(status.members.map((m) => m.state)).toEqual(['finished', 'running', 'failed', 'interrupted', 'queued']);
      expect(status.counts).toEqual({ 'not submitted': 0, queued: 1, running: 1, finished: 1, failed: 1, interrupted: 1 });
      expect([status.members[0]!.clean, status.members[0]!.robust]).toEqual([summary.final.cleanAccuracy, summary.final.robustAccuracy]);
      expect(status.members[1]!.epoch).toBe('2/5 (clean 2)'); // the synthetic log is cut after epoch 2
      const epoch2 = readFileSync(join(template, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; globalEpoch?: number; cleanAccuracy?: { estimate: number } }).find((e) => e.type === 'metrics' && e.globalEpoch === 2)!;
      expect(status.members[1]!.clean).toBe(epoch2.cleanAccuracy!.estimate);
      expect(status.members[1]!.squeue).toEqual({ state: 'RUNNING', reason: 'None', node: 'node0042' });
      expect(status.members[2]!.why[0]).toBe('The training loss became NaN at epoch 3: lower train.optimizer.lr (50)');
      expect(status.members[3]!.why[0]).toContain('Slurm no longer lists task 4242_3');
      // A folder looked at is remembered too.
      expect(slurmFolders(store).map((f) => f.folder)).toEqual([folder]);

      const imported = importSlurmFolder(store, { folder });
      // running and killed come in interrupted (resumable here); failed stays failed; queued has no run folder.
      expect(imported).toEqual({ added: 4, updated: 0, unchanged: 0, interrupted: 2, sweeps: [job.sweepId] });
      expect(store.get(job.members[0]!.runId).status).toBe('finished');
      const sweep = sweepList(store).find((s) => s.id === job.sweepId)!;
      // The synthetic members are clones of one run (eps 0.3): the sweep view groups runs by their own config.
      expect(sweep.points.map((p) => [p.point['train.attack.eps'], p.finished, p.clean.mean])).toEqual([[0.2, 0, null], [0.3, 1, summary.final.cleanAccuracy]]);
      expect(importSlurmFolder(store, { folder })).toMatchObject({ added: 0, unchanged: 4 });
    } finally {
      store.close();
    }
  });

  it('refuses a folder that is not a job folder, naming `folder`', () => {
    const store = RunStore.open(join(work, 'not-store'));
    try {
      for (const call of [() => slurmStatus(store, { folder: work }), () => importSlurmFolder(store, { folder: join(work, 'nothing-here') })]) {
        const error = apiError(call);
        expect(error.problems.map((p) => p.path)).toEqual(['folder']);
        expect(error.message).toContain('is not a Slurm job folder');
      }
      expect(slurmFolders(store)).toEqual([]);
    } finally {
      store.close();
    }
  });
});
