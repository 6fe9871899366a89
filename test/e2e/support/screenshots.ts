/** Screenshots of every view, light and dark, into /tmp/shots (never committed): for a person to look at. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export const shotsDir = process.env.PURIFICATION_LAB_SHOTS ?? '/tmp/shots';

/** Set the theme the way a user does (the toggle), so the choice is also persisted. */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const current = await page.evaluate(`document.documentElement.dataset.theme`);
  if (current !== theme) await page.getByRole('button', { name: /Switch to the (dark|light) theme/ }).click();
  await page.waitForFunction(`document.documentElement.dataset.theme === ${JSON.stringify(theme)}`);
}

/** The view in both themes, full page, after the charts have settled. */
export async function shootBothThemes(page: Page, name: string): Promise<string[]> {
  mkdirSync(shotsDir, { recursive: true });
  const files: string[] = [];
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    await page.evaluate(`window.scrollTo(0, 0)`);
    // Chart animations, the 250 ms redraw throttle, and the coefficient heatmaps: ECharts 6 paints
    // heatmap cells progressively (15 ms of painting per frame), and a GPU-less headless canvas
    // needs a few seconds for 16k cells.
    await page.waitForTimeout(5000);
    const file = join(shotsDir, `${name}-${theme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  return files;
}
