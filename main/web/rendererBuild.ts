/**
 * Make sure the built renderer matches its sources before serving it: `renderer/dist/index.html`
 * must be newer than every file of `renderer/` and `shared/` (the contract and the chart builders
 * are compiled into the bundle) and the root `vite.config.ts`. When it is not, Vite builds it in
 * this process (`build()` with the root config), so `npm run serve` on a fresh clone, or after a
 * pull, shows the current UI without a separate step. When there is nothing to build (no
 * `renderer/` yet) or the build fails, the server still starts and says so in place of the app.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folders under the sources that are outputs or caches, not sources. */
const skipped = new Set(['dist', 'node_modules', '.vite', 'coverage']);

/** The latest modification time (ms) of any file under `path` (a file or folder); -Infinity if none. */
export function newestModification(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return -Infinity;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = -Infinity;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && skipped.has(entry.name)) continue;
    newest = Math.max(newest, newestModification(join(path, entry.name)));
  }
  return newest;
}

export interface RendererLayout {
  /** renderer/ */
  readonly source: string;
  /** renderer/dist, what the server serves */
  readonly dist: string;
  /** the root vite.config.ts */
  readonly viteConfig: string;
  /** shared/, compiled into the bundle */
  readonly shared: string;
}

export function rendererLayout(projectRoot: string): RendererLayout {
  return {
    source: join(projectRoot, 'renderer'),
    dist: join(projectRoot, 'renderer', 'dist'),
    viteConfig: join(projectRoot, 'vite.config.ts'),
    shared: join(projectRoot, 'shared'),
  };
}

/** Why the build is out of date (a sentence), or null when index.html is newer than every source. */
export function staleness(layout: RendererLayout): string | null {
  const index = join(layout.dist, 'index.html');
  const built = statSync(index, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return 'the UI has not been built yet';
  const newest = Math.max(newestModification(layout.source), newestModification(layout.shared), newestModification(layout.viteConfig));
  return newest > built ? 'renderer/ or shared/ changed since the last build' : null;
}

export interface RendererState {
  /** The folder to serve. */
  readonly dist: string;
  /** Why there is no app to serve (shown in its place), when index.html is missing. */
  readonly notBuiltReason: string;
}

/**
 * Build the renderer when it is stale and `build` allows; report what the server will serve.
 * Builds run with the project root as working directory, which Vite resolves a relative `root`
 * in the config against.
 */
export async function prepareRenderer(projectRoot: string, options: { build: boolean; log: (line: string) => void }): Promise<RendererState> {
  const layout = rendererLayout(projectRoot);
  const state = (reason: string): RendererState => ({ dist: layout.dist, notBuiltReason: reason });
  if (!existsSync(layout.source)) return state('This checkout has no renderer/ folder yet, so there is no UI to serve; the API works.');
  const stale = staleness(layout);
  if (stale === null) return state('');
  if (!options.build) {
    options.log(`note: ${stale}; serving what is there (--no-build)`);
    return state(`The UI is not built (${stale}) and this server was started with --no-build.`);
  }
  if (!existsSync(layout.viteConfig)) {
    options.log(`note: ${stale}, and there is no vite.config.ts to build it with`);
    return state(`The UI cannot be built: ${layout.viteConfig} is missing.`);
  }
  options.log(`building the workbench UI (${stale})...`);
  const previous = process.cwd();
  try {
    process.chdir(projectRoot);
    const { build } = await import('vite');
    await build({ configFile: layout.viteConfig, logLevel: 'warn' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.log(`the UI build failed: ${message}`);
    return state(`The UI build failed: ${message}`);
  } finally {
    process.chdir(previous);
  }
  if (!existsSync(join(layout.dist, 'index.html'))) {
    return state(`The UI build finished without writing ${join(layout.dist, 'index.html')}: check build.outDir in vite.config.ts.`);
  }
  return state('');
}
