/**
 * Kernel threads per run (issue 13 item 4): the default shares the physical cores among the jobs
 * at once; `--threads N` is checked with an error naming it; a checkpoint records its count and
 * a file with a bad one is refused, naming it; only runs whose hot path splits batches (wasm's
 * two-layer net and image MLP) record more than one; and a run resumed through the job queue
 * computes on its checkpoint's count whatever the queue's setting, which its provenance records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import { threadsOption, type CliValues } from '../../main/lab/cli/options.ts';
import { UsageError } from '../../main/lab/cli/usage.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../main/lab/store/checkpointFile.ts';
import { decodeSafetensors, encodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { checkedThreads, defaultThreads, maxThreads, parseThreads, runsOnThreads, threadsForRun } from '../../main/lab/threadCount.ts';

describe('the default threads per run', () => {
  it('is floor(physical cores / jobs at once), at least one', () => {
    expect(defaultThreads({ jobs: 1, cores: 8 })).toBe(8);
    expect(defaultThreads({ jobs: 2, cores: 8 })).toBe(4);
    expect(defaultThreads({ jobs: 3, cores: 8 })).toBe(2);
    expect(defaultThreads({ jobs: 1, cores: 2 })).toBe(2);
    expect(defaultThreads({ jobs: 2, cores: 2 })).toBe(1);
    expect(defaultThreads({ jobs: 4, cores: 2 })).toBe(1);
  });
});

describe('--threads N', () => {
  it('takes a positive integer', () => {
    expect(parseThreads('1')).toBe(1);
    expect(parseThreads('12')).toBe(12);
    expect(checkedThreads(3)).toBe(3);
  });

  it.each(['0', '-2', '1.5', 'many', '', String(maxThreads + 1)])('refuses "%s", naming the option and what it expects', (text) => {
    expect(() => parseThreads(text)).toThrow(`--threads "${text}": expected a positive integer (at most ${maxThreads})`);
  });

  it('on the CLI: unset leaves the queue\'s default; a bad value is a usage error naming --threads', () => {
    expect(threadsOption({} as CliValues)).toBeUndefined();
    expect(threadsOption({ threads: '3' } as CliValues)).toBe(3);
    expect(() => threadsOption({ threads: '0' } as CliValues)).toThrow(UsageError);
    expect(() => threadsOption({ threads: 'all' } as CliValues)).toThrow('--threads "all": expected a positive integer (at most 256)');
  });

  it('a resumed run keeps its checkpoint\'s count (1 for checkpoints older than the setting); a new run takes the setting', () => {
    expect(threadsForRun({ threads: 3 }, 1)).toBe(3);
    expect(threadsForRun({}, 4)).toBe(1);
    expect(threadsForRun(undefined, 4)).toBe(4);
  });
});

describe('which runs compute on kernel threads', () => {
  it('wasm\'s fused kernels thread the two-layer net and the image MLP; every other run records 1 thread', () => {
    const wasm = { name: 'wasm' as const, fusedKernels: true };
    expect(runsOnThreads(wasm, { kind: 'two-layer' })).toBe(true);
    expect(runsOnThreads(wasm, { kind: 'mlp' })).toBe(true);
    expect(runsOnThreads(wasm, { kind: 'cnn' })).toBe(false);
    expect(runsOnThreads({ ...wasm, fusedKernels: false }, { kind: 'mlp' })).toBe(false);
    expect(runsOnThreads({ name: 'webgpu', fusedKernels: true }, { kind: 'two-layer' })).toBe(false);
    expect(runsOnThreads({ name: 'webgpu', fusedKernels: true }, { kind: 'mlp' })).toBe(false);
  });
});

const checkpoint: EngineCheckpoint = {
  version: 1, phaseIndex: 0, epochInPhase: 1, globalEpoch: 1, steps: 10, trainSeconds: 0.5,
  rng: { shuffle: { words: [1, 2, 3, 4], spareNormal: null }, attack: { words: [5, 6, 7, 8], spareNormal: null }, eval: { words: [9, 10, 11, 12], spareNormal: 0.5 } },
  W: new Float32Array([1, 2]), b: null, W0: new Float32Array([0, 1]), Wclean: null, bClean: null,
  optimizer: { t: 10, tensors: {} }, afterClean: null, threads: 3,
};

describe('a checkpoint file', () => {
  it('records the thread count', () => {
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint), 'c.safetensors').threads).toBe(3);
  });

  it('reads an older file without one as one thread, and refuses a bad one, naming the file and the field', () => {
    const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(checkpoint), 'c');
    const withThreads = (value: unknown) => {
      const state = JSON.parse(metadata.checkpoint!) as Record<string, unknown>;
      if (value === undefined) delete state.threads;
      else state.threads = value;
      return encodeSafetensors(tensors, { checkpoint: JSON.stringify(state) });
    };
    expect(decodeCheckpoint(withThreads(undefined), 'old.safetensors').threads).toBe(1);
    for (const bad of [0, 2.5, '2']) {
      expect(() => decodeCheckpoint(withThreads(bad), 'bad.safetensors')).toThrow(FileFormatError);
      expect(() => decodeCheckpoint(withThreads(bad), 'bad.safetensors')).toThrow(`the checkpoint's threads is ${JSON.stringify(bad)}: expected a positive integer`);
    }
  });
});

describe('the job queue', () => {
  it('runs on its thread setting, records it, and resumes a run on its checkpoint\'s count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-threads-'));
    const store = RunStore.open(dir);
    try {
      const input: ExperimentInput = {
        task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 300 },
        model: { kind: 'two-layer', width: 16 },
        train: { cleanEpochs: 2, adversarialEpochs: 1 },
        eval: { testSize: 100, every: 2 },
      };
      const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 1, threads: 2 });
      const run = queue.submit({ input, config: resolveExperiment(input) });
      queue.subscribe((u) => {
        if (u.kind === 'event' && u.event.type === 'metrics' && u.event.globalEpoch === 1) queue.cancel(run.id);
      });
      await queue.idle();
      // The throughput behind the setup form's estimate is measured on the same threads as the runs.
      const measured = await queue.measureThroughput(5);
      expect(measured.threads).toBe(2);
      expect(measured.trainPerSecond).toBeGreaterThan(0);
      await queue.shutdown();
      expect(store.get(run.id)).toMatchObject({ status: 'cancelled', checkpointEpoch: 1 });
      expect(store.get(run.id).backend?.threads).toBe(2);
      expect(store.get(run.id).provenance).toMatchObject({ backend: { threads: 2 } });
      expect(store.readCheckpoint(run.id).threads).toBe(2);

      const oneThread = new JobQueue(store, { backend: 'wasm', threads: 1 });
      expect(oneThread.threads).toBe(1);
      oneThread.resume(run.id);
      await oneThread.idle();
      await oneThread.shutdown();
      const resumed = store.get(run.id);
      expect(resumed.status).toBe('finished');
      expect(resumed.backend?.threads).toBe(2);
      expect(resumed.provenance).toMatchObject({ backend: { threads: 2 } });
      const started = store.events(run.id).filter((e) => e.type === 'run-started');
      expect(started.map((e) => e.type === 'run-started' && e.backend.threads)).toEqual(started.map(() => 2));
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('\'auto\' shares the physical cores among the jobs at once, and follows a change of jobs', async () => {
    const { physicalCores } = await import('../../main/lab/jobCount.ts');
    const dir = mkdtempSync(join(tmpdir(), 'lab-threads-'));
    const store = RunStore.open(dir);
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 1, threads: 'auto' });
    expect(queue.threads).toBe(physicalCores());
    queue.setConcurrency(2);
    expect(queue.threads).toBe(Math.max(1, Math.floor(physicalCores() / 2)));
    expect(new JobQueue(store, { backend: 'wasm' }).threads).toBe(1);
    expect(() => new JobQueue(store, { backend: 'wasm', threads: 0 })).toThrow('threads 0: expected a positive integer');
    await queue.shutdown();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
