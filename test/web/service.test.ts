/**
 * The LabService without a transport: params checked with the contract's schemas (problems name
 * the field), the cost estimate's arithmetic, and the event stream's batching, driven by a
 * stand-in queue whose updates the test controls (no training here).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type JobStreamMessage } from '../../shared/api.ts';
import type { BackendInfo, RunEvent } from '../../shared/events.ts';
import { connectPort, nodePortEndpoint, servePort } from '../../main/desktop/portProtocol.ts';
import type { JobRequest, JobUpdate } from '../../main/lab/jobs.ts';
import { LabService, NotFoundError, type JobControl } from '../../main/lab/service.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { rejectionBy } from '../support/thrown.ts';

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

const rejection = (promise: Promise<unknown>) => rejectionBy(ApiError, promise);

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

  it('on a WebGPU software adapter, the estimate says so instead of a time, and nothing is measured', async () => {
    const software: BackendInfo = {
      name: 'webgpu',
      device: 'cpu',
      label: 'webgpu on SwiftShader driver 5.0.0 (google swiftshader, software adapter)',
      skipped: [],
      forced: true,
      details: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', software: true },
      fusedKernels: false,
    };
    let measured = 0;
    const softwareQueue = Object.assign(new FakeQueue(store), {
      backendInfo: () => Promise.resolve(software),
      measureThroughput: async () => {
        measured++;
        return { trainPerSecond: 1000, evalPerSecond: 100_000 };
      },
    });
    const onSoftware = new LabService(store, softwareQueue);
    try {
      const check = await onSoftware.call('config.validate', { input: {}, preset: 'quick' });
      expect(check.estimate).toMatchObject({ seconds: null, noEstimate: 'software adapter: no estimate' });
      expect(check.estimate!.steps).toBeGreaterThan(0);
      expect(measured).toBe(0);
      // Finished runs on the software adapter leave a throughput in the store: the Paper page's
      // plan still estimates no time from it.
      onSoftware.measuredThroughput = () => Promise.resolve({ trainPerSecond: 1000, evalPerSecond: 100_000 });
      const plan = await onSoftware.call('paper.plan', { preset: 'quick', seeds: 1, ranks: [1] });
      expect(plan.counts.missing).toBeGreaterThan(0);
      expect(plan.estimateSeconds).toBeNull();
    } finally {
      onSoftware.close();
    }
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

/** `levels` nested objects `{ a: { a: … 1 } }`, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('client mistakes are ApiErrors naming the field, never crashes (issue 11, item 7)', () => {
  it('a blank name is refused by runs.rename and runs.start, and the name is kept', async () => {
    const { id } = await service.call('runs.start', { input: {}, preset: 'quick', name: 'kept' });
    for (const name of ['', '   ', '\t\n']) {
      const error = await rejection(service.call('runs.rename', { id, name }));
      expect(error.problems).toEqual([{ path: 'name', message: 'expected a name with at least one visible character' }]);
      expect(error).not.toBeInstanceOf(NotFoundError);
      expect((await rejection(service.call('runs.start', { input: {}, preset: 'quick', name }))).problems).toEqual([
        { path: 'name', message: 'expected a name with at least one visible character' },
      ]);
    }
    expect(store.get(id).name).toBe('kept');
    expect(store.list()).toHaveLength(1);
  });

  it('params nested past 32 levels (the envelope counted) are refused before any schema or merge', async () => {
    const deep = nested(20_000);
    const expected = [{ path: `input.task.${Array(29).fill('a').join('.')}`, message: 'nested deeper than 32 levels of objects and arrays (the limit of one request)' }];
    for (const method of ['config.validate', 'runs.start', 'paper.plan', 'paper.start'] as const) {
      const error = await rejection(service.call(method, { input: { task: deep }, preset: 'quick' }));
      expect(error.problems, method).toEqual(expected);
    }
    expect(queue.submitted).toHaveLength(0);
    // 31 levels of params (32 with the envelope) reach the schemas: an unknown field, not a limit.
    const within = await service.call('config.validate', { input: { task: nested(29) }, preset: 'quick' });
    expect(within.problems).toEqual([{ path: 'task.a', message: expect.stringMatching(/unknown field/) }]);
  });

  it('what JSON cannot carry, or over 1 MB, is refused naming where', async () => {
    expect((await rejection(service.call('runs.rename', { id: '20260101-000000-abcd', name: new Map() as unknown as string }))).problems).toEqual([
      { path: 'name', message: 'expected JSON data (an object, array, string, number, boolean or null), got a Map' },
    ]);
    expect((await rejection(service.call('runs.setNotes', { id: '20260101-000000-abcd', notes: 'x'.repeat(2 * 1024 * 1024) }))).problems).toEqual([
      { path: '(params)', message: 'over the limit of 1048576 bytes of one request' },
    ]);
  });

  it('over the desktop transport (structured clone on a MessageChannel), the same answers reach the client', async () => {
    const channel = new MessageChannel();
    const served = servePort(nodePortEndpoint(channel.port1), service);
    const client = connectPort(nodePortEndpoint(channel.port2));
    try {
      // 40 levels clone fine (V8's serialiser recurses, so 20,000 would already fail in the sender).
      const deep = await client.request('config.validate', { input: { task: nested(40) }, preset: 'quick' });
      expect(deep).toEqual({
        ok: false,
        error: {
          message: expect.stringMatching(/^Invalid params for config.validate: input\.task\.a.* nested deeper than 32 levels/),
          problems: [{ path: `input.task.${Array(29).fill('a').join('.')}`, message: expect.stringMatching(/nested deeper than 32 levels/) }],
        },
      });
      const { id } = await service.call('runs.start', { input: {}, preset: 'quick', name: 'kept' });
      expect(await client.request('runs.rename', { id, name: ' ' })).toMatchObject({ ok: false, error: { problems: [{ path: 'name' }] } });
      expect(await client.request('runs.rename', { id, name: 'renamed' })).toEqual({ ok: true, result: { id } });
    } finally {
      client.close();
      served.close();
      channel.port1.close();
      channel.port2.close();
    }
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
