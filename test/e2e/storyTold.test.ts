/**
 * Issue 17 in a browser (Debian's Chromium, the real browser-mode server on a fresh store):
 * - the setup form: problems in plain words at the field, a bad eps grid on its own field, the
 *   error summary's links, no command line while invalid, one edit = one change with a reset, the
 *   draft across a reload, fields that do not apply hidden, image radii as fractions of 255;
 * - progress: Ctrl+Enter starts a run from a field, the top bar shows it, the wall time advances
 *   and the time left counts down while it trains;
 * - compare: two runs set up at different ε read at one picked radius from their curves, a run
 *   without a measurement there says so, every robust figure carries its setting, the CSV has the
 *   run id, metric, ε and interval columns.
 * Screenshots of the form with errors, the run header while training and the comparison, in both
 * themes, go to PURIFICATION_LAB_SHOTS for a person to look at.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumBrowser } from './support/browser.ts';
import { labCall, waitForRun } from './support/labCall.ts';
import { shootBothThemes } from './support/screenshots.ts';
import { workbenchSession } from './support/session.ts';
import { eventually } from './support/eventually.ts';
import { field } from './support/setupForm.ts';

const fieldBox = (page: Page, path: string) => page.locator(`.field[data-path="${path}"]`);
/** "1.2 s", "14 s", "2 min" as seconds. */
const seconds = (text: string | null): number => {
  const m = /([\d.]+)\s*(s|min|h)/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'min' ? 60 : m[2] === 'h' ? 3600 : 1);
};

