/**
 * Nothing the user reads cites a file the user does not have (issue 17): the background notes
 * the project was built from (SCIENCE.md, DESIGN.md, STYLE.md, outside the repository) are not
 * named in a preset card, a claim, a caption, the README or the code; docs/ and the glossary are.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { claimMeta } from '../shared/paper.ts';
import { presets } from '../shared/presets.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const outside = /SCIENCE\.md|DESIGN\.md|STYLE\.md|\.\.\/shared\/[A-Z]/;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return /\.(ts|vue|md|html)$/.test(name) ? [path] : [];
  });
}

describe('citations', () => {
  it('preset cards and claim cards name no file outside the repository', () => {
    for (const p of Object.values(presets)) expect(p.description, p.name).not.toMatch(outside);
    for (const c of Object.values(claimMeta)) expect(`${c.title} ${c.statement} ${c.criterion}`, c.id).not.toMatch(outside);
  });

  it('the README, docs, code and views name none either', () => {
    const offenders = ['README.md', ...sources('docs'), ...sources('shared'), ...sources('renderer'), ...sources('main')].filter((f) => outside.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
