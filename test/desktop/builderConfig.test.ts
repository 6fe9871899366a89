/**
 * electron.config.ts, without packaging (electron-builder cannot download Electron here, and a
 * dmg needs macOS): it type-checks as electron-builder's Configuration (with main/desktop
 * against Electron's own types: tsconfig.desktop.json), electron-builder's own loader reads it
 * and its own schema accepts it, it names the four targets, and every asar-unpack pattern
 * matches the native and wasm files actually installed, with electron-builder's own matcher.
 * And `npm run dist` puts the system Node's better-sqlite3 back after electron-builder rebuilt it.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import config, { asarUnpackPatterns } from '../../electron.config.ts';
import { systemNodeBuilds, withFilesKept } from '../../main/desktop/keepSystemNodeBuild.ts';
import { outLayout } from '../../main/desktop/paths.ts';

const root = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const require = createRequire(import.meta.url);
const builderLib = dirname(require.resolve('app-builder-lib/package.json'));
const fromBuilder = createRequire(join(builderLib, 'package.json'));
// The matcher electron-builder itself applies to asarUnpack (app-builder-lib/out/fileMatcher.js: minimatch, { dot: true }).
const { minimatch } = fromBuilder('minimatch') as { minimatch: (path: string, pattern: string, options: { dot: boolean }) => boolean };

function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === '.git' ? [] : filesUnder(path);
    return e.isFile() || e.isSymbolicLink() ? [relative(root, path)] : [];
  });
}

/** The fixed directory a glob starts in (its part before the first wildcard). */
const staticPrefix = (glob: string) => glob.split('/').filter((_, i, parts) => !parts.slice(0, i + 1).some((p) => /[*?{[]/.test(p))).join('/');

describe('electron.config.ts', () => {
  it("type-checks as electron-builder's Configuration, and main/desktop against Electron's own types", () => {
    const file = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.desktop.json')!;
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(file, ts.sys.readFile).config, ts.sys, root);
    expect(parsed.fileNames.map((f) => relative(root, f))).toEqual(expect.arrayContaining(['electron.config.ts', 'main/desktop/mainProcess.ts', 'main/desktop/preload.ts', 'main/desktop/security.ts']));
    // Two probes prove the types are real (not `any`): a wrong target and a misspelt web preference fail.
    const probe = join(root, 'main/desktop/__typeProbe.ts');
    const probeText = [
      "import type { Configuration } from 'electron-builder';",
      "import type { BrowserWindowConstructorOptions } from 'electron';",
      'export const c: Configuration = { linux: { target: 42 } };',
      'export const o: BrowserWindowConstructorOptions = { webPreferences: { sandbx: true } };',
    ].join('\n');
    const host = ts.createCompilerHost(parsed.options);
    const read = host.readFile.bind(host);
    host.readFile = (name) => (name === probe ? probeText : read(name));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => name === probe || exists(name);
    const program = ts.createProgram({ rootNames: [...parsed.fileNames, probe], options: parsed.options, host });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ({
      file: d.file ? relative(root, d.file.fileName) : '',
      line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
      text: ts.flattenDiagnosticMessageText(d.messageText, ' '),
    }));
    expect(diagnostics.filter((d) => d.file !== 'main/desktop/__typeProbe.ts')).toEqual([]);
    expect(diagnostics.filter((d) => d.file === 'main/desktop/__typeProbe.ts').map((d) => d.line)).toEqual([3, 4]);
  }, 120_000);

  it("is read by electron-builder's own loader, and its schema accepts it", async () => {
    const { getConfig, validateConfiguration } = fromBuilder('./out/util/config/config') as {
      getConfig(projectDir: string, configPath: string): Promise<Record<string, unknown>>;
      validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>;
    };
    const loaded = await getConfig(root, 'electron.config.ts');
    expect(loaded.appId).toBe(config.appId);
    await expect(validateConfiguration(loaded, { isEnabled: false, add() {} })).resolves.toBeUndefined();
  }, 60_000);

  it('builds Linux AppImage and deb, macOS dmg, Windows nsis', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
  });

  it('packs the desktop build and the renderer, with the built main process as the entry', () => {
    expect(config.extraMetadata).toEqual({ main: outLayout.main });
    expect(config.files).toEqual(expect.arrayContaining([`${outLayout.app}/**/*`, `${outLayout.desktop}/**/*`, `${outLayout.renderer}/**/*`]));
    expect(config.npmRebuild).toBe(true);
    expect(config.asar).toBe(true);
  });

  it('unpacks from asar every native and wasm file that is installed, each pattern matching real files', () => {
    expect(config.asarUnpack).toEqual(asarUnpackPatterns.map((p) => p.glob));
    const matched = new Map<string, string[]>();
    for (const { glob, optionalPackage } of asarUnpackPatterns) {
      const prefix = staticPrefix(glob);
      const candidates = prefix ? filesUnder(join(root, prefix)) : [...filesUnder(join(root, 'main')), ...filesUnder(join(root, 'out'))];
      const hits = candidates.filter((f) => minimatch(f, glob, { dot: true }));
      matched.set(glob, hits);
      if (optionalPackage && !statSync(join(root, 'node_modules', optionalPackage), { throwIfNoEntry: false })) continue; // not installed here
      expect(hits.length, `${glob} matches nothing`).toBeGreaterThan(0);
    }
    const all = [...matched.values()].flat();
    expect(all).toContain('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    expect(all).toEqual(expect.arrayContaining(['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm']));
    expect(all).toContain('main/engine/kernels/fused.wasm');
    expect(all.some((f) => /^node_modules\/@resvg\/resvg-js-[^/]+\/[^/]+\.node$/.test(f))).toBe(true);
    // Every native addon a production dependency ships is covered (the optional tfjs-node-gpu included when installed).
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
    const production = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})];
    const addons = production.flatMap((name) => filesUnder(join(root, 'node_modules', name)).filter((f) => f.endsWith('.node') && !f.includes('/obj.target/') && !f.endsWith('test_extension.node')));
    for (const addon of addons) expect(asarUnpackPatterns.some((p) => minimatch(addon, p.glob, { dot: true })), addon).toBe(true);
  });
});

