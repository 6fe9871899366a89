/**
 * One describe block's browser session: the real server on a fresh store and Debian's Chromium,
 * started before its tests and stopped after them, with the screenshots it took listed at the end.
 * Call it inside `describe.skipIf(chromiumBrowser.skip)`: without Chromium the block is skipped on
 * a developer's machine, and in CI its `beforeAll` fails with the reason. Read the fields inside
 * tests (`const { server, page } = session;`): they are set by that `beforeAll`.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { chromiumBrowser, launchBrowser, type Browser } from './browser.ts';
import { startLabServer, waitForServerEntry, type LabServer } from './labServer.ts';

export interface WorkbenchSession {
  server: LabServer;
  browser: Browser;
  page: Page;
  /** Screenshot files, listed when the block ends. */
  readonly shots: string[];
}

export function workbenchSession(): WorkbenchSession {
  const session = { shots: [] as string[] } as WorkbenchSession;
  beforeAll(async () => {
    chromiumBrowser.require();
    // The server is written alongside the UI; wait for it rather than fail on a half-landed tree.
    if (!(await waitForServerEntry(10 * 60_000))) throw new Error('main/web/serve.ts did not appear within 10 minutes');
    session.server = await startLabServer({ timeoutMs: 240_000 });
    session.browser = await launchBrowser();
    session.page = await session.browser.context.newPage();
    session.page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  }, 600_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.server?.stop();
    if (session.shots.length) console.log(`e2e screenshots:\n  ${session.shots.join('\n  ')}`);
  }, 60_000);
  return session;
}
