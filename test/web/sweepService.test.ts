/**
 * The sweep API methods: the runs list's sweep view (each grid point's mean ± std over its
 * finished seeds, an imported sweep's too) and the setup form's Slurm script preview, with the
 * server's checks of the untrusted params.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import type { JobControl, JobRequest } from '../../main/lab/jobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { LabService } from '../../main/lab/service.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { rejectionBy } from '../support/thrown.ts';

const submitted: JobRequest[] = [];
const idleQueue: JobControl = {
  submit: (request) => {
    submitted.push(request);
    return store.createRun({ ...request, configHash: configHash(request.config), codeVersion: codeVersion() });
  },
  resume: () => {
    throw new Error('not here');
  },
  cancel: () => false,
  subscribe: () => () => undefined,
  backendInfo: () => Promise.resolve({ name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: false }),
  active: [],
};

let store: RunStore;
let service: LabService;
beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-sweeps-')));
  service = new LabService(store, idleQueue, { measureThroughput: false });
});
afterEach(() => {
  service.close();
  store.close();
});

/** A finished run of the sweep at this eps and seed, with these final accuracies. */
function finishedRun(sweepId: string, eps: number, seed: number, clean: number, robust: number): void {
  const input = { train: { attack: { eps } }, seed };
  const config = resolveExperiment(input);
  const run = store.createRun({ input, config, configHash: configHash(config), codeVersion: codeVersion(), sweepId });
  const final = { cleanAccuracy: clean, robustAccuracy: robust };
  store.finish(run.id, { summary: { final } } as unknown as RunResult);
}

