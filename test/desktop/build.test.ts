/**
 * The desktop build (what `npm start` and `npm run dist` run before Electron): the main process
 * and the engine as JavaScript in the source tree's shape, no `.ts` import left, their files
 * beside them; the compiled engine runs under a plain Node (no tsx) and loads the fused wasm
 * kernels from its new place; the preload is one file whose only require is electron, and in a
 * sandbox-like context (nothing but `require('electron')`) it exposes the bridge.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDesktop, rewriteTsSpecifiers, runtimeImports, type DesktopBuild } from '../../main/desktop/build.ts';
import { desktopBridgeFunctions } from '../../shared/desktopBridge.ts';

const root = new URL('../../', import.meta.url).pathname;
// Inside the project (out/ is ignored), so the compiled modules find node_modules as in a checkout.
mkdirSync(join(root, 'out'), { recursive: true });
const out = mkdtempSync(join(root, 'out', 'test-build-'));
let build: DesktopBuild;
beforeAll(async () => {
  build = await buildDesktop({ root, out });
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));

describe('the desktop build', () => {
  it('finds runtime imports only, and rewrites .ts specifiers', () => {
    const source = "import { a } from './a.ts';\nimport type { T } from './t.ts';\nexport { b } from '../b.ts';\nexport type { U } from './u.ts';\nimport { type V, c } from './c.ts';\nconst d = await import('./d.ts');\nimport x from 'zod';";
    expect(runtimeImports(source, 'x.ts')).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts']);
    expect(rewriteTsSpecifiers('import { a } from "./a.ts";\nexport * from "../b.ts";\nimport("./d.ts");\nimport "./side.ts";\nconst s = "from \\"./x.ts\\"";')).toBe(
      'import { a } from "./a.js";\nexport * from "../b.js";\nimport("./d.js");\nimport "./side.js";\nconst s = "from \\"./x.ts\\"";',
    );
  });

  it('compiles the main process and the engine in the tree shape, with their files', () => {
    for (const file of ['app/main/desktop/mainProcess.js', 'app/main/desktop/engineProcess.js', 'app/main/lab/jobHost/jobWorker.js', 'app/main/lab/service.js', 'app/shared/api.js', 'app/main/engine/kernels/fused.wasm', 'app/package.json', 'app/build-info.json', 'desktop/preload.cjs']) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    expect(build.modules).toContain('main/desktop/mainProcess.ts');
    expect(build.assets).toEqual(expect.arrayContaining(['main/engine/kernels/fused.wasm', 'package.json']));
    // Nothing of the tests, the CLI or the renderer's Vue code is in it.
    expect(build.modules.some((m) => m.startsWith('test/') || m.includes('/cli/') || m.endsWith('.vue'))).toBe(false);
    for (const file of jsFiles(join(out, 'app'))) expect(readFileSync(file, 'utf8'), relative(out, file)).not.toMatch(/(from\s*|import\s*\(?\s*)["']\.\.?\/[^"']*\.ts["']/);
    // The main process imports electron; the engine never does (it runs under plain Node in development).
    expect(readFileSync(join(out, 'app/main/desktop/mainProcess.js'), 'utf8')).toMatch(/from "electron"/);
    const engineSide = ['engineProcess.js', 'engineControl.js', 'engineLink.js', 'portProtocol.js'].map((f) => readFileSync(join(out, 'app/main/desktop', f), 'utf8'));
    for (const text of engineSide) expect(text).not.toMatch(/from "electron"|require\("electron"\)/);
  });

  it('bundles the preload into one file that needs only electron, and exposes the bridge in a sandbox-like context', () => {
    const code = readFileSync(join(out, 'desktop/preload.cjs'), 'utf8');
    expect([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
    const exposed = new Map<string, Record<string, unknown>>();
    const sent: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api) },
      ipcRenderer: { on: () => undefined, send: (channel: string) => sent.push(channel), invoke: async () => ({ ok: true, result: null }) },
    };
    const module = { exports: {} };
    vm.runInNewContext(code, {
      module,
      exports: module.exports,
      require: (name: string) => {
        if (name === 'electron') return electron;
        throw new Error(`a sandboxed preload cannot require ${name}`);
      },
      setTimeout,
      clearTimeout,
    });
    expect(Object.keys(exposed.get('lab')!).sort()).toEqual([...desktopBridgeFunctions].sort());
    expect(sent).toEqual(['lab:connect']);
  });

  it('the compiled engine runs under plain Node: hello, the backend with the fused kernels, shutdown', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pl-build-store-'));
    try {
      const child = spawn(process.execPath, [join(out, 'app/main/desktop/engineProcess.js'), '--backend', 'wasm'], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        env: { ...process.env, PURIFICATION_LAB_STORE: store },
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const answers = new Map<number, { ok: boolean; result?: Record<string, unknown>; error?: unknown }>();
      child.on('message', (m: { ch: number; data: { type: string; id: number; ok: boolean; result?: Record<string, unknown> } }) => {
        if (m.ch === 0 && m.data.type === 'result') answers.set(m.data.id, m.data);
      });
      let gone = false;
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => {
          gone = true;
          resolve(code);
        }),
      );
      const call = async (id: number, method: string, params: unknown) => {
        child.send({ ch: 0, data: { type: 'call', id, method, params } });
        const end = Date.now() + 60_000;
        while (!answers.has(id)) {
          if (Date.now() > end || gone) throw new Error(`no answer to ${method}: ${stderr}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        return answers.get(id)!;
      };
      expect(await call(1, 'desktop.hello', {})).toMatchObject({ ok: true, result: { store, interrupted: [] } });
      const info = await call(2, 'app.info', {});
      expect(info.ok, JSON.stringify(info.error)).toBe(true);
      expect(info.result).toMatchObject({ backend: { name: 'wasm', fusedKernels: true }, codeVersion: expect.stringMatching(/^0\.\d+\.\d+\+/) });
      expect(await call(3, 'desktop.shutdown', {})).toMatchObject({ ok: true, result: { interrupted: [] } });
      expect(await exited).toBe(0);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  }, 120_000);
});
