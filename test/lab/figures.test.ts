/**
 * `lab figures`: the five claims as files (SVG, PNG, PDF, CSV, caption) and the one-page summary,
 * from runs it starts and then reuses from the store. Tiny sizes: this checks the plumbing; the
 * claims' directions are tested on `quick` in the engine tests (experiment, lowRank, baselines).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

describe('lab figures', () => {
  it('writes one figure per claim, the CSV behind it, a caption, and the summary page; a second call reuses the runs', () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-figures-store-'));
    const out = mkdtempSync(join(tmpdir(), 'lab-figures-'));
    const args = ['figures', '--out', out, '--seeds', '1', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, PURIFICATION_LAB_STORE: store } });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    for (const claim of ['C1-mixtures', 'C2-purification', 'C3-principle', 'C4-lower-bound', 'C5-low-rank']) {
      for (const ext of ['svg', 'png', 'pdf', 'csv', 'txt']) expect(existsSync(join(out, `${claim}.${ext}`)), `${claim}.${ext}`).toBe(true);
      expect(readFileSync(join(out, `${claim}.txt`), 'utf8')).toMatch(/1 seed, mean ± std/);
    }
    const summary = readFileSync(join(out, 'summary.html'), 'utf8');
    expect(summary.match(/<img /g)).toHaveLength(5);
    expect(readFileSync(join(out, 'C4-lower-bound.csv'), 'utf8').split('\n')[0]).toBe('model,clean_mean,clean_std,robust_mean,robust_std');
    const second = run();
    expect(first.stderr).toMatch(/figures: 6 runs \(0 reused from the store, 6 to compute\)/);
    expect(second.stderr).toMatch(/figures: 6 runs \(6 reused from the store, 0 to compute\)/);
  }, 300_000);
});
