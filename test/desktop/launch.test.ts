/**
 * `npm start`'s decision: the desktop app when the Electron runtime is installed (or downloads),
 * else browser mode after one sentence that says why and names the install command. The file
 * system and the download are stand-ins; the last test asks this machine, which has no runtime.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  displayProblem,
  executableName,
  fallbackSentence,
  findElectronRuntime,
  installCommand,
  installFailureReason,
  noDisplaySentence,
  planLaunch,
  type LaunchDependencies,
  type RuntimeCheck,
  type RuntimeProbe,
} from '../../main/start/launch.ts';

const electronDir = '/project/node_modules/electron';

function probe(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, platform: NodeJS.Platform = 'linux'): RuntimeProbe {
  return { electronDir, env, platform, exists: (path) => path in files, readText: (path) => files[path] ?? null };
}

describe('finding the Electron runtime without loading the electron package', () => {
  it('is missing when path.txt was never written (the runtime was never downloaded)', () => {
    expect(findElectronRuntime(probe({}))).toEqual({ present: false, reason: 'it has not been downloaded yet' });
  });

  it('is present when path.txt names an executable under dist/', () => {
    const files = { [`${electronDir}/path.txt`]: 'electron', [`${electronDir}/dist/electron`]: '' };
    expect(findElectronRuntime(probe(files))).toEqual({ present: true, binary: `${electronDir}/dist/electron` });
    const mac = { [`${electronDir}/path.txt`]: executableName('darwin'), [`${electronDir}/dist/Electron.app/Contents/MacOS/Electron`]: '' };
    expect(findElectronRuntime(probe(mac, {}, 'darwin'))).toEqual({ present: true, binary: `${electronDir}/dist/Electron.app/Contents/MacOS/Electron` });
  });

  it('is missing when path.txt names an executable that is not there', () => {
    const check = findElectronRuntime(probe({ [`${electronDir}/path.txt`]: 'electron\n' }));
    expect(check).toEqual({ present: false, reason: `${electronDir}/dist/electron is missing` });
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH', () => {
    expect(findElectronRuntime(probe({ '/opt/electron/electron': '' }, { ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron' }))).toEqual({ present: true, binary: '/opt/electron/electron' });
    expect(findElectronRuntime(probe({}, { ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron' }, 'win32'))).toMatchObject({ present: false, reason: expect.stringContaining('electron.exe does not exist') });
  });
});

function deps(checks: RuntimeCheck[], install: Awaited<ReturnType<LaunchDependencies['install']>> = { ok: false, reason: 'fetch failed' }, display: string | null = null) {
  const said: string[] = [];
  let installs = 0;
  const d: LaunchDependencies = {
    check: () => checks.shift() ?? { present: false, reason: 'gone' },
    install: async () => {
      installs++;
      return install;
    },
    display: () => display,
    say: (line) => said.push(line),
  };
  return { d, said, installs: () => installs };
}

describe('the launch decision', () => {
  it('starts the desktop app when the runtime is there', async () => {
    const { d, installs } = deps([{ present: true, binary: '/e/electron' }]);
    expect(await planLaunch({ browser: false, download: true }, d)).toEqual({ mode: 'desktop', binary: '/e/electron' });
    expect(installs()).toBe(0);
  });

  it('downloads a missing runtime, then starts the desktop app (a machine with internet)', async () => {
    const { d, said } = deps([{ present: false, reason: 'it has not been downloaded yet' }, { present: true, binary: '/e/electron' }], { ok: true });
    expect(await planLaunch({ browser: false, download: true }, d)).toEqual({ mode: 'desktop', binary: '/e/electron' });
    expect(said.join()).toMatch(/downloading it/);
  });

  it('falls back to browser mode with one sentence when the download fails (this machine)', async () => {
    const { d } = deps([{ present: false, reason: 'it has not been downloaded yet' }], { ok: false, reason: 'fetch failed' });
    const plan = await planLaunch({ browser: false, download: true }, d);
    expect(plan.mode).toBe('browser');
    const notice = (plan as { notice: string }).notice;
    expect(notice).toBe(
      'The desktop window cannot open because the Electron runtime is not installed and could not be downloaded (fetch failed): install it with `npx install-electron` (a one-time download that needs internet) and run `npm start` again; starting the workbench in your browser instead.',
    );
    // One sentence: a single full stop, at the end; the install command named.
    expect(notice.match(/\.(\s|$)/g)).toHaveLength(1);
    expect(notice).toContain(installCommand);
  });

  it('does not download when told not to, and still says what to run', async () => {
    const { d, installs } = deps([{ present: false, reason: 'it has not been downloaded yet' }]);
    const plan = await planLaunch({ browser: false, download: false }, d);
    expect(plan).toEqual({ mode: 'browser', notice: fallbackSentence('the Electron runtime is not installed (it has not been downloaded yet)') });
    expect(installs()).toBe(0);
  });

  it('starts browser mode without a word when asked for it (--browser)', async () => {
    const { d, installs } = deps([{ present: true, binary: '/e/electron' }]);
    expect(await planLaunch({ browser: true, download: true }, d)).toEqual({ mode: 'browser', notice: null });
    expect(installs()).toBe(0);
  });

  it('starts browser mode when there is no display to open a window on', async () => {
    const { d } = deps([{ present: true, binary: '/e/electron' }], { ok: true }, 'there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)');
    expect(await planLaunch({ browser: false, download: true }, d)).toEqual({ mode: 'browser', notice: noDisplaySentence('there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)') });
    expect(displayProblem({}, 'linux')).toMatch(/no graphical display/);
    expect(displayProblem({ DISPLAY: ':0' }, 'linux')).toBeNull();
    expect(displayProblem({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBeNull();
    expect(displayProblem({}, 'darwin')).toBeNull();
    expect(displayProblem({}, 'win32')).toBeNull();
  });

  it("reads the installer's failure as a short reason", () => {
    expect(installFailureReason('Downloading Electron binary...\nTypeError: fetch failed\n    at node:internal/deps/undici:13502:13\n', 1)).toBe('fetch failed');
    expect(installFailureReason('RequestError: getaddrinfo ENOTFOUND github.com\n    at ClientRequest.<anonymous>', 1)).toBe('getaddrinfo ENOTFOUND github.com');
    expect(installFailureReason('', 1)).toBe('the installer exited with code 1');
  });

  it('on this machine, says whether the runtime is installed as the electron package left it', () => {
    const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const here = findElectronRuntime({
      electronDir: dir,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '' },
      platform: process.platform,
      exists: existsSync,
      readText: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : null),
    });
    // The package's installer writes path.txt (the executable's name in dist/) once it has
    // downloaded the runtime: without it, nothing is installed; with it, the binary decides.
    const pathTxt = join(dir, 'path.txt');
    if (!existsSync(pathTxt)) {
      expect(here).toEqual({ present: false, reason: 'it has not been downloaded yet' });
    } else {
      const binary = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
      expect(here).toEqual(existsSync(binary) ? { present: true, binary } : { present: false, reason: `${binary} is missing` });
    }
  });
});
