/**
 * When `npm run serve` rebuilds the renderer: only when renderer/dist/index.html is older than a
 * source (renderer/, shared/, vite.config.ts; never dist/ or node_modules/ themselves), and
 * without a renderer/ folder it serves the "not built" page instead of failing. No Vite build
 * runs here: the decisions are tested on a temporary project tree.
 */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newestModification, prepareRenderer, rendererLayout, staleness } from '../../main/web/rendererBuild.ts';

/** A project tree with every file at `base` seconds; returns its root. */
function project(base: number): string {
  const root = mkdtempSync(join(tmpdir(), 'lab-renderer-'));
  for (const file of ['renderer/mountApp.ts', 'renderer/dist/index.html', 'renderer/node_modules/x/index.js', 'shared/api.ts', 'vite.config.ts']) {
    const path = join(root, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    utimesSync(path, base, base);
  }
  return root;
}

const touch = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe('renderer staleness', () => {
  it('is fresh when index.html is the newest, whatever dist/ and node_modules/ hold', () => {
    const root = project(1_000_000);
    const layout = rendererLayout(root);
    touch(join(layout.dist, 'index.html'), 1_000_100);
    expect(staleness(layout)).toBeNull();
    touch(join(root, 'renderer/node_modules/x/index.js'), 1_000_200);
    expect(staleness(layout)).toBeNull();
    expect(newestModification(layout.source)).toBe(1_000_000_000);
  });

  it('is stale when a renderer, shared or config file is newer, or index.html is missing', () => {
    for (const changed of ['renderer/mountApp.ts', 'shared/api.ts', 'vite.config.ts']) {
      const root = project(1_000_000);
      touch(join(root, changed), 1_000_100);
      expect(staleness(rendererLayout(root)), changed).toMatch(/changed since the last build/);
    }
    expect(staleness(rendererLayout(mkdtempSync(join(tmpdir(), 'lab-renderer-empty-'))))).toMatch(/not been built/);
  });
});

describe('prepareRenderer', () => {
  it('serves a "not built" page when there is no renderer/ folder, and builds nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lab-renderer-none-'));
    const log: string[] = [];
    const state = await prepareRenderer(root, { build: true, log: (l) => log.push(l) });
    expect(state.dist).toBe(join(root, 'renderer', 'dist'));
    expect(state.notBuiltReason).toMatch(/no renderer\/ folder/);
    expect(log).toEqual([]);
  });

  it('leaves a stale build alone with --no-build, saying so', async () => {
    const root = project(1_000_000);
    touch(join(root, 'renderer/mountApp.ts'), 1_000_100);
    const log: string[] = [];
    const state = await prepareRenderer(root, { build: false, log: (l) => log.push(l) });
    expect(log[0]).toMatch(/changed since the last build; serving what is there \(--no-build\)/);
    expect(state.dist).toBe(join(root, 'renderer', 'dist'));
  });

  it('needs vite.config.ts to build', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lab-renderer-noconfig-'));
    mkdirSync(join(root, 'renderer'));
    const state = await prepareRenderer(root, { build: true, log: () => undefined });
    expect(state.notBuiltReason).toMatch(/vite\.config\.ts is missing/);
  });
});