describe('sweeps.list', () => {
  it('gives each grid point the mean ± std of its finished seeds', async () => {
    const sweepId = store.createSweep({ name: 'eps', grid: { 'train.attack.eps': [0.2, 0.3] }, seeds: 2, input: {} });
    finishedRun(sweepId, 0.2, 0, 0.9, 0.4);
    finishedRun(sweepId, 0.2, 1, 0.8, 0.6);
    finishedRun(sweepId, 0.3, 0, 0.7, 0.3);
    const [sweep] = await service.call('sweeps.list', {});
    expect(sweep!.id).toBe(sweepId);
    expect(sweep!.points.map((p) => [p.point, p.runs, p.finished])).toEqual([
      [{ 'train.attack.eps': 0.2 }, 2, 2],
      [{ 'train.attack.eps': 0.3 }, 1, 1],
    ]);
    expect(sweep!.points[0]!.clean.mean).toBeCloseTo(0.85, 12);
    expect(sweep!.points[0]!.clean.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(sweep!.points[0]!.robust.mean).toBeCloseTo(0.5, 12);
    expect(sweep!.points[1]!.robust).toEqual({ mean: 0.3, std: null, n: 1 });
  });
});

describe('sweeps.list over a field left out at its default', () => {
  it('finds the member at eval.pictures.count 8, which its resolved config leaves out', async () => {
    const sweepId = store.createSweep({ name: 'pictures', grid: { 'eval.pictures.count': [8, 4] }, seeds: 1, input: {} });
    for (const count of [8, 4]) {
      const input = { eval: { pictures: { count } } };
      const config = resolveExperiment(input);
      store.createRun({ input, config, configHash: configHash(config), codeVersion: codeVersion(), sweepId });
    }
    const [sweep] = await service.call('sweeps.list', {});
    expect(sweep!.points.map((p) => [p.point, p.runs])).toEqual([
      [{ 'eval.pictures.count': 8 }, 1],
      [{ 'eval.pictures.count': 4 }, 1],
    ]);
  });
});

describe('sweeps.start', () => {
  it('records the sweep and queues each member, the grid laid over the preset', async () => {
    submitted.length = 0;
    const started = await service.call('sweeps.start', { preset: 'quick', input: { task: { noise: 0.2 } }, grid: [{ path: 'train.attack.eps', values: [0.2, 0.3] }], seeds: 2 });
    expect(started.runIds).toHaveLength(4);
    expect(submitted.map((r) => [r.config.train.attack.eps, r.config.seed, r.config.task.kind === 'sparse-coding' && r.config.task.noise, r.config.task.kind === 'sparse-coding' && r.config.task.d, r.sweepId, r.name])).toEqual([
      [0.2, 0, 0.2, 64, started.sweepId, 'train.attack.eps=0.2 · seed 0'],
      [0.2, 1, 0.2, 64, started.sweepId, 'train.attack.eps=0.2 · seed 1'],
      [0.3, 0, 0.2, 64, started.sweepId, 'train.attack.eps=0.3 · seed 0'],
      [0.3, 1, 0.2, 64, started.sweepId, 'train.attack.eps=0.3 · seed 1'],
    ]);
    const [listed] = await service.call('sweeps.list', {});
    expect(listed!.points.map((p) => [p.runs, p.finished])).toEqual([[2, 0], [2, 0]]);
    const refused = await rejectionBy(ApiError, service.call('sweeps.start', { input: {}, grid: [{ path: 'seed', values: Array.from({ length: 100 }, (_, i) => i) }], seeds: 11 }));
    expect(refused.problems).toEqual([{ path: 'grid', message: '1100 members (grid points x seeds): at most 1000 in one sweep here' }]);
  });
});

describe('sweeps.start on a queue that stacks', () => {
  it('submits the same-shaped members as one stack per job slot, the runs in the members\' order; each alone with stack: false', async () => {
    const stacks: JobRequest[][] = [];
    const stacking: JobControl = {
      ...idleQueue,
      concurrency: 2,
      submitStack: (requests) => {
        stacks.push([...requests]);
        return requests.map((r) => store.createRun({ ...r, configHash: configHash(r.config), codeVersion: codeVersion() }));
      },
    };
    const stackingService = new LabService(store, stacking, { measureThroughput: false });
    try {
      const started = await stackingService.call('sweeps.start', { preset: 'quick', input: {}, grid: [{ path: 'train.attack.eps', values: [0.2, 0.3] }], seeds: 3 });
      expect(stacks.map((s) => s.map((r) => [r.config.train.attack.eps, r.config.seed]))).toEqual([
        [[0.2, 0], [0.2, 1], [0.2, 2]],
        [[0.3, 0], [0.3, 1], [0.3, 2]],
      ]);
      expect(started.runIds.map((id) => store.get(id).name)).toEqual(stacks.flat().map((r) => r.name));
      // stack: false (the setup form's toggle off, the CLI's --no-stack): every member alone.
      stacks.length = 0;
      await stackingService.call('sweeps.start', { preset: 'quick', input: {}, grid: [{ path: 'train.attack.eps', values: [0.2, 0.3] }], seeds: 2, stack: false });
      expect(stacks.map((s) => s.map((r) => [r.config.train.attack.eps, r.config.seed]))).toEqual([[[0.2, 0]], [[0.2, 1]], [[0.3, 0]], [[0.3, 1]]]);
      const refused = await rejectionBy(ApiError, stackingService.call('sweeps.start', { preset: 'quick', input: {}, grid: [{ path: 'seed', values: [0] }], seeds: 1, stack: 'no' as unknown as boolean }));
      expect(refused.problems?.map((p) => p.path)).toEqual(['stack']);
    } finally {
      stackingService.close();
    }
  });
});

describe('sweeps.slurmScript', () => {
  it('writes the job array of the grid x seeds with the resources, and the command that makes the folder', async () => {
    const preview = await service.call('sweeps.slurmScript', {
      preset: 'quick',
      input: {},
      grid: [{ path: 'train.attack.eps', values: [0.1, 0.2, 0.3] }],
      seeds: 3,
      resources: { partition: 'short', time: '1:00:00', mem: '4G', maxParallel: 4, setup: ['module load nodejs/20'] },
    });
    expect(preview.members).toBe(9);
    expect(preview.script).toContain('#SBATCH --array=0-8%4\n');
    expect(preview.script).toContain('#SBATCH --partition=short\n');
    expect(preview.script).toContain('\nmodule load nodejs/20\n');
    expect(preview.command).toBe("npm run lab -- sweep --preset quick --grid train.attack.eps=0.1,0.2,0.3 --seeds 3 --slurm SWEEP_FOLDER --partition short --time 1:00:00 --mem 4G --max-parallel 4 --setup 'module load nodejs/20'");
  });

  it('names the bad path, field, resource or size', async () => {
    const call = (over: object) => rejectionBy(ApiError, service.call('sweeps.slurmScript', { input: {}, grid: [{ path: 'train.attack.eps', values: [0.1] }], seeds: 1, resources: {}, ...over }));
    expect((await call({ grid: [{ path: 'train.atack.eps', values: [0.1] }] })).problems).toEqual([{ path: 'grid.0.path', message: 'unknown config path "train.atack.eps": did you mean "train.attack.eps"?' }]);
    expect((await call({ grid: [{ path: 'task.d', values: [0] }] })).problems[0]!.path).toBe('task.d');
    expect((await call({ resources: { partition: 'a\n#SBATCH --uid=0' } })).problems[0]!.message).toContain('partition: expected a partition name');
    const many = Array.from({ length: 100 }, (_, i) => i + 1);
    expect((await call({ grid: [{ path: 'task.d', values: many }, { path: 'model.width', values: many }], seeds: 2 })).problems).toEqual([{ path: 'grid', message: '20000 members (grid points x seeds): at most 10000 in one sweep here' }]);
  });
});
