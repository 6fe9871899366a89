/**
 * The UI's "runs at once" goes through the service, which the renderer cannot bypass: the
 * setting is read with jobs.settings, changed with jobs.set on the real job queue, and a bad
 * count is refused with a problem that names `jobs` (nothing changes).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { maxJobs } from '../../shared/jobSettings.ts';
import { defaultJobs, physicalCores } from '../../main/lab/jobCount.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { LabService } from '../../main/lab/service.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { jobCountChoices } from '../../renderer/viewLogic/jobs.ts';

let store: RunStore;
let queue: JobQueue;
let service: LabService;

beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-job-settings-')));
  queue = new JobQueue(store, { backend: 'wasm', concurrency: 1 });
  service = new LabService(store, queue, { measureThroughput: false });
});
afterEach(async () => {
  service.close();
  await queue.shutdown();
  store.close();
});

async function problems(params: unknown) {
  try {
    await service.call('jobs.set', params);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).problems;
  }
  throw new Error('jobs.set accepted a bad count');
}

describe('jobs at once through the service', () => {
  it('reads the setting, its default for a UI session and the cores', async () => {
    const cores = physicalCores();
    expect(await service.call('jobs.settings', {})).toEqual({ jobs: 1, defaultJobs: defaultJobs({ uiOpen: true, cores }), physicalCores: cores, maxJobs });
  });

  it('changes the queue\'s runs at once and answers the new setting', async () => {
    expect((await service.call('jobs.set', { jobs: 3 })).jobs).toBe(3);
    expect(queue.concurrency).toBe(3);
    expect((await service.call('jobs.settings', {})).jobs).toBe(3);
  });

  it.each([0, -2, 1.5, maxJobs + 1, '2', null])('refuses %j, naming `jobs`, and changes nothing', async (jobs) => {
    expect(await problems({ jobs })).toEqual([{ path: 'jobs', message: `expected an integer from 1 to ${maxJobs}` }]);
    expect(queue.concurrency).toBe(1);
  });

  it('refuses unknown fields and a missing count', async () => {
    expect(await problems({ jobs: 2, threads: 4 })).toEqual([{ path: 'threads', message: 'unknown field' }]);
    expect(await problems({})).toEqual([{ path: 'jobs', message: `expected an integer from 1 to ${maxJobs}` }]);
    expect(queue.concurrency).toBe(1);
  });
});

describe('the header\'s choices', () => {
  it('run from 1 to the physical cores, and reach the current setting when it is higher', () => {
    expect(jobCountChoices({ jobs: 1, physicalCores: 2, maxJobs })).toEqual([1, 2]);
    expect(jobCountChoices({ jobs: 6, physicalCores: 4, maxJobs })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(jobCountChoices({ jobs: 1, physicalCores: 128, maxJobs: 64 })).toHaveLength(64);
  });
});
