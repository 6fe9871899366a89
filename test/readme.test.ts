/** The README publishes the experiment tree: every field of the schema appears in it. */
import { readFileSync } from 'node:fs';
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
});