describe.skipIf(chromiumBrowser.skip)('issue 17: the story told right', () => {
  const session = workbenchSession();

  it('helps with the form: plain words at the field, a linked summary, no command line while invalid', async () => {
    const { server, page, shots } = session;
    await page.goto(`${server.url}#/setup`);
    await page.locator('[data-preset="flagship"]').click();
    await field(page, 'seed').fill('-1');
    await eventually(() => fieldBox(page, 'seed').locator('.problem').textContent()).toBe('at least 0');
    await field(page, 'seed').fill('1.5');
    await eventually(() => fieldBox(page, 'seed').locator('.problem').textContent()).toBe('a whole number, at least 0');
    await field(page, 'eval.epsGrid').fill('0, x, 0.3');
    await eventually(() => fieldBox(page, 'eval.epsGrid').locator('.problem').textContent()).toBe('2nd value (x): a number');
    expect(await field(page, 'eval.epsGrid').getAttribute('aria-invalid')).toBe('true');
    // The summary links each problem to its field; following a link puts the focus there.
    const summary = page.getByTestId('problem-summary');
    await eventually(() => summary.locator('li').count()).toBe(2);
    await summary.locator('a[data-path="eval.epsGrid"]').click();
    await eventually(() => field(page, 'eval.epsGrid').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    // No command line to copy while the form is invalid, and Start is off.
    expect(await page.getByTestId('cli-command').count()).toBe(0);
    expect(await page.getByTestId('cli-unavailable').isVisible()).toBe(true);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    shots.push(...(await shootBothThemes(page, 'issue17-setup-errors')));
  }, 180_000);

  it('counts one edit as one change, marks it, resets it, and keeps the draft across a reload', async () => {
    const { page } = session;
    await page.locator('[data-preset="flagship"]').click();
    await eventually(() => page.locator('.changes').textContent()).toMatch(/No changes to the preset/);
    await field(page, 'train.attack.eps').fill('0.1');
    await eventually(() => page.getByTestId('changed-count').textContent()).toBe('1 field changed');
    expect(await fieldBox(page, 'train.attack.eps').getAttribute('data-changed')).toBe('true');
    await eventually(() => page.getByTestId('cli-command').textContent()).toBe('npm run lab -- run --preset flagship --set train.attack.eps=0.1');
    await fieldBox(page, 'train.attack.eps').getByRole('button', { name: /Reset radius ε/ }).click();
    await eventually(() => page.locator('.changes').textContent()).toMatch(/No changes to the preset/);
    expect(await field(page, 'train.attack.eps').inputValue()).toBe('0.3');

    // The draft survives a reload.
    await page.locator('[data-preset="quick"]').click();
    await field(page, 'train.cleanEpochs').fill('12');
    await page.locator('#run-name').fill('kept across a reload');
    await eventually(() => page.getByTestId('changed-count').textContent()).toBe('1 field changed');
    await page.reload();
    await eventually(() => field(page, 'train.cleanEpochs').inputValue()).toBe('12');
    expect(await page.locator('[data-preset="quick"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#run-name').inputValue()).toBe('kept across a reload');
  }, 120_000);

  it('hides fields that do not apply and shows image radii as fractions of 255', async () => {
    const { page } = session;
    await page.locator('[data-preset="flagship"]').click();
    // SGD: no Adam moments; relative thresholds: no value b.
    await eventually(() => field(page, 'train.optimizer.momentum').count()).toBe(1);
    expect(await field(page, 'train.optimizer.beta1').count()).toBe(0);
    expect(await field(page, 'model.threshold.value').count()).toBe(0);
    await field(page, 'train.optimizer.kind').selectOption('adam');
    await eventually(() => field(page, 'train.optimizer.beta1').count()).toBe(1);
    expect(await field(page, 'train.optimizer.momentum').count()).toBe(0);
    await field(page, 'model.threshold.mode').selectOption('fixed');
    await eventually(() => field(page, 'model.threshold.value').count()).toBe(1);
    expect(await field(page, 'model.threshold.ratio').count()).toBe(0);

    await page.locator('[data-preset="cifar-cnn"]').click();
    await eventually(() => field(page, 'train.attack.eps').inputValue()).toBe('2/255');
    expect(await field(page, 'eval.epsGrid').inputValue()).toBe('0, 1/255, 2/255, 4/255, 8/255');
    // A fraction can be typed, and reads as the number it is.
    await field(page, 'train.attack.eps').fill('4/255');
    await eventually(() => page.getByTestId('changed-count').textContent()).toBe('1 field changed');
    expect(await fieldBox(page, 'train.attack.eps').locator('.problem').count()).toBe(0);
  }, 120_000);

  it('starts with Ctrl+Enter from a field; the top bar, the wall time and the time left follow the run', async () => {
    const { server, page, shots } = session;
    await page.goto(`${server.url}#/setup`);
    await page.locator('[data-preset="quick"]').click();
    // Long enough to be watched on two loaded cores; it is cancelled once seen.
    await field(page, 'train.cleanEpochs').fill('800');
    await page.locator('#run-name').fill('e2e progress');
    await eventually(() => page.getByTestId('config-status').textContent(), 60_000).toBe('Valid.');
    await field(page, 'train.cleanEpochs').focus();
    await page.keyboard.press('Control+Enter');
    await page.waitForURL(/#\/runs\/[0-9a-z-]+$/, { timeout: 30_000 });
    const id = decodeURIComponent(page.url().split('#/runs/')[1]!);
    try {
      // The top bar names the running job, never "no jobs running".
      const jobs = page.getByTestId('jobs');
      await eventually(() => jobs.locator('a.job').count(), 60_000).toBe(1);
      expect(await jobs.textContent()).not.toContain('no jobs running');
      // Named as soon as the list has read its record (the stream's progress may come first).
      await eventually(() => jobs.textContent()).toContain('e2e progress');
      // The wall time advances while it trains, and the time left counts down.
      const wall = page.getByTestId('wall-time');
      await eventually(async () => seconds(await wall.textContent()), 60_000).toBeGreaterThan(0);
      const first = seconds(await wall.textContent());
      await eventually(async () => seconds(await wall.textContent()), 60_000).toBeGreaterThanOrEqual(first + 1);
      const eta = page.getByTestId('eta');
      await eventually(async () => seconds(await eta.textContent()), 60_000).toBeGreaterThan(0);
      const left = seconds(await eta.textContent());
      await eventually(async () => seconds(await eta.textContent()), 60_000).toBeLessThan(left);
      shots.push(...(await shootBothThemes(page, 'issue17-run-header-training')));
    } finally {
      await labCall(server, 'runs.cancel', { id });
      await waitForRun(server, id, 120_000);
    }
    await eventually(() => page.getByTestId('jobs').textContent(), 30_000).toContain('no jobs running');
  }, 300_000);

  it('compares runs set up at different ε at one radius, and says where a run has none', async () => {
    const { server, page, shots } = session;
    // Run A evaluates at ε 0.1 on a grid up to 0.2; run B at ε 0.3 on the default grid.
    const short = { train: { cleanEpochs: 6, adversarialEpochs: 3 } };
    const a = await labCall(server, 'runs.start', { preset: 'quick', name: 'A at 0.1', input: { ...short, eval: { eps: 0.1, epsGrid: [0, 0.1, 0.2] } } });
    const b = await labCall(server, 'runs.start', { preset: 'quick', name: 'B at 0.3', input: short });
    expect(await waitForRun(server, a.id, 240_000)).toBe('finished');
    expect(await waitForRun(server, b.id, 240_000)).toBe('finished');
    const finalOf = async (id: string) => (await labCall(server, 'runs.get', { id })).result!.evaluations!.find((e) => e.label === 'final')!;
    const [evalA, evalB] = [await finalOf(a.id), await finalOf(b.id)];

    // The runs list: every robust figure with its radius, norm and attack.
    await page.goto(`${server.url}#/runs`);
    const cellOf = (id: string) => page.locator(`tr[data-run-id="${id}"] [data-testid="robust-cell"]`);
    await eventually(() => cellOf(a.id).textContent()).toMatch(/^\s*0\.\d{3} @ l2 0\.1, PGD-20\s*$/);
    // Each row fills in when the list hears its run finished: wait on each, not on the first.
    await eventually(() => cellOf(b.id).textContent()).toMatch(/^\s*0\.\d{3} @ l2 0\.3, PGD-20\s*$/);

    await page.goto(`${server.url}#/compare?runs=${a.id},${b.id}`);
    const table = page.getByTestId('at-eps');
    // It starts at the larger of the runs' own radii that both measured: A's 0.1 (A has no 0.3).
    await eventually(() => table.getByTestId('at-eps-picker').inputValue()).toBe('0.1');
    const row = (id: string) => table.locator(`tr[data-run-id="${id}"]`);
    const at = (e: typeof evalA, eps: number) => e.worstCase.accuracy[e.worstCase.eps.indexOf(eps)]!.estimate.toFixed(3);
    expect(await row(a.id).locator('td').nth(1).textContent()).toContain(at(evalA, 0.1));
    expect(await row(b.id).locator('td').nth(1).textContent()).toContain(at(evalB, 0.1));
    await table.getByTestId('at-eps-picker').selectOption('0.2');
    await eventually(() => row(a.id).locator('td').nth(1).textContent()).toContain(at(evalA, 0.2));
    expect(await row(b.id).locator('td').nth(1).textContent()).toContain(at(evalB, 0.2));
    // At 0.3, run A has no measurement: the cell says so, with its grid; B's value is read from its curve.
    await table.getByTestId('at-eps-picker').selectOption('0.3');
    await eventually(() => row(a.id).textContent()).toContain('not measured at ε 0.3 (its grid: 0, 0.1, 0.2)');
    expect(await row(b.id).locator('td').nth(1).textContent()).toContain(at(evalB, 0.3));
    // The summary names each run's own setting beside its robust figures.
    const summary = page.locator('.summary-table').last();
    expect(await summary.textContent()).toContain('@ l2 0.1, PGD-20');
    expect(await summary.textContent()).toContain('@ l2 0.3, PGD-20');
    shots.push(...(await shootBothThemes(page, 'issue17-compare-two-eps')));

    // The comparison's CSV: run id, metric, ε and interval columns, the curves' radii included.
    const accuracy = page.locator('section.chart-panel', { has: page.getByRole('heading', { name: 'Accuracy over training', exact: true }) });
    await accuracy.locator('summary', { hasText: 'Export' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), accuracy.locator('button[data-format="csv"]').click()]);
    const lines = readFileSync(await download.path(), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('run_id,run_name,global_epoch,phase,metric,attack,norm,eps,value,lower,upper');
    expect(lines.some((l) => l.startsWith(`${b.id},B at 0.3,`) && l.includes(',evaluation:final,robust_accuracy,worst case,l2,0.3,'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${a.id},A at 0.1,`) && l.includes(',robust_accuracy,PGD-20,l2,0.1,'))).toBe(true);
    // PNG at a paper width.
    await accuracy.locator('summary', { hasText: 'Export' }).click();
    const [png] = await Promise.all([page.waitForEvent('download'), accuracy.locator('button[data-format="png-page"]').click()]);
    const bytes = readFileSync(await png.path());
    expect(bytes.readUInt32BE(16)).toBe(2100); // the PNG header's width
  }, 600_000);
});
