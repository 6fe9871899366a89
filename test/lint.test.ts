/** The layering rule (README, Layout) is enforced by lint: these imports must be refused. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.message);
}

describe('layering', () => {
  it('shared/ imports nothing else of the project, and no Node built-ins', async () => {
    expect((await messages('shared/probe.ts', "import { RandomStream } from '../main/engine/random.ts';\nexport const r = RandomStream;\n")).join()).toMatch(/shared\/ imports nothing else/);
    expect((await messages('shared/probe.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join()).toMatch(/runs anywhere/);
    expect(await messages('shared/probe.ts', "import { presets } from './presets.ts';\nexport const p = presets;\n")).toEqual([]);
  });
  it('main/engine and main/lab never import electron or the renderer', async () => {
    expect((await messages('main/engine/probe.ts', "import { app } from 'electron';\nexport const a = app;\n")).join()).toMatch(/never import electron/);
    expect((await messages('main/lab/probe.ts', "import { x } from '../../renderer/main.ts';\nexport const y = x;\n")).join()).toMatch(/renderer/);
  });
});
