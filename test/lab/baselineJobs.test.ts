/**
 * The Paper page's baseline sets train as many at once as the job queue runs runs (read as each
 * set ends, so a change in the header applies to the next one), each to the cache.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveExperiment, sparseCodingOnly } from '../../shared/config.ts';
import { BaselineJobs } from '../../main/lab/baselineJobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { BaselineCache } from '../../main/lab/store/baselineCache.ts';

const config = (seed: number) => sparseCodingOnly(resolveExperiment({ seed, task: { kind: 'sparse-coding', d: 16, k: 2, trainSize: 100 }, model: { kind: 'two-layer', width: 8 } }), 'test');

describe('baseline sets at once', () => {
  it('train up to the jobs setting at once, the next starting as one ends, and follow a change of the setting', async () => {
    const cache = new BaselineCache(mkdtempSync(join(tmpdir(), 'lab-baseline-jobs-')));
    let jobs = 2;
    const training: { seed: number; finish: () => void }[] = [];
    const started: number[] = [];
    const baselines = new BaselineJobs(
      cache,
      (c) =>
        new Promise((resolve) => {
          started.push(c.seed);
          training.push({ seed: c.seed, finish: () => resolve([]) });
        }),
      () => jobs,
    );
    for (const seed of [0, 1, 2, 3]) expect(baselines.request(config(seed))).toBe(true);
    expect(started).toEqual([0, 1]);
    expect(baselines.state(configHash(config(2)))?.status).toBe('queued');

    const end = async (seed: number) => {
      training.splice(training.findIndex((t) => t.seed === seed), 1)[0]!.finish();
      await new Promise((resolve) => setImmediate(resolve));
    };
    await end(0);
    expect(started).toEqual([0, 1, 2]);
    jobs = 1; // lowered: the two training finish, the last waits for both
    await end(1);
    expect(started).toEqual([0, 1, 2]);
    await end(2);
    expect(started).toEqual([0, 1, 2, 3]);
    await end(3);
    await baselines.idle();
    for (const seed of [0, 1, 2, 3]) expect(cache.has(configHash(config(seed)), codeVersion())).toBe(true);
  });
});
