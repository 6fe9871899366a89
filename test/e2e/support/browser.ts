/**
 * Debian's Chromium driven by playwright-core, as the design asks: headless, no sandbox (root in
 * CI), no GPU, and nothing that would reach the internet; a fresh profile each time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { prerequisite } from '../../support/prerequisite.ts';

export const chromiumPath = '/usr/bin/chromium';

/** Debian's Chromium: the browser tests skip without it on a developer's machine, and fail in CI. */
export const chromiumBrowser = prerequisite('Chromium', existsSync(chromiumPath) ? null : `${chromiumPath} is missing (install Debian's chromium package, as .ci/run does)`);

export const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browser {
  readonly context: BrowserContext;
  readonly downloads: string;
  close(): Promise<void>;
}

export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'purification-lab-e2e-profile-'));
  const downloads = mkdtempSync(join(tmpdir(), 'purification-lab-e2e-downloads-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: false, // --headless=new is in the arguments: Chromium's own headless mode, as shipped
    args: chromiumArgs,
    acceptDownloads: true,
    downloadsPath: downloads,
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
    deviceScaleFactor: 1,
  });
  // Playwright gives every action, navigation and awaited event 30 s by default. On two loaded
  // cores a download that renders figures (an export zip: SVG, PNG and PDF of each chart) can take
  // longer, so the tests wait on conditions up to their own per-test timeout instead.
  context.setDefaultTimeout(180_000);
  return {
    context,
    downloads,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}
