/**
 * The committed main/engine/kernels/fused.wasm is the build of main/engine/kernels/assembly/:
 * the compiler runs with the exact arguments of `npm run build:kernels` (read from package.json)
 * into a temporary file, and the bytes must match. An edit to the AssemblyScript that was not
 * rebuilt (or a rebuild with other flags) fails here instead of shipping stale kernels.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FUSED_WASM_URL } from '../../main/engine/kernels/fusedKernels.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lab-kernel-build-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The `build:kernels` script's words, with its output path replaced by `out`. */
function buildArguments(out: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['build:kernels'];
  if (!script) throw new Error('package.json has no build:kernels script');
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'asc') throw new Error(`build:kernels must run asc, got: ${script}`);
  const o = words.indexOf('-o');
  if (o < 0 || words[o + 1] !== 'main/engine/kernels/fused.wasm') {
    throw new Error(`build:kernels must write main/engine/kernels/fused.wasm with -o, got: ${script}`);
  }
  words[o + 1] = out;
  return words.slice(1);
}

describe('fused.wasm', () => {
  it('is the build of the AssemblyScript source with the build:kernels flags (rebuild with npm run build:kernels)', () => {
    const out = join(scratch, 'fused.wasm');
    const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
    execFileSync(process.execPath, [asc, ...buildArguments(out)], { cwd: root, stdio: 'pipe' });
    const built = readFileSync(out);
    const committed = readFileSync(FUSED_WASM_URL);
    expect(built.length, 'size of a fresh build vs the committed fused.wasm').toBe(committed.length);
    expect(Buffer.compare(built, committed), 'a fresh build differs from the committed fused.wasm').toBe(0);
  });
});
