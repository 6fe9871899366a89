/**
 * `npm start`: the desktop app where it can open, else the workbench in the browser.
 *
 *   npm start [-- --browser] [-- --no-download] [other options, passed on]
 *
 * 1. The Electron runtime is looked for where the `electron` package keeps it
 *    (node_modules/electron/path.txt names the executable under dist/, or
 *    ELECTRON_OVERRIDE_DIST_PATH points at an installed one). It is never loaded with
 *    `require('electron')`, which would start a download behind our back.
 * 2. Missing, it is downloaded once (the package's own installer, `npx install-electron`), unless
 *    --no-download or PURIFICATION_LAB_NO_DOWNLOAD is given. Where that fails (no internet, as
 *    on the machine this was built on), one sentence says so and how to install it, and browser
 *    mode starts instead (main/web/serve.ts, with the same options).
 * 3. Present, the renderer and the desktop code are built if needed (main/desktop/build.ts) and Electron
 *    starts out/app/main/desktop/mainProcess.js; the engine runs as a child of this same Node.
 * With the runtime installed but no display to open a window on (Linux without DISPLAY or
 * WAYLAND_DISPLAY), browser mode starts too, and says why.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { outLayout } from '../desktop/paths.ts';

export type RuntimeCheck = { readonly present: true; readonly binary: string } | { readonly present: false; readonly reason: string };

export interface RuntimeProbe {
  /** The electron package's folder (node_modules/electron). */
  readonly electronDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  exists(path: string): boolean;
  readText(path: string): string | null;
}

/** The executable inside an Electron distribution, per platform (as the electron package's installer names it). */
export function executableName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** Whether the Electron runtime is installed, without loading the electron package (which would download it). */
export function findElectronRuntime(probe: RuntimeProbe): RuntimeCheck {
  const named = probe.readText(join(probe.electronDir, 'path.txt'))?.trim() || null;
  const override = probe.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const binary = join(override, named ?? executableName(probe.platform));
    return probe.exists(binary) ? { present: true, binary } : { present: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set, but ${binary} does not exist` };
  }
  if (!named) return { present: false, reason: 'it has not been downloaded yet' };
  const binary = join(probe.electronDir, 'dist', named);
  return probe.exists(binary) ? { present: true, binary } : { present: false, reason: `${binary} is missing` };
}

/** Why no window can open on this machine whatever is installed, or null. */
export function displayProblem(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | null {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return null;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? null : 'there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

export const installCommand = 'npx install-electron';

/** The one sentence printed when the runtime is missing: why, the command that installs it, and what happens instead. */
export function fallbackSentence(why: string): string {
  return `The desktop window cannot open because ${why}: install it with \`${installCommand}\` (a one-time download that needs internet) and run \`npm start\` again; starting the workbench in your browser instead.`;
}

/** The sentence when there is no display to open a window on. */
export function noDisplaySentence(problem: string): string {
  return `The desktop window cannot open because ${problem}; starting the workbench in your browser instead.`;
}

export type LaunchPlan = { readonly mode: 'desktop'; readonly binary: string } | { readonly mode: 'browser'; readonly notice: string | null };

export interface LaunchDependencies {
  check(): RuntimeCheck;
  /** Download the runtime (the electron package's installer). */
  install(): Promise<{ ok: true } | { ok: false; reason: string }>;
  display(): string | null;
  say(line: string): void;
}

/** Desktop or browser, and what to say about it. */
export async function planLaunch(options: { browser: boolean; download: boolean }, deps: LaunchDependencies): Promise<LaunchPlan> {
  if (options.browser) return { mode: 'browser', notice: null };
  let check = deps.check();
  if (!check.present && options.download) {
    deps.say('The Electron runtime is not installed yet: downloading it (once, about 100 MB)...');
    const installed = await deps.install();
    if (!installed.ok) return { mode: 'browser', notice: fallbackSentence(`the Electron runtime is not installed and could not be downloaded (${installed.reason})`) };
    check = deps.check();
    if (!check.present) return { mode: 'browser', notice: fallbackSentence(`the Electron runtime is still missing after its download (${check.reason})`) };
  }
  if (!check.present) return { mode: 'browser', notice: fallbackSentence(`the Electron runtime is not installed (${check.reason})`) };
  const problem = deps.display();
  if (problem) return { mode: 'browser', notice: noDisplaySentence(problem) };
  return { mode: 'desktop', binary: check.binary };
}

/** The first line of an installer's error output, without the stack or the error class. */
export function installFailureReason(output: string, code: number | null): string {
  const line = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0 && !l.startsWith('at ') && !/^Downloading Electron/i.test(l));
  if (!line) return code === null ? 'the installer was stopped' : `the installer exited with code ${code}`;
  const text = line.replace(/^(\w*Error|Error):\s*/, '');
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function realProbe(electronDir: string): RuntimeProbe {
  return {
    electronDir,
    env: process.env,
    platform: process.platform,
    exists: (path) => existsSync(path),
    readText: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
  };
}

function runInstaller(electronDir: string, timeoutMs = 10 * 60_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(electronDir, 'install.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ ok: false, reason: error.message });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      done(code === 0 ? { ok: true } : { ok: false, reason: installFailureReason(output, code) });
    });
  });
}

/** Run a command in the foreground and exit with its status (Ctrl-C reaches it directly; SIGTERM is passed on). */
function foreground(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): void {
  const child = spawn(command, [...args], { stdio: 'inherit', env, cwd });
  process.on('SIGINT', () => {}); // the child, in our process group, gets the same Ctrl-C and stops in order
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (error) => {
    process.stderr.write(`cannot start ${command}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1)));
}

async function main(argv: readonly string[]): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const rest = argv.filter((a) => a !== '--browser' && a !== '--no-download');
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const plan = await planLaunch(
    { browser: argv.includes('--browser'), download: !argv.includes('--no-download') && !process.env.PURIFICATION_LAB_NO_DOWNLOAD },
    { check: () => findElectronRuntime(realProbe(electronDir)), install: () => runInstaller(electronDir), display: () => displayProblem(process.env, process.platform), say },
  );
  if (plan.mode === 'browser') {
    if (plan.notice) say(plan.notice);
    foreground(process.execPath, ['--import', 'tsx', join(root, 'main', 'web', 'serve.ts'), ...rest], process.env, root);
    return;
  }
  const { prepareRenderer } = await import('../web/rendererBuild.ts');
  const renderer = await prepareRenderer(root, { build: true, log: say });
  if (renderer.notBuiltReason) say(`note: ${renderer.notBuiltReason}`);
  const { buildDesktop } = await import('../desktop/build.ts');
  await buildDesktop({ root });
  // The engine runs as a child of this Node (the build of better-sqlite3 in node_modules is for it).
  foreground(plan.binary, [resolve(root, outLayout.main), ...rest], { ...process.env, PURIFICATION_LAB_NODE: process.execPath }, root);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
