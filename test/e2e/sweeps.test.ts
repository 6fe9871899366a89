/**
 * Issue 16 in the UI, browser mode in Debian's Chromium against the real server: the setup
 * form's sweep section writes a Slurm job array (the script shown, with a copy button), and a
 * sweep run here appears in the runs list's sweep view with each grid point's mean ± std over
 * its seeds, equal to the runs' own final numbers. The section also writes the job folder itself
 * and submits it, to stand-in sbatch and squeue commands on the server's PATH (no cluster here:
 * the job is accepted and its tasks stay pending), and the status view shows every member queued.
 * Run here, a sweep's members compute as one stack by default; the form's toggle runs each alone.
 *
 * Skipped, saying why, when /usr/bin/chromium is missing; in CI (CI=true) that fails instead.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanStd } from '../../shared/aggregate.ts';
import { chromiumBrowser } from './support/browser.ts';
import { labCall, waitForRun } from './support/labCall.ts';
import { eventually } from './support/eventually.ts';
import { shootAsIs, shootBothThemes } from './support/screenshots.ts';
import { field } from './support/setupForm.ts';
import { workbenchSession } from './support/session.ts';

function mkdirBin(name: string, body: string) {
  const bin = join(standIns, 'bin');
  if (!existsSync(bin)) mkdirSync(bin);
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

const shrunk = { task: { d: 16, trainSize: 400 }, model: { width: 16 }, train: { cleanEpochs: 2, adversarialEpochs: 1 }, eval: { testSize: 200, noiseDraws: 1 } };
/** The same sizes as the setup form's fields take them. */
const shrunkFields = { 'task.d': '16', 'task.trainSize': '400', 'model.width': '16', 'train.cleanEpochs': '2', 'train.adversarialEpochs': '1', 'eval.testSize': '200', 'eval.noiseDraws': '1' };

/** sbatch accepts job 4242; squeue lists its 4 tasks pending (the server inherits this PATH). */
const standInJob = '4242';
let standIns = '';
const originalPath = process.env.PATH;

