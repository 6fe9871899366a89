/**
 * The README publishes the experiment tree (every field of the schema appears in it) and the
 * layout (every folder and file it names exists, and every top-level folder is named).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allConfigPaths } from '../shared/configPath.ts';

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const tree = readme.slice(readme.indexOf('## The experiment tree'), readme.indexOf('## The event stream'));
  it('lists every config field of the schema in the tree', () => {
    const fields = new Set(allConfigPaths().map((p) => p.split('.').pop()!).filter((f) => !/^\d+$/.test(f)));
    const missing = [...fields].filter((f) => !new RegExp(`\\b${f}:`).test(tree));
    expect(missing).toEqual([]);
  });
  it('gives the set-up and test commands that CI runs', () => {
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npm test');
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toMatch(/^npm test$/m);
  });
  it('names in its layout only folders and files that exist, and every top-level folder', () => {
    const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('## Dependencies, and why'));
    const block = layout.slice(layout.indexOf('```\n') + 4, layout.lastIndexOf('```'));
    // A line that starts with a name at some indentation names an entry under the folder of the
    // last line with less indentation (two spaces a level); continuation lines start deeper and
    // are prose.
    const named: string[] = [];
    const parents: { indent: number; path: string }[] = [];
    for (const line of block.split('\n')) {
      const m = /^( *)([\w.-]+\/|[\w.-]+\.(?:ts|vue|md|wasm|json))\s/.exec(line + ' ');
      if (!m) continue;
      const indent = m[1]!.length;
      while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop();
      const parent = parents[parents.length - 1]?.path ?? '';
      if (parents.length > 0 && indent > parents[parents.length - 1]!.indent + 2) continue;
      const path = parent + m[2]!;
      named.push(path);
      if (path.endsWith('/')) parents.push({ indent, path });
    }
    const root = new URL('../', import.meta.url);
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((path) => !existsSync(new URL(path, root)))).toEqual([]);
    const topFolders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !['node_modules', 'dist', 'out', 'coverage', 'runs'].includes(e.name))
      .map((e) => `${e.name}/`);
    expect(topFolders.filter((folder) => !named.includes(folder))).toEqual([]);
    expect(named).toEqual(expect.arrayContaining(['main/engine/', 'main/lab/', 'main/web/', 'main/desktop/', 'main/start/', 'renderer/components/']));
  });
});
