/**
 * The LabService without a transport: params checked with the contract's schemas (problems name
 * the field), the cost estimate's arithmetic, and the event stream's batching, driven by a
 * stand-in queue whose updates the test controls (no training here).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type JobStreamMessage } from '../../shared/api.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import type { JobRequest, JobUpdate } from '../../main/lab/jobs.ts';
import { LabService, NotFoundError, type JobControl } from '../../main/lab/service.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';

const backend: BackendInfo = { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: true };

/** A queue that records what it is asked and publishes what the test tells it to. */
class FakeQueue implements JobControl {
  readonly listeners = new Set<(u: JobUpdate) => void>();
  readonly submitted: JobRequest[] = [];
  readonly cancelled: string[] = [];
  active: string[] = [];
  constructor(private readonly store: RunStore) {}
  subscribe(listener: (u: JobUpdate) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(update: JobUpdate) {
    for (const l of this.listeners) l(update);
  }
  submit(request: JobRequest) {
    this.submitted.push(request);
    const run = this.store.createRun({ ...request, configHash: configHash(request.config), codeVersion: codeVersion() });
    this.publish({ kind: 'status', runId: run.id, status: 'queued' });
    return run;
  }
  resume(id: string) {
    return this.store.get(id);
  }
  cancel(id: string) {
    this.cancelled.push(id);
    return true;
  }
  backendInfo() {
    return Promise.resolve(backend);
  }
}

let store: RunStore;
let queue: FakeQueue;
let service: LabService;

beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-service-')));
  queue = new FakeQueue(store);
  service = new LabService(store, queue, { measureThroughput: false });
});

afterEach(() => {
  service.close();
  store.close();
  vi.useRealTimers();
});

