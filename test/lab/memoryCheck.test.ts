/**
 * Issue 11, items 8 and 9: a run that cannot fit in memory is refused before it starts, naming
 * the fields that make it big (the API's config.validate and runs.start, the CLI's run and
 * sweep); `__proto__` in an API input is refused by name, not dropped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { ConfigError, resolveExperiment } from '../../shared/config.ts';
import { presetByName } from '../../shared/presets.ts';
import { memoryEstimate } from '../../shared/memoryEstimate.ts';
import type { BackendInfo } from '../../shared/events.ts';
import type { JobRequest, JobUpdate } from '../../main/lab/jobs.ts';
import { availableMemory, checkRunFits } from '../../main/lab/memoryCheck.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { LabService, type JobControl } from '../../main/lab/service.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { labInProcess } from '../support/labCli.ts';

/** Every size at its bound: 10^6 training and 10^6 test samples of d = 8192 alone are 131 GB; about 208 GB in all. */
const huge = { task: { kind: 'sparse-coding', d: 8192, trainSize: 1_000_000 }, model: { kind: 'two-layer', width: 65536 }, eval: { testSize: 1_000_000 } };
const hugeSets = ['--set', 'task.d=8192', '--set', 'task.trainSize=1000000', '--set', 'eval.testSize=1000000', '--set', 'model.width=65536'];

