/**
 * Screenshots of every view, light and dark, for a person to look at (never committed). They are
 * taken only when PURIFICATION_LAB_SHOTS names a folder (`PURIFICATION_LAB_SHOTS=/tmp/shots npx
 * vitest run test/e2e`): each costs seconds of settling, and nothing asserts on a picture, so the
 * plain suite switches the themes (both must render) and leaves the photographs out.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** The folder the screenshots go to, or undefined when none are wanted. */
export const shotsDir: string | undefined = process.env.PURIFICATION_LAB_SHOTS || undefined;

/** Set the theme the way a user does (the toggle), so the choice is also persisted. */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const current = await page.evaluate(`document.documentElement.dataset.theme`);
  if (current !== theme) await page.getByRole('button', { name: /Switch to the (dark|light) theme/ }).click();
  // Polled from the test's side: a string predicate in the page would be an eval, which the CSP forbids.
  await expect.poll(() => page.locator('html').getAttribute('data-theme'), { timeout: 15_000, interval: 100 }).toBe(theme);
}

/** The view in both themes, full page, after the charts have settled (the themes only, without PURIFICATION_LAB_SHOTS). */
export async function shootBothThemes(page: Page, name: string): Promise<string[]> {
  if (shotsDir === undefined) {
    for (const theme of ['light', 'dark'] as const) await setTheme(page, theme);
    return [];
  }
  mkdirSync(shotsDir, { recursive: true });
  const files: string[] = [];
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    // The window is made as tall as the page before waiting, rather than letting a full-page
    // screenshot resize it at the last moment: a resize makes every chart repaint, and ECharts 6
    // paints heatmap cells progressively (15 ms per frame), so the picture would catch them half done.
    const height = (await page.evaluate(`document.documentElement.scrollHeight`)) as number;
    await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, Math.min(height, 8000)) });
    await page.waitForTimeout(4000);
    const file = join(shotsDir, `${name}-${theme}.png`);
    await page.screenshot({ path: file });
    files.push(file);
  }
  await page.setViewportSize(viewport);
  return files;
}

/** A page or one element as it is now, in the current theme only (nothing without PURIFICATION_LAB_SHOTS). */
export async function shootAsIs(view: Pick<Page | Locator, 'screenshot'>, name: string): Promise<string[]> {
  if (shotsDir === undefined) return [];
  mkdirSync(shotsDir, { recursive: true });
  const file = join(shotsDir, `${name}.png`);
  await view.screenshot({ path: file });
  return [file];
}