const rejection = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe('params', () => {
  it('are checked with the contract: each problem names its field', async () => {
    const rename = await rejection(service.call('runs.rename', { id: 'NOT AN ID', name: '' }));
    expect(rename.problems.map((p) => p.path)).toEqual(['id', 'name']);
    expect(rename.message).toMatch(/^Invalid params for runs.rename: id: expected a run id/);
    expect((await rejection(service.call('runs.list', { colour: 'red' }))).problems).toEqual([{ path: 'colour', message: 'unknown field' }]);
    expect((await rejection(service.call('runs.delete', { ids: ['20260101-000000-abcd', 7] }))).problems[0]?.path).toBe('ids.1');
    expect((await rejection(service.call('no.such' as 'app.info', {}))).problems[0]?.path).toBe('method');
  });

  it('an unknown run is a NotFoundError naming the id', async () => {
    const error = await rejection(service.call('runs.get', { id: '19990101-000000-0000' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.problems[0]?.path).toBe('id');
  });
});

describe('config.validate and runs.start', () => {
  it('report problems by experiment path, with no estimate and no run', async () => {
    const check = await service.call('config.validate', { input: { task: { kind: 'sparse-coding', d: 0 } } });
    expect(check).toMatchObject({ ok: false, config: null, estimate: null, problems: [{ path: 'task.d' }] });
    const start = await rejection(service.call('runs.start', { input: { task: { kind: 'sparse-coding', d: 0 } } }));
    expect(start.problems[0]?.path).toBe('task.d');
    expect(queue.submitted).toHaveLength(0);
  });

  it('lay the input over the preset, and record the preset', async () => {
    const check = await service.call('config.validate', { input: { seed: 4 }, preset: 'quick' });
    expect(check.ok).toBe(true);
    expect(check.config).toMatchObject({ seed: 4, task: { d: 64 }, train: { cleanEpochs: 30, adversarialEpochs: 15 } });
    const { id } = await service.call('runs.start', { input: { seed: 4 }, preset: 'quick', name: 'n' });
    expect(queue.submitted[0]).toMatchObject({ preset: 'quick', name: 'n', config: check.config });
    expect(store.get(id)).toMatchObject({ preset: 'quick', name: 'n', seed: 4 });
    expect((await service.call('runs.list', {})).map((r) => r.id)).toEqual([id]);
    expect(await service.call('runs.rename', { id: id.slice(0, 10), name: 'renamed' })).toEqual({ id });
    expect(store.get(id).name).toBe('renamed');
  });

  it('delete all or nothing: a running run is refused by index, a queued one is taken off the queue', async () => {
    const a = (await service.call('runs.start', { input: {}, preset: 'quick' })).id;
    const b = (await service.call('runs.start', { input: { seed: 1 }, preset: 'quick' })).id;
    queue.active = [a];
    const refused = await rejection(service.call('runs.delete', { ids: [b, a] }));
    expect(refused.problems).toEqual([{ path: 'ids.1', message: expect.stringMatching(/is running/) }]);
    expect(store.list()).toHaveLength(2);
    queue.active = [];
    expect(await service.call('runs.delete', { ids: [a, b] })).toEqual({ deleted: [a, b] });
    expect(queue.cancelled).toEqual([a, b]);
    expect(store.list()).toHaveLength(0);
  });
});

describe('runs.delete', () => {
  it('takes whole ids only: a prefix (even a unique one) deletes nothing and names the field', async () => {
    const id = (await service.call('runs.start', { input: {}, preset: 'quick' })).id;
    const refused = await rejection(service.call('runs.delete', { ids: [id.slice(0, 4)] }));
    expect(refused.problems).toEqual([{ path: 'ids.0', message: expect.stringMatching(/No run with the id "\d{4}".*whole id/) }]);
    expect(store.list().map((r) => r.id)).toEqual([id]);
    expect(await service.call('runs.delete', { ids: [id] })).toEqual({ deleted: [id] });
    expect(store.list()).toEqual([]);
  });
});

describe('stopping', () => {
  it('marks the runs queued here that never started interrupted, so they can be resumed', async () => {
    const started = (await service.call('runs.start', { input: {}, preset: 'quick' })).id;
    const waiting = (await service.call('runs.start', { input: { seed: 1 }, preset: 'quick' })).id;
    queue.publish({ kind: 'status', runId: started, status: 'running' });
    expect(service.settleQueued()).toEqual([waiting]);
    expect(store.get(waiting)).toMatchObject({ status: 'interrupted', error: 'the server stopped before this run started' });
    expect(store.get(started).status).toBe('queued'); // the stand-in queue never ran it; the store is not told otherwise
  });
});

describe('the event stream', () => {
  const progress = (done: number): RunEvent => ({ type: 'progress', phase: 'clean', epoch: 1, epochs: 3, step: done, stepsPerEpoch: 10, done, total: 30, elapsedSeconds: done / 100, rate: 100 });
  const phase: RunEvent = { type: 'phase-changed', phase: 'clean', epochs: 3, startsAfterGlobalEpoch: 0 };

  it('leaves in batches at most every 250 ms, progress coalesced to the latest', () => {
    vi.useFakeTimers();
    const messages: JobStreamMessage[] = [];
    service.subscribe((m) => messages.push(m));
    queue.publish({ kind: 'event', runId: 'r1', event: phase });
    for (let i = 1; i <= 50; i++) queue.publish({ kind: 'event', runId: 'r1', event: progress(i) });
    queue.publish({ kind: 'event', runId: 'r2', event: progress(7) });
    vi.advanceTimersByTime(249);
    expect(messages).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(messages).toEqual([
      { type: 'events', runId: 'r1', events: [phase, progress(50)] },
      { type: 'events', runId: 'r2', events: [progress(7)] },
    ]);
    vi.advanceTimersByTime(1000);
    expect(messages).toHaveLength(2); // nothing new, nothing sent
  });

  it('sends a status at once, after the run’s pending events', () => {
    vi.useFakeTimers();
    const messages: JobStreamMessage[] = [];
    const unsubscribe = service.subscribe((m) => messages.push(m));
    queue.publish({ kind: 'event', runId: 'r1', event: progress(3) });
    queue.publish({ kind: 'status', runId: 'r1', status: 'failed', error: 'boom', errorName: 'Error' });
    expect(messages).toEqual([
      { type: 'events', runId: 'r1', events: [progress(3)] },
      { type: 'status', runId: 'r1', status: 'failed', error: 'boom' },
    ]);
    unsubscribe();
    queue.publish({ kind: 'status', runId: 'r1', status: 'queued' });
    expect(messages).toHaveLength(2);
  });
});
