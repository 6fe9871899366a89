/**
 * Export of runs: each run's figures (svg, png, pdf), its metrics (tidy csv) and its saved
 * weights, one folder per run. The desktop's File > Export… writes them into a folder, browser
 * mode sends them as one zip download, and `lab export` shares the folder check and the weights
 * list. File names are sanitised, so nothing is ever written outside the folder asked for.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { zipSync } from 'fflate';
import { figureNames } from '../../shared/api.ts';
import { sanitizeName } from './export/render.ts';
import { NotFoundError } from './notFoundError.ts';
import type { RunRecord, RunStore } from './store/runStore.ts';

/** A path for `name` inside `dir` (sanitised; refuses anything that would land outside). */
export function fileInside(dir: string, name: string): string {
  const root = resolve(dir);
  const path = join(root, sanitizeName(name));
  if (!path.startsWith(root + sep)) throw new Error(`refusing to write outside ${root}: ${path}`);
  return path;
}

/** The checkpoints whose weights a run may have saved, in training order. */
const weightLabels = ['init', 'after-clean', 'final'] as const;

/** The weights files a run has saved so far: `weights-<label>.safetensors` in its folder. */
export function savedWeights(run: RunRecord): { readonly label: (typeof weightLabels)[number]; readonly path: string }[] {
  return weightLabels.map((label) => ({ label, path: join(run.folder, `weights-${label}.safetensors`) })).filter((w) => existsSync(w.path));
}

/** Renders one figure or the metrics table of a run (the LabService's exportFile). */
export interface FigureSource {
  exportFile(runId: string, target: string, format: string): Promise<{ readonly bytes: Uint8Array }>;
}

export interface RunExport {
  /** Paths relative to the export's root: `<run id>/<file>`. */
  readonly entries: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  /** What was not exported and why (a figure a run does not have yet, weights not saved yet). */
  readonly skipped: readonly string[];
}

/** Every file of the export of `ids` (every run in the store when empty), in memory. */
export async function collectRunExport(store: RunStore, source: FigureSource, ids: readonly string[]): Promise<RunExport> {
  const runs = ids.length > 0 ? ids.map((id) => store.get(id)) : store.list();
  const entries: { name: string; bytes: Uint8Array }[] = [];
  const skipped: string[] = [];
  for (const run of runs) {
    const folder = sanitizeName(run.id);
    const add = (name: string, bytes: Uint8Array) => entries.push({ name: `${folder}/${sanitizeName(name)}`, bytes });
    for (const figure of figureNames) {
      for (const format of ['svg', 'png', 'pdf'] as const) {
        try {
          add(`${figure}.${format}`, (await source.exportFile(run.id, figure, format)).bytes);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          skipped.push(`${run.id}: ${error.message}`);
          break; // the figure is missing in every format
        }
      }
    }
    add('metrics.csv', (await source.exportFile(run.id, 'metrics', 'csv')).bytes);
    const weights = savedWeights(run);
    for (const w of weights) add(`weights-${w.label}.safetensors`, readFileSync(w.path));
    if (weights.length === 0) skipped.push(`${run.id}: no saved weights yet (status ${run.status})`);
  }
  return { entries, skipped };
}

export interface ExportRunsResult {
  readonly dir: string;
  readonly files: readonly string[];
  readonly skipped: readonly string[];
}

/** The export written into `dir`, one folder per run (the desktop's File > Export…). */
export async function exportRunsToFolder(store: RunStore, source: FigureSource, ids: readonly string[], dir: string): Promise<ExportRunsResult> {
  const { entries, skipped } = await collectRunExport(store, source, ids);
  const root = resolve(dir);
  const files: string[] = [];
  for (const entry of entries) {
    const [runFolder, name] = entry.name.split('/') as [string, string];
    const folder = fileInside(root, runFolder);
    mkdirSync(folder, { recursive: true });
    const path = fileInside(folder, name);
    writeFileSync(path, entry.bytes);
    files.push(path);
  }
  mkdirSync(root, { recursive: true });
  return { dir: root, files, skipped };
}

/**
 * The export as one zip (browser mode's download): the folders as above, and `skipped.txt` when
 * something was left out, so the archive says so itself. Figures are already compressed (png,
 * pdf streams) or small, so the zip uses fflate's default level throughout.
 */
export async function exportRunsArchive(store: RunStore, source: FigureSource, ids: readonly string[]): Promise<{ readonly bytes: Uint8Array; readonly skipped: readonly string[] }> {
  const { entries, skipped } = await collectRunExport(store, source, ids);
  const files: Record<string, Uint8Array> = {};
  for (const entry of entries) files[entry.name] = entry.bytes;
  if (skipped.length > 0) files['skipped.txt'] = new TextEncoder().encode(skipped.join('\n') + '\n');
  return { bytes: zipSync(files), skipped };
}
