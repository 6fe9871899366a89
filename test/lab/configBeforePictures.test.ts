/**
 * A store made before eval.pictures existed: its runs' configs have no pictures, and their config
 * hashes were taken without them. The fixture is the `quick` preset's resolved config as the code
 * before the field wrote it to a run's config.json (commit 37e5efa^). The Paper page plans from
 * the same experiment must find that run by its hash, and the config must resolve to itself;
 * pictures other than the default stay in the config (and so in its hash).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchRun } from '../../main/lab/paper/runMatching.ts';
import { planPaper } from '../../main/lab/paper/plan.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { picturesOf, resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../shared/config.ts';

const before = JSON.parse(readFileSync(new URL('../fixtures/quickConfigBeforePictures.json', import.meta.url), 'utf8')) as ResolvedExperiment;
/** The hash the store of that time recorded for it. */
const hashBefore = '2f67265d65132c8f6d5b008915a8a640d25a66b52cbd32d871d3046e11dc1fae';

const dir = mkdtempSync(join(tmpdir(), 'lab-before-pictures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a config made before eval.pictures', () => {
  it('resolves to itself, so it keeps its hash', () => {
    expect(configHash(before)).toBe(hashBefore);
    expect(resolveExperiment(before)).toEqual(before);
    expect(configHash(resolveExperiment(before))).toBe(hashBefore);
    // Read where a resolved config leaves it out: the defaults.
    expect(picturesOf(before.eval)).toEqual({ count: 8, indices: [] });
  });

  it('is the run the Paper page plans for that experiment, found in the store by its hash', () => {
    const input = before as unknown as ExperimentInput;
    const main = planPaper({ preset: 'quick', presetConfig: input, input, seeds: 1, ranks: [1], dimensions: [] }).runs.find((r) => r.key === 'main')!;
    expect(main.configHash).toBe(hashBefore);
    const store = RunStore.open(dir);
    try {
      const run = store.createRun({ input: {}, config: before, configHash: hashBefore, codeVersion: codeVersion(), preset: 'quick' });
      expect(matchRun(store, main).active?.id).toBe(run.id);
    } finally {
      store.close();
    }
  });

  it('keeps pictures other than the default, and they change the hash', () => {
    const four = resolveExperiment({ ...before, eval: { ...before.eval, pictures: { count: 4 } } });
    expect(four.eval.pictures).toEqual({ count: 4, indices: [] });
    const chosen = resolveExperiment({ ...before, eval: { ...before.eval, pictures: { indices: [3, 14] } } });
    expect(picturesOf(chosen.eval)).toEqual({ count: 8, indices: [3, 14] });
    expect(new Set([configHash(four), configHash(chosen), hashBefore]).size).toBe(3);
  });
});
