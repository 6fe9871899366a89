/**
 * Browser mode in a real browser (Debian's Chromium through playwright-core), with a stand-in
 * app: the tokened URL leaves a cookie with which the page's own script, and nothing else, can
 * call the API and open the event stream; the CSP blocks inline script; the bare URL gets the
 * 401 page. This is the path the renderer's client takes, checked without the renderer.
 * Skipped where /usr/bin/chromium is missing; in CI (CI=true, where .ci/run installs it) that fails.
 * Conditions in the page are polled from the test's side: a string predicate evaluated in the
 * page (page.waitForFunction) is an eval, which the page's CSP forbids once it has to poll.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue } from '../../main/lab/jobs.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { startServer, type RunningServer } from '../../main/web/server.ts';
import { chromiumBrowser, chromiumPath } from '../e2e/support/browser.ts';

/**
 * The stand-in app: an external module script reports what worked in the page title. (Page-side
 * code is passed to Playwright as strings: this project's TypeScript has no DOM types.)
 */
const appScript = `
const report = {};
const show = () => { document.title = JSON.stringify(report); };
const response = await fetch('/api/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'runs.list', params: {} }) });
report.call = response.status;
report.result = (await response.json()).result;
const socket = new WebSocket('ws://' + location.host + '/api/events');
socket.onopen = () => { report.socket = 'open'; show(); };
socket.onerror = () => { report.socket = 'refused'; show(); };
`;

describe.skipIf(chromiumBrowser.skip)('in Chromium', () => {
  beforeAll(() => chromiumBrowser.require());
  let store: RunStore;
  let queue: JobQueue;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-browser-store-')));
    queue = new JobQueue(store, { backend: 'wasm' });
    const dist = mkdtempSync(join(tmpdir(), 'lab-browser-site-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>loading</title><script>window.inlineRan = true;</script><script type="module" src="./app.js"></script>');
    writeFileSync(join(dist, 'app.js'), appScript);
    server = await startServer({ store, queue, port: 0, rendererDir: dist });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    store?.close();
  });

  for (const host of ['127.0.0.1', 'localhost']) {
    it(`opens through the tokened URL on ${host}: the page's script calls the API and opens the stream with the cookie alone`, async () => {
      const page = await browser.newPage();
      const url = server.url.replace('127.0.0.1', host);
      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.title(), { timeout: 15_000, interval: 100 }).toContain('socket');
      expect(JSON.parse(await page.title())).toEqual({ call: 200, result: [], socket: 'open' });
      expect(await page.evaluate('window.inlineRan')).toBeUndefined();
      expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: invisible to scripts
      await page.close();
    });
  }

  it('refuses another local page, even one that shares the cookie (same site, other port)', async () => {
    // Cookies are not scoped by port, so only the Origin check stands between a page served on
    // another local port and the API: its calls and its WebSocket must both be refused.
    const evilScript = `
      const report = {};
      try {
        const r = await fetch('http://127.0.0.1:${server.port}/api/call', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'runs.start', params: { input: {} } }) });
        report.call = r.status;
      } catch { report.call = 'blocked'; }
      try {
        await fetch('http://127.0.0.1:${server.port}/api/call', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ method: 'runs.start', params: { input: {} } }) });
      } catch { /* opaque either way */ }
      const socket = new WebSocket('ws://127.0.0.1:${server.port}/api/events');
      socket.onopen = () => { report.socket = 'open'; document.title = JSON.stringify(report); };
      socket.onerror = () => { report.socket = 'refused'; document.title = JSON.stringify(report); };
    `;
    const evil = createServer((req, res) => {
      if (req.url === '/evil.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(evilScript);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>evil</title><script type="module" src="/evil.js"></script>');
      }
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    try {
      await page.goto(server.url); // the user has the lab open: the cookie is set
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      await expect.poll(() => page.title(), { timeout: 15_000, interval: 100 }).toContain('socket');
      expect(JSON.parse(await page.title())).toEqual({ call: 'blocked', socket: 'refused' });
      expect(store.list()).toHaveLength(0);
    } finally {
      await page.close();
      evil.close();
    }
  });

  it('shows the 401 page without the token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${server.port}/`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('Open the link printed in the terminal');
    await context.close();
  });
});
