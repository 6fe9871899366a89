/**
 * Issue 12: export of runs is one lab function, which the desktop's File > Export… (a folder),
 * browser mode (a zip) and `lab export` (the folder check, the weights list) share. The figures
 * come from a stand-in renderer here (the real one is tested in render.test.ts), so this checks
 * what goes where: one folder per run, a missing figure skipped in every format and said,
 * weights copied byte for byte, nothing written outside the folder asked for.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { figureNames } from '../../shared/api.ts';
import { resolveExperiment } from '../../shared/config.ts';
import { NotFoundError } from '../../main/lab/notFoundError.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { collectRunExport, exportRunsArchive, exportRunsToFolder, fileInside, savedWeights, type FigureSource } from '../../main/lab/runExport.ts';
import { RunStore, type RunRecord } from '../../main/lab/store/runStore.ts';

let store: RunStore;
let out: string;
beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-run-export-store-')));
  out = mkdtempSync(join(tmpdir(), 'lab-run-export-out-'));
});
afterEach(() => store.close());

const newRun = (name: string): RunRecord => {
  const config = resolveExperiment({});
  return store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), name });
};

/** Renders "<run>/<figure>.<format>" as the file's text; the run without results has no robust curve. */
const source: FigureSource = {
  exportFile(runId, target, format) {
    if (target === 'robust-accuracy-final') return Promise.reject(new NotFoundError(`Run ${runId} has no "${target}" figure yet`));
    return Promise.resolve({ bytes: new TextEncoder().encode(`${runId}/${target}.${format}`) });
  },
};

describe('runExport', () => {
  it('keeps every name inside the folder, whatever the name says', () => {
    expect(fileInside(out, '../../etc/passwd')).toBe(join(resolve(out), 'etc-passwd'));
    expect(fileInside(out, 'a/b\\c.svg')).toBe(join(resolve(out), 'a-b-c.svg'));
    expect(fileInside(out, '..')).toBe(join(resolve(out), 'figure'));
  });

  it('lists the weights a run has saved, in training order', () => {
    const run = newRun('weights');
    expect(savedWeights(run)).toEqual([]);
    writeFileSync(join(run.folder, 'weights-final.safetensors'), 'F');
    writeFileSync(join(run.folder, 'weights-init.safetensors'), 'I');
    expect(savedWeights(run).map((w) => w.label)).toEqual(['init', 'final']);
  });

  it('collects figures in three formats, the metrics and the weights; says what is missing', async () => {
    const withWeights = newRun('with weights');
    writeFileSync(join(withWeights.folder, 'weights-init.safetensors'), Uint8Array.from([1, 2, 3]));
    const without = newRun('without');
    const { entries, skipped } = await collectRunExport(store, source, [withWeights.id, without.id]);
    const present = figureNames.filter((f) => f !== 'robust-accuracy-final');
    const expected = (id: string, weights: string[]) => [...present.flatMap((f) => ['svg', 'png', 'pdf'].map((x) => `${id}/${f}.${x}`)), `${id}/metrics.csv`, ...weights.map((w) => `${id}/${w}`)];
    expect(entries.map((e) => e.name)).toEqual([...expected(withWeights.id, ['weights-init.safetensors']), ...expected(without.id, [])]);
    expect([...entries.find((e) => e.name === `${withWeights.id}/weights-init.safetensors`)!.bytes]).toEqual([1, 2, 3]);
    expect(new TextDecoder().decode(entries.find((e) => e.name === `${without.id}/metrics.csv`)!.bytes)).toBe(`${without.id}/metrics.csv`);
    expect(skipped).toEqual([
      `${withWeights.id}: Run ${withWeights.id} has no "robust-accuracy-final" figure yet`,
      `${without.id}: Run ${without.id} has no "robust-accuracy-final" figure yet`,
      `${without.id}: no saved weights yet (status queued)`,
    ]);
  });

  it('writes the same files into a folder as into the zip, and the zip says what was skipped', async () => {
    const run = newRun('both');
    writeFileSync(join(run.folder, 'weights-final.safetensors'), Uint8Array.from([9, 8, 7]));
    const folder = await exportRunsToFolder(store, source, [run.id], join(out, 'export'));
    expect(folder.dir).toBe(join(resolve(out), 'export'));
    expect(readdirSync(folder.dir)).toEqual([run.id]);
    const zip = unzipSync((await exportRunsArchive(store, source, [run.id])).bytes);
    const inFolder = readdirSync(join(folder.dir, run.id)).map((name) => `${run.id}/${name}`);
    expect(Object.keys(zip).sort()).toEqual([...inFolder, 'skipped.txt'].sort());
    for (const name of inFolder) expect([...zip[name]!], name).toEqual([...readFileSync(join(folder.dir, name))]);
    expect(new TextDecoder().decode(zip['skipped.txt']!)).toBe(`${folder.skipped.join('\n')}\n`);
    expect(folder.files).toHaveLength(inFolder.length);
  });

  it('exports every run when no id is given, and refuses an unknown id before writing anything', async () => {
    const a = newRun('a');
    const b = newRun('b');
    const all = await collectRunExport(store, source, []);
    expect(new Set(all.entries.map((e) => e.name.split('/')[0]))).toEqual(new Set([a.id, b.id]));
    await expect(exportRunsToFolder(store, source, ['20990101-000000-zzzz'], join(out, 'none'))).rejects.toThrow(/20990101-000000-zzzz/);
    expect(existsSync(join(out, 'none'))).toBe(false);
  });
});