describe('the memory estimate', () => {
  it('adds up its parts by hand for the quick preset', () => {
    // d = m = 64, 4000 training and 1000 test samples, 6 radii (the grid holds eval.eps = 0.3), batches of 100.
    const estimate = memoryEstimate(resolveExperiment(presetByName('quick').config));
    const parts = Object.fromEntries(estimate.parts.map((p) => [p.what.split(' (')[0]!, p.bytes]));
    expect(parts).toEqual({
      'the training set': 2 * 4000 * 65 * 4,
      'the test set': 2 * 1000 * 65 * 4,
      'the parameters, their gradients, optimiser state and snapshots': 10 * 64 * 64 * 4,
      'a training step': 4 * 100 * (64 + 64) * 4,
      'an evaluation attack': 4 * 6000 * (64 + 64) * 4,
      "the update spectrum": 2 * 64 * 64 * 8,
    });
    expect(estimate.bytes).toBe(15_322_176);
    expect(estimate.parts[0]!.what).toMatch(/^an evaluation attack/);
  });

  it('a run over the free memory is refused, naming the fields of its largest part', () => {
    const config = resolveExperiment({ task: { kind: 'sparse-coding', d: 8192, trainSize: 1_000_000 } });
    let error: unknown = null;
    try {
      checkRunFits(config, 8e9);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const refused = error as ConfigError;
    expect(refused.problems.map((p) => p.path)).toEqual(['task.trainSize', 'task.d']);
    expect(refused.problems[0]!.message).toBe(
      '1000000: the run needs about 67.3 GB of memory, more than the 8.0 GB free; the training set (host and tensor copies) alone take 65.5 GB',
    );
    expect(refused.message).toMatch(/^Invalid config: the run needs about 67\.3 GB of memory, more than the 8\.0 GB free\. Shrink what makes it big:\n {2}the training set/);
    expect(() => checkRunFits(config, 68e9)).not.toThrow();
    expect(availableMemory()).toBeGreaterThan(0);
  });
});

const backend: BackendInfo = { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: true };

class RecordingQueue implements JobControl {
  readonly submitted: JobRequest[] = [];
  readonly active: string[] = [];
  constructor(private readonly store: RunStore) {}
  subscribe(listener: (u: JobUpdate) => void) {
    void listener;
    return () => undefined;
  }
  submit(request: JobRequest) {
    this.submitted.push(request);
    return this.store.createRun({ ...request, configHash: configHash(request.config), codeVersion: codeVersion() });
  }
  resume(id: string) {
    return this.store.get(id);
  }
  cancel() {
    return true;
  }
  backendInfo() {
    return Promise.resolve(backend);
  }
}

describe('the API', () => {
  let store: RunStore;
  let queue: RecordingQueue;
  let service: LabService;
  beforeEach(() => {
    store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-memory-')));
    queue = new RecordingQueue(store);
    service = new LabService(store, queue, { measureThroughput: false });
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  it('config.validate and runs.start refuse a run that cannot fit, naming the sizes that make it big', async () => {
    const check = await service.call('config.validate', { input: huge });
    expect(check.ok).toBe(false);
    expect(check.problems.map((p) => p.path)).toEqual(['task.trainSize', 'task.d', 'eval.testSize']);
    expect(check.problems[0]!.message).toMatch(/^1000000: the run needs about 208\.5 GB of memory, more than the .* free; the training set \(host and tensor copies\) alone take 65\.5 GB$/);
    const start = await service.call('runs.start', { input: huge }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(start).toBeInstanceOf(ApiError);
    expect((start as ApiError).problems.map((p) => p.path)).toEqual(['task.trainSize', 'task.d', 'eval.testSize']);
    expect(queue.submitted).toHaveLength(0);
  });

  it('runs.start with task.noise 2^53 is refused naming task.noise (it was accepted, and the run hung the server)', async () => {
    const start = await service.call('runs.start', { input: { task: { noise: 9007199254740992 } }, preset: 'quick' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(start).toBeInstanceOf(ApiError);
    expect((start as ApiError).problems).toEqual([{ path: 'task.noise', message: '9007199254740992: expected at most 10' }]);
    expect(queue.submitted).toHaveLength(0);
  });

  it('__proto__ in an API input is refused by name, not dropped (config.validate and runs.start)', async () => {
    const input = JSON.parse('{"train": {"__proto__": {"cleanEpochs": 1}}}') as Record<string, unknown>;
    const check = await service.call('config.validate', { input, preset: 'quick' });
    expect(check).toMatchObject({ ok: false, problems: [{ path: 'train.__proto__', message: expect.stringMatching(/^unknown field/) }] });
    const start = await service.call('runs.start', { input: JSON.parse('{"__proto__": {"seed": 5}}') as Record<string, unknown> }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(start).toBeInstanceOf(ApiError);
    expect((start as ApiError).problems).toEqual([{ path: '__proto__', message: expect.stringMatching(/^unknown field/) }]);
    expect(queue.submitted).toHaveLength(0);
  });
});

describe('the CLI', () => {
  // In-process: refused at once with the check, before any worker starts allocating 200 GB.
  const lab = (args: string[]) => labInProcess(args, mkdtempSync(join(tmpdir(), 'lab-memory-cli-')));

  it('run and sweep refuse a run that cannot fit before starting anything, with exit code 2', async () => {
    const run = await lab(['run', ...hugeSets]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/the run needs about 208\.5 GB of memory, more than the .* free\. Shrink what makes it big:\n {2}the training set \(host and tensor copies\): 65\.5 GB, from task\.trainSize = 1000000, task\.d = 8192\n/);
    expect(run.stdout).not.toMatch(/^backend:/m);
    const sweep = await lab(['sweep', '--grid', 'task.trainSize=1000000,100', ...hugeSets.slice(0, 2), ...hugeSets.slice(4)]);
    expect(sweep.code, sweep.stderr).toBe(2);
    expect(sweep.stderr).toMatch(/Invalid sweep member \{"task.trainSize":1000000\} seed 0: the run needs about 208\.5 GB/);
  });

  it('run --config refuses a __proto__ key by name (the merge over the preset dropped it)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lab-proto-')), 'config.json');
    writeFileSync(file, '{"train": {"__proto__": {"cleanEpochs": 1}}}');
    const run = await lab(['run', '--preset', 'quick', '--config', file]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/train\.__proto__ = unknown field \(not part of the schema; "__proto__" would set an object's prototype\)/);
  });
});
