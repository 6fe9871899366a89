/**
 * Issue 12: the desktop's File > Export… and File > Import… still work now that what they do
 * lives in the lab (runExport.ts, storeFiles.ts): the control channel validates its params and
 * calls the lab functions, with a stand-in LabService for the figures.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { figureNames } from '../../shared/api.ts';
import { resolveExperiment, resolveSparseCoding } from '../../shared/config.ts';
import { controlService } from '../../main/desktop/engineControl.ts';
import type { PortService } from '../../main/desktop/portProtocol.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';

let store: RunStore;
let control: PortService;
beforeEach(() => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-control-files-')));
  control = controlService({
    store,
    service: {
      call: () => Promise.reject(new Error('not used')),
      subscribe: () => () => {},
      exportFile: (runId, target, format) => Promise.resolve({ bytes: new TextEncoder().encode(`${runId} ${target} ${format}`), contentType: 'x', fileName: 'f' }),
      close: () => {},
    },
    queue: { active: [], shutdown: () => Promise.resolve() },
    stopped: () => {},
  });
});
afterEach(() => store.close());

describe('the desktop control channel over the lab functions', () => {
  it('File > Export… writes every figure, the metrics and the weights, one folder per run', async () => {
    const config = resolveExperiment({});
    const run = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion() });
    writeFileSync(join(run.folder, 'weights-final.safetensors'), Uint8Array.from([7]));
    const dir = join(mkdtempSync(join(tmpdir(), 'lab-control-export-')), 'out');
    const result = (await control.call('desktop.exportRuns', { ids: [run.id], dir })) as { dir: string; files: string[]; skipped: string[] };
    expect(result.dir).toBe(dir);
    expect(result.skipped).toEqual([]);
    expect(readdirSync(join(dir, run.id)).sort()).toEqual([...figureNames.flatMap((f) => ['svg', 'png', 'pdf'].map((x) => `${f}.${x}`)), 'metrics.csv', 'weights-final.safetensors'].sort());
    expect(readFileSync(join(dir, run.id, 'coefficient-heatmap.pdf'), 'utf8')).toBe(`${run.id} coefficient-heatmap pdf`);
    await expect(control.call('desktop.exportRuns', { ids: [run.id] })).rejects.toThrow('Invalid params for desktop.exportRuns: dir: ');
  });

  it('File > Import… checks the file and copies it into the store', async () => {
    const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: 2 } }).model, 3, { configHash: 'h', codeVersion: 'v', checkpoint: 'final' });
    const path = join(mkdtempSync(join(tmpdir(), 'lab-control-import-')), 'w.safetensors');
    writeFileSync(path, encodeWeights(card, Float32Array.from([1, 2, 3, 4, 5, 6]), null));
    const result = (await control.call('desktop.importFile', { path })) as { kind: string; original: string; file: string };
    expect(result.kind).toBe('weights');
    expect(result.original).toBe(path);
    expect(readdirSync(join(store.dir, 'imports'))).toEqual([result.file.slice(join(store.dir, 'imports').length + 1)]);
  });
});