describe.skipIf(chromiumBrowser.skip)('sweeps in browser mode', () => {
  beforeAll(() => {
    standIns = mkdtempSync(join(tmpdir(), 'purification-lab-e2e-slurm-'));
    mkdirBin('sbatch', `echo ${standInJob}`);
    mkdirBin('squeue', `for i in 0 1 2 3; do echo "${standInJob}_$i|PENDING|Priority|"; done`);
    process.env.PATH = `${join(standIns, 'bin')}${delimiter}${originalPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = originalPath;
    if (standIns) rmSync(standIns, { recursive: true, force: true });
  });
  const session = workbenchSession();

  /** The setup form's sweep over two radii and two seeds, switched to a Slurm job array. */
  async function openSlurmSweepForm(url: string, page: typeof session.page): Promise<void> {
    await page.goto(`${url}#/setup`);
    const section = page.getByTestId('sweep-section');
    await eventually(() => section.count()).toBe(1);
    await page.getByTestId('sweep-values-0').fill('0.1, 0.3');
    await page.getByTestId('sweep-seeds').fill('2');
    await section.getByRole('button', { name: 'Slurm job array', exact: true }).click();
  }

  it('writes and submits the job folder of the setup form\'s sweep, and shows its members queued', async () => {
    const { server, page } = session;
    const folder = join(standIns, 'eps-sweep');
    await openSlurmSweepForm(server.url, page);
    await page.getByTestId('sweep-slurm-folder').fill(folder);
    await page.getByTestId('sweep-submit-folder').click();
    await eventually(async () => (await page.getByTestId('sweep-written').count()) > 0 ? await page.getByTestId('sweep-written').textContent() : null).toBe(`4 members written to ${folder}, submitted as job ${standInJob}`);
    expect(existsSync(join(folder, 'members', '3.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'submissions.json'), 'utf8'))).toMatchObject([{ jobId: standInJob, tasks: '0-3' }]);
    const states = page.getByTestId('slurm-member-state');
    await eventually(async () => (await states.allTextContents()).map((t) => t.trim())).toEqual(['queued', 'queued', 'queued', 'queued']);
    expect(await page.getByTestId('slurm-member').first().textContent()).toContain('PENDING (Priority)');
    expect((await page.getByTestId('slurm-status-counts').textContent())?.replace(/\s+/g, ' ')).toContain(`4 queued · job ${standInJob}`);
    session.shots.push(...(await shootBothThemes(page, 'setup-sweep-slurm-status')));
  }, 300_000);

  it('writes the Slurm job array of the setup form\'s sweep, with the script shown', async () => {
    const { server, page } = session;
    await openSlurmSweepForm(server.url, page);
    await page.getByTestId('sweep-write-slurm').click();
    const script = page.getByTestId('sweep-script');
    await eventually(() => script.count()).toBe(1);
    const text = (await script.textContent()) ?? '';
    expect(text).toContain('#SBATCH --array=0-3\n');
    expect(text).toContain('#SBATCH --time=1:00:00\n');
    expect(text).toContain('\nmodule load nodejs/20\n');
    expect(await page.getByTestId('sweep-slurm-preview').textContent()).toContain('--grid train.attack.eps=0.1,0.3 --seeds 2 --slurm SWEEP_FOLDER');
    session.shots.push(...(await shootBothThemes(page, 'setup-sweep-slurm')));
  }, 300_000);

  it('shows a sweep run here in the runs list, mean ± std per grid point', async () => {
    const { server, page } = session;
    const started = await labCall(server, 'sweeps.start', { preset: 'quick', input: shrunk, grid: [{ path: 'train.attack.eps', values: [0.2, 0.3] }], seeds: 2 });
    for (const id of started.runIds) expect(await waitForRun(server, id, 300_000)).toBe('finished');
    const runs = await labCall(server, 'runs.list', { sweepId: started.sweepId });
    const expected = [0.2, 0.3].map((eps) => {
      const finals = runs.filter((r) => r.robust.eps === eps).map((r) => r.summary!.final);
      const show = (values: number[]) => {
        const m = meanStd(values);
        return `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}`;
      };
      return [show(finals.map((f) => f.cleanAccuracy)), show(finals.map((f) => f.robustAccuracy))];
    });
    await page.goto(`${server.url}#/runs`);
    const sweep = page.locator(`[data-sweep-id="${started.sweepId}"]`);
    await eventually(() => sweep.count()).toBe(1);
    const clean = (await sweep.getByTestId('sweep-clean').allTextContents()).map((t) => t.trim());
    const robust = (await sweep.getByTestId('sweep-robust').allTextContents()).map((t) => t.trim());
    expect(clean.map((c, i) => [c, robust[i]])).toEqual(expected);
    // Stacked by default: one job slot here, so the four members computed as one stack.
    const stacked = await Promise.all(started.runIds.map(async (id) => (await labCall(server, 'runs.get', { id })).provenance?.stacked));
    // with the hot path it computed on (the stack's kernels on wasm; test/lab/stackedSweep.test.ts pins it)
    expect(stacked).toEqual(started.runIds.map(() => ({ size: 4, runIds: started.runIds, hotPath: expect.stringMatching(/^(stacked kernels, 4 members|each member alone)$/) })));
    session.shots.push(...(await shootBothThemes(page, 'runs-sweeps')));
  }, 600_000);

  it('runs the setup form\'s sweep here with stacking off: each member alone', async () => {
    const { server, page } = session;
    await page.goto(`${server.url}#/setup`);
    await page.locator('[data-preset="quick"]').click();
    await eventually(() => page.locator('[data-preset="quick"]').getAttribute('aria-pressed'), 30_000).toBe('true');
    for (const [path, value] of Object.entries(shrunkFields)) await field(page, path).fill(value);
    await eventually(() => page.getByTestId('config-status').textContent(), 30_000).toBe('Valid.');
    const section = page.getByTestId('sweep-section');
    await section.getByRole('button', { name: 'Run here', exact: true }).click();
    await page.getByTestId('sweep-values-0').fill('0.2');
    await page.getByTestId('sweep-seeds').fill('2');
    const stack = page.getByTestId('sweep-stack');
    expect(await stack.isChecked()).toBe(true);
    expect(await page.getByTestId('sweep-stack-help').textContent()).toContain('Off: each runs alone.');
    session.shots.push(...(await shootAsIs(section, 'setup-sweep-here')));
    await stack.uncheck();
    await page.getByTestId('sweep-run-here').click();
    await page.waitForURL(/#\/runs$/, { timeout: 30_000 });
    const [sweep] = await labCall(server, 'sweeps.list', {});
    const runs = await labCall(server, 'runs.list', { sweepId: sweep!.id });
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(await waitForRun(server, r.id, 300_000)).toBe('finished');
    const details = await Promise.all(runs.map((r) => labCall(server, 'runs.get', { id: r.id })));
    expect(details.map((d) => [d.config.train.attack.eps, d.config.seed, d.config.task.kind === 'sparse-coding' && d.config.task.d]).sort()).toEqual([[0.2, 0, 16], [0.2, 1, 16]]);
    expect(details.map((d) => d.provenance?.stacked)).toEqual([undefined, undefined]);
  }, 600_000);
});
