/**
 * Where the desktop app's pieces are, in the checkout and in the package alike (app.asar has the
 * same layout): the desktop build (build.ts) compiles main/ and shared/ into out/app with the
 * source tree's shape, so every `new URL('…', import.meta.url)` of the engine still finds its
 * file, and bundles the preload into out/desktop.
 *
 *   out/app/main/desktop/mainProcess.js            the Electron main process (package.json "main" in the package)
 *   out/app/main/desktop/engineProcess.js   the engine process
 *   out/app/package.json                    a copy ("type": "module", the version for provenance)
 *   out/app/build-info.json                 the commit the build was made from
 *   out/desktop/preload.cjs                 the preload, one CommonJS file (sandboxed preloads cannot import)
 *   renderer/dist/                          the renderer (vite build), served as app://lab/
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const outLayout = {
  app: 'out/app',
  desktop: 'out/desktop',
  main: 'out/app/main/desktop/mainProcess.js',
  engine: 'out/app/main/desktop/engineProcess.js',
  preload: 'out/desktop/preload.cjs',
  renderer: 'renderer/dist',
} as const;

export interface DesktopPaths {
  /** The project root (the checkout, or app.asar). */
  readonly root: string;
  readonly renderer: string;
  readonly preload: string;
  readonly engineEntry: string;
}

/** The paths, from the compiled mainProcess.js's own URL (out/app/main/desktop/mainProcess.js). */
export function desktopPaths(mainModuleUrl: string): DesktopPaths {
  const here = dirname(fileURLToPath(mainModuleUrl));
  const root = resolve(here, '..', '..', '..', '..');
  return {
    root,
    renderer: join(root, outLayout.renderer),
    preload: join(root, outLayout.preload),
    engineEntry: join(here, 'engineProcess.js'),
  };
}

/**
 * How the engine runs: an Electron utilityProcess in the package (its better-sqlite3 was rebuilt
 * for Electron by electron-builder), a child of the system Node in development (node_modules'
 * better-sqlite3 is built for the system Node). PURIFICATION_LAB_ENGINE=utility|node overrides.
 */
export function engineMode(env: NodeJS.ProcessEnv, packaged: boolean): 'utility' | 'node' {
  const forced = env.PURIFICATION_LAB_ENGINE;
  if (forced === 'utility' || forced === 'node') return forced;
  return packaged ? 'utility' : 'node';
}
