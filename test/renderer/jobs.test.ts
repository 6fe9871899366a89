/** The top bar's jobs: a run is shown as soon as the list or the stream says it runs, and not after it stopped. */
import { describe, expect, it } from 'vitest';
import type { RunListItem } from '../../shared/api.ts';
import type { ProgressEvent } from '../../shared/events.ts';
import { activeJobs } from '../../renderer/viewLogic/jobs.ts';

const run = (id: string, status: RunListItem['status'], name = ''): RunListItem => ({
  id, name, notes: '', status, preset: 'quick', seed: 0, sweepId: null, createdAt: '2026-12-05T00:00:00Z', finishedAt: null,
  protocol: 'fine-tune', robust: { eps: 0.3, norm: 'l2', attack: 'PGD-20', image: false }, summary: null, progress: null, checkpointEpoch: null, error: null,
});
const progress = (done: number): ProgressEvent => ({ type: 'progress', phase: 'adversarial', epoch: 3, epochs: 15, step: 1, stepsPerEpoch: 40, done, total: 1800, elapsedSeconds: 2, rate: 900 });

describe('the jobs in the top bar', () => {
  it('shows a run the list has not seen yet as soon as its progress arrives, named from any record', () => {
    const jobs = activeJobs([], [run('a', 'queued', 'my run')], new Map(), new Map([['a', progress(1300)]]));
    expect(jobs).toEqual([{ id: 'a', name: 'my run', status: 'running', done: 1300, total: 1800, phase: 'adversarial 3/15' }]);
    // Known only from its status on the stream: shown, by id.
    expect(activeJobs([], [], new Map([['b', 'running']]), new Map())).toEqual([{ id: 'b', name: 'b', status: 'running', done: 0, total: 0, phase: 'running' }]);
  });

  it('drops a run the stream says has stopped, though the list still says running', () => {
    expect(activeJobs([run('a', 'running')], [], new Map([['a', 'finished']]), new Map())).toEqual([]);
  });

  it('lists running jobs before queued ones', () => {
    const jobs = activeJobs([run('q', 'queued'), run('r', 'running')], [], new Map(), new Map());
    expect(jobs.map((j) => [j.id, j.status])).toEqual([
      ['r', 'running'],
      ['q', 'queued'],
    ]);
  });
});
