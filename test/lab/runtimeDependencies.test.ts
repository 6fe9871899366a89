/**
 * package.json's runtime dependencies are what the app's code (main/, shared/, renderer/) loads:
 * each is imported, required or resolved there, so an installed app (electron-builder packs the
 * runtime dependencies) carries nothing only the tests and benches use (ml-matrix, the reference
 * for the dictionary's QR, is a dev dependency). The libraries a run's provenance records are
 * among what it loads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provenance, recordedLibraries } from '../../main/lab/provenance.ts';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|vue|mjs|cjs|js)$/.test(e.name) && !e.parentPath.includes('node_modules') && !e.parentPath.includes('dist'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

const code = ['main', 'shared', 'renderer'].flatMap(sources);
const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** `from 'name'`, `import('name')`, `require('name')`, `resolve('name/…')` and the like. */
const loads = (name: string) => new RegExp(`(\\bfrom\\s+|\\b(?:import|require|requireCjs|resolve)\\(\\s*)['"\`]${escape(name)}(?:/[^'"\`]*)?['"\`]`);
/** Loaded through a constant: the package name is held in one, then resolved (main/lab/export/fonts.ts). */
const byConstant: Readonly<Record<string, RegExp>> = { 'source-sans': /FONT_PACKAGE = 'source-sans'/ };

describe('runtime dependencies', () => {
  it('each is loaded by the app\'s code; ml-matrix only by tests and benches, as a dev dependency', () => {
    const unused = Object.keys(pkg.dependencies).filter((name) => !code.some((text) => loads(name).test(text) || byConstant[name]?.test(text)));
    expect(unused).toEqual([]);
    expect(pkg.dependencies['ml-matrix']).toBeUndefined();
    expect(pkg.devDependencies['ml-matrix']).toMatch(/^\^6\./);
  });

  it('the provenance records libraries the app loads, each a runtime or optional dependency', () => {
    const runtime = { ...pkg.dependencies, ...pkg.optionalDependencies };
    expect(recordedLibraries.filter((name) => !(name in runtime))).toEqual([]);
    // Every backend's own code is among them: a webgpu run records its tfjs backend and Dawn.
    for (const name of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node-gpu']) expect(recordedLibraries).toContain(name);
    const recorded = provenance({ name: 'webgpu', device: 'cpu', label: 'webgpu', skipped: [], forced: true, details: {}, fusedKernels: true }).dependencies as Record<string, string | null>;
    expect(recorded['webgpu']).toBe(JSON.parse(readFileSync(new URL('../../node_modules/webgpu/package.json', import.meta.url), 'utf8')).version);
  });
});