describe('npm run dist', () => {
  it('passes electron.config.ts with --config, after the renderer and desktop builds', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.dist).toMatch(/npm run build:renderer && .*main\/desktop\/build\.ts && .*keepSystemNodeBuild\.ts electron-builder --config electron\.config\.ts/);
    expect(scripts.start).toMatch(/main\/start\/launch\.ts$/);
  });

  it("puts the system Node's better-sqlite3 back after electron-builder rebuilt it in place", async () => {
    expect(systemNodeBuilds(root)).toContain(join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
    const dir = mkdtempSync(join(tmpdir(), 'pl-keep-'));
    try {
      const file = join(dir, 'better_sqlite3.node');
      writeFileSync(file, 'built for node');
      await withFilesKept([file], join(dir, 'backup'), () => writeFileSync(file, 'built for electron'));
      expect(readFileSync(file, 'utf8')).toBe('built for node');
      await expect(
        withFilesKept([file], join(dir, 'backup'), () => {
          writeFileSync(file, 'half rebuilt');
          throw new Error('electron-builder failed');
        }),
      ).rejects.toThrow('electron-builder failed');
      expect(readFileSync(file, 'utf8')).toBe('built for node');
      // node-gyp's rebuild starts by removing the whole build folder.
      const nested = join(dir, 'build', 'Release', 'better_sqlite3.node');
      mkdirSync(dirname(nested), { recursive: true });
      writeFileSync(nested, 'built for node');
      await withFilesKept([nested], join(dir, 'backup'), () => rmSync(join(dir, 'build'), { recursive: true }));
      expect(readFileSync(nested, 'utf8')).toBe('built for node');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
