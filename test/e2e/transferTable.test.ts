/**
 * Issue 15, item 4: the run view shows a fine-tuning run's transfer table, in Debian's Chromium
 * against the real server: the attack and radius in its caption, and the four accuracies of
 * summary.transfer, rows crafted on, columns evaluated on. A screenshot of it is taken when PURIFICATION_LAB_SHOTS names a folder.
 *
 * Skipped, saying why, when /usr/bin/chromium is missing; in CI (CI=true) that fails instead.
 */
import { describe, expect, it } from 'vitest';
import { chromiumBrowser } from './support/browser.ts';
import { eventually } from './support/eventually.ts';
import { labCall, waitForRun } from './support/labCall.ts';
import { shootAsIs } from './support/screenshots.ts';
import { workbenchSession } from './support/session.ts';

describe.skipIf(chromiumBrowser.skip)('the transfer table in the run view', () => {
  const session = workbenchSession();

  it('shows the four transfer accuracies of a fine-tuning run beside its summary', async () => {
    const { server, page } = session;
    const input = {
      task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
      model: { kind: 'two-layer', width: 16, threshold: { ratio: 0.1 } },
      train: { cleanEpochs: 3, adversarialEpochs: 2 },
      eval: { testSize: 200, every: 0 },
    } as const;
    const { id } = await labCall(server, 'runs.start', { input });
    expect(await waitForRun(server, id, 240_000)).toBe('finished');
    const transfer = (await labCall(server, 'runs.get', { id })).result!.summary.transfer!;
    expect(transfer.models).toEqual(['after clean', 'after fine-tuning']);
    await page.goto(`${server.url}#/runs/${id}`);
    const table = page.getByTestId('transfer-table');
    await eventually(() => table.count()).toBe(1);
    const text = (await table.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain(`Transfer attacks: ${transfer.attack} at l2 ε ${transfer.eps}`);
    // Each cell, row s (crafted on) and column t (evaluated on): the estimate and its interval.
    for (const [s, row] of transfer.accuracy.entries()) {
      for (const [t, a] of row.entries()) {
        const cell = (await table.locator('tbody tr').nth(s).locator('td').nth(t).innerText()).replace(/\s+/g, '');
        expect(cell).toBe(`${a.estimate.toFixed(3)}[${a.lower.toFixed(3)},${a.upper.toFixed(3)}]`);
      }
    }
    session.shots.push(...(await shootAsIs(table, 'transfer-table')));

    // The same run's adversarial perturbations in dictionary coordinates (issue 15, item 3): one
    // point per atom (d = 24), for the mean over the recorded samples and for one of them.
    const pictures = (await labCall(server, 'runs.get', { id })).result!.adversarial!;
    expect(pictures.models.map((m) => m.label)).toEqual(['after clean', 'after fine-tuning']);
    const chart = page.getByTestId('adversarial-coefficients');
    await eventually(() => chart.getAttribute('data-points')).toBe('24');
    expect((await chart.innerText()).replace(/\s+/g, ' ')).toContain(`median cosines with Mᵀu and with the sample's own features y·Mᵀx over the ${pictures.indices.length} samples`);
    const sample = chart.getByTestId('adversarial-sample');
    expect(await sample.locator('option').allInnerTexts()).toEqual([`mean over ${pictures.indices.length} samples`, ...pictures.indices.map((index, i) => `sample #${index} (y = ${pictures.labels[i]! > 0 ? '+1' : '−1'})`)]);
    await sample.selectOption({ index: 1 });
    await eventually(() => chart.getAttribute('data-points')).toBe('24');
    session.shots.push(...(await shootAsIs(chart, 'adversarial-coefficients')));
  }, 600_000);
});
