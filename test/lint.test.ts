/**
 * The layering of docs/architecture.md is enforced by lint: each rule is shown firing on a planted
 * violation, and staying quiet on the import it allows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.message);
}

/** Lint one planted import from `from` (a path in the repo) of `target`; the messages joined. */
async function importing(from: string, target: string): Promise<string> {
  const ext = from.endsWith('.vue') ? '.vue' : '.ts';
  const line = `import * as probe from '${target}';\nexport const used = probe;\n`;
  const code = ext === '.vue' ? `<script setup lang="ts">\n${line.replace('export const used = probe;', 'const used = probe;\nvoid used;')}</script>\n<template><p>probe</p></template>\n` : line;
  return (await messages(from, code)).join(' | ');
}

describe('the layers', () => {
  it('shared/ imports nothing else of the project, and no Node built-ins', async () => {
    expect(await importing('shared/probe.ts', '../main/engine/random.ts')).toMatch(/shared\/ imports nothing else/);
    expect(await importing('shared/probe.ts', '../renderer/viewLogic/format.ts')).toMatch(/shared\/ imports nothing else/);
    expect(await importing('shared/probe.ts', 'node:fs')).toMatch(/runs anywhere/);
    expect(await importing('shared/probe.ts', './presets.ts')).toBe('');
  });

  it('renderer/ imports shared/ only, in .ts and .vue files alike', async () => {
    expect(await importing('renderer/viewLogic/probe.ts', '../../main/lab/service.ts')).toMatch(/renderer\/ imports only shared/);
    expect(await importing('renderer/components/ProbeList.vue', '../../main/engine/random.ts')).toMatch(/renderer\/ imports only shared/);
    expect(await importing('renderer/components/ProbeList.vue', 'node:fs')).toMatch(/runs in a page/);
    expect(await importing('renderer/viewLogic/probe.ts', '../../shared/config.ts')).toBe('');
  });

  it('main/engine imports shared/ only', async () => {
    expect(await importing('main/engine/probe.ts', '../lab/service.ts')).toMatch(/main\/engine imports only shared/);
    expect(await importing('main/engine/probe.ts', '../web/server.ts')).toMatch(/main\/engine imports only shared/);
    expect(await importing('main/engine/probe.ts', '../desktop/menu.ts')).toMatch(/main\/engine imports only shared/);
    expect(await importing('main/engine/probe.ts', '../../renderer/viewLogic/format.ts')).toMatch(/main\/engine imports only shared/);
    expect(await importing('main/engine/probe.ts', 'electron')).toMatch(/never import electron/);
    expect(await importing('main/engine/probe.ts', './random.ts')).toBe('');
  });

  it('main/lab imports main/engine and shared/ only', async () => {
    expect(await importing('main/lab/probe.ts', '../web/server.ts')).toMatch(/main\/lab imports only/);
    expect(await importing('main/lab/probe.ts', '../desktop/menu.ts')).toMatch(/main\/lab imports only/);
    expect(await importing('main/lab/probe.ts', '../start/launch.ts')).toMatch(/main\/lab imports only/);
    expect(await importing('main/lab/probe.ts', '../../renderer/viewLogic/format.ts')).toMatch(/main\/lab imports only/);
    expect(await importing('main/lab/probe.ts', '../engine/random.ts')).toBe('');
  });

  it('main/web and main/desktop never import each other, nor the renderer', async () => {
    expect(await importing('main/web/probe.ts', '../desktop/menu.ts')).toMatch(/main\/web never imports main\/desktop/);
    expect(await importing('main/web/probe.ts', '../../renderer/api/browserClient.ts')).toMatch(/main\/web never imports/);
    expect(await importing('main/desktop/probe.ts', '../web/server.ts')).toMatch(/main\/desktop never imports main\/web/);
    expect(await importing('main/desktop/probe.ts', '../../renderer/api/desktopClient.ts')).toMatch(/main\/desktop never imports/);
    expect(await importing('main/web/probe.ts', '../lab/service.ts')).toBe('');
    expect(await importing('main/desktop/probe.ts', '../../shared/desktopBridge.ts')).toBe('');
  });

  it('the launcher in main/start is the one module that imports both transports', async () => {
    expect(await importing('main/start/probe.ts', '../web/rendererBuild.ts')).toBe('');
    expect(await importing('main/start/probe.ts', '../desktop/paths.ts')).toBe('');
  });
});

describe('generated code', () => {
  it("is not linted: the device kit's bundles, as the renderer's build (a kit built here must not fail npm test)", async () => {
    expect(await eslint.isPathIgnored('.device/bench/webgpuSteps.mjs')).toBe(true);
    expect(await eslint.isPathIgnored('renderer/dist/assets/index.js')).toBe(true);
    expect(await eslint.isPathIgnored('bench/webgpuSteps.ts')).toBe(false);
  });
});

describe('.vue files', () => {
  it('are linted with Vue\'s rules and the TypeScript parser', async () => {
    const loop = '<script setup lang="ts">\nconst items: number[] = [1, 2];\n</script>\n<template><ul><li v-for="item in items">{{ item }}</li></ul></template>\n';
    expect((await messages('renderer/components/ProbeList.vue', loop)).join()).toMatch(/Elements in iteration expect to have 'v-bind:key'/);
    const typed = '<script setup lang="ts">\nconst count: number = 1;\n</script>\n<template><p>{{ count }}</p></template>\n';
    expect(await messages('renderer/components/ProbeList.vue', typed)).toEqual([]);
  });
});

describe('import cycles', () => {
  // dependency-cruiser finds cycles on files on disk (import-x's no-cycle skips type-only
  // imports): plant two modules in a folder of their own, removed after, and run the project's own
  // check on them, as `npm run lint` does.
  const dir = join(import.meta.dirname, `.cycle-probe-${process.pid}`);
  const root = join(import.meta.dirname, '..');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cycleCheck(a: string, b: string): { status: number | null; output: string } {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.ts'), a);
    writeFileSync(join(dir, 'b.ts'), b);
    const bin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    const r = spawnSync(process.execPath, [bin, '--config', '.dependency-cruiser.cjs', '--validate', '--', dir], { cwd: root, encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  it('are refused, type-only ones included', () => {
    const value = cycleCheck("import { b } from './b.ts';\nexport const a = 1;\nexport const c = b;\n", "import { a } from './a.ts';\nexport const b = () => a;\n");
    expect(value.status).not.toBe(0);
    expect(value.output).toMatch(/no-cycle/);
    const typeOnly = cycleCheck("import type { B } from './b.ts';\nexport interface A { b?: B }\n", "import type { A } from './a.ts';\nexport interface B { a?: A }\n");
    expect(typeOnly.status).not.toBe(0);
    expect(typeOnly.output).toMatch(/no-cycle/);
    const none = cycleCheck("import { b } from './b.ts';\nexport const a = b;\n", 'export const b = 1;\n');
    expect(none.status, none.output).toBe(0);
  });
});
