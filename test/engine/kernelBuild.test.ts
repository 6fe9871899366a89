/**
 * The committed main/engine/kernels/fused.wasm and threaded.wasm are the builds of
 * main/engine/kernels/assembly/: the compiler runs with the exact arguments of
 * `npm run build:kernels` and `npm run build:threadKernels` (read from package.json)
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
import { THREADED_WASM_URL } from '../../main/engine/kernels/threadPool.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lab-kernel-build-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The words of the package.json script `name`, which must compile with asc to `target`, with that output path replaced by `out`. */
function buildArguments(name: string, target: string, out: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts[name];
  if (!script) throw new Error(`package.json has no ${name} script`);
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'asc') throw new Error(`${name} must run asc, got: ${script}`);
  const o = words.indexOf('-o');
  if (o < 0 || words[o + 1] !== target) {
    throw new Error(`${name} must write ${target} with -o, got: ${script}`);
  }
  words[o + 1] = out;
  return words.slice(1);
}

const binaries = [
  { script: 'build:kernels', target: 'main/engine/kernels/fused.wasm', url: FUSED_WASM_URL },
  { script: 'build:threadKernels', target: 'main/engine/kernels/threaded.wasm', url: THREADED_WASM_URL },
] as const;

describe.each(binaries)('$target', ({ script, target, url }) => {
  it(`is the build of the AssemblyScript source with the ${script} flags (rebuild with npm run ${script})`, () => {
    const file = target.split('/').at(-1)!;
    const out = join(scratch, file);
    const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
    execFileSync(process.execPath, [asc, ...buildArguments(script, target, out)], { cwd: root, stdio: 'pipe' });
    const built = readFileSync(out);
    const committed = readFileSync(url);
    expect(built.length, `size of a fresh build vs the committed ${file}`).toBe(committed.length);
    expect(Buffer.compare(built, committed), `a fresh build differs from the committed ${file}`).toBe(0);
  });
});
