/**
 * The engine's control channel: what the main process (never the renderer) may ask of the
 * engine beyond the API contract. Runs in the engine process; imports no electron.
 *
 *   desktop.hello       after (re)start: recover the runs a crashed engine left behind, and say
 *                       which store this engine serves (the CLI's, resolved by the same function)
 *   desktop.runFolder   a run's folder (File > Open run folder…, "show in folder")
 *   desktop.exportFile  one figure or the metrics table as bytes (the app:// download URLs)
 *   desktop.exportRuns  File > Export…: figures, metrics and weights of runs into a folder
 *   desktop.importFile  File > Import weights / data…: check a file and copy it into the store
 *   desktop.shutdown    checkpoint running runs (they become interrupted, resumable) and stop
 *
 * Any other method is the API contract, passed to the LabService, which validates it.
 */
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ApiError, figureNames, type ApiMethod, type JobStreamMessage } from '../../shared/api.ts';
import { sanitizeName } from '../lab/export/render.ts';
import { decodeDatasetBytes } from '../lab/formats/datasetFile.ts';
import { readInputFile } from '../lab/formats/inputFile.ts';
import { NotFoundError, type ExportedFile, type LabService } from '../lab/service.ts';
import type { RunRecord, RunStore } from '../lab/store/runStore.ts';
import { decodeWeights } from '../lab/weightsFile.ts';
import type { PortService } from './portProtocol.ts';

const runIdText = z.string().min(1).max(80);

export const controlParams = {
  'desktop.hello': z.strictObject({ recover: z.strictObject({ runIds: z.array(runIdText).max(1000), reason: z.string().max(4000) }).optional() }),
  'desktop.runFolder': z.strictObject({ id: runIdText }),
  'desktop.exportFile': z.strictObject({ runId: z.string().max(200), target: z.string().max(200), format: z.string().max(16) }),
  'desktop.exportRuns': z.strictObject({ ids: z.array(runIdText).max(1000), dir: z.string().min(1).max(4096) }),
  'desktop.importFile': z.strictObject({ path: z.string().min(1).max(4096) }),
  'desktop.shutdown': z.strictObject({}),
} as const;

export type ControlMethod = keyof typeof controlParams;

export interface HelloResult {
  readonly pid: number;
  /** The run store this engine serves (the CLI's, unless --store or the environment say otherwise). */
  readonly store: string;
  /** Runs the previous engine left running, now interrupted and resumable. */
  readonly interrupted: readonly string[];
}

export type ExportFileResult =
  | { readonly kind: 'file'; readonly bytes: Uint8Array; readonly contentType: string; readonly fileName: string }
  | { readonly kind: 'missing' | 'invalid'; readonly message: string };

export interface ExportRunsResult {
  readonly dir: string;
  readonly files: readonly string[];
  /** What was not exported and why (a figure a run does not have yet, weights not saved yet). */
  readonly skipped: readonly string[];
}

export interface ImportResult {
  readonly kind: 'weights' | 'data';
  readonly original: string;
  /** The copy in the store's imports/ folder. */
  readonly file: string;
  readonly summary: string;
}

export interface ShutdownResult {
  readonly interrupted: readonly string[];
}

export interface ControlResults {
  'desktop.hello': HelloResult;
  'desktop.runFolder': { readonly id: string; readonly folder: string };
  'desktop.exportFile': ExportFileResult;
  'desktop.exportRuns': ExportRunsResult;
  'desktop.importFile': ImportResult;
  'desktop.shutdown': ShutdownResult;
}

/**
 * After a crash: the runs the dead engine was running become interrupted, with the crash as
 * their reason. The store's own liveness check (`RunStore.markInterrupted`: a run whose owner
 * pid is gone) runs first and catches every run the dead process owned, including one it started
 * a moment before it died, before the main process heard of it (RunStore.open has usually done
 * this already, with a generic reason); the runs the main process saw running then get the
 * crash as their reason. Returns the runs now interrupted (resumable from their last checkpoint).
 */
export function recoverRuns(store: RunStore, runIds: readonly string[], reason: string): string[] {
  const marked = store.markInterrupted();
  const interrupted = new Set<string>();
  for (const id of runIds) {
    let run: RunRecord;
    try {
      run = store.get(id);
    } catch {
      continue; // deleted meanwhile
    }
    // The main process names only runs it saw running when the engine died: interrupted here
    // means marked by the liveness check just now or when this engine opened the store.
    if (run.status === 'running' || run.status === 'interrupted') store.end(run.id, 'interrupted', reason);
    if (store.get(run.id).status === 'interrupted') interrupted.add(run.id);
  }
  for (const id of marked) interrupted.add(id);
  return [...interrupted];
}

/** A path for `name` inside `dir` (sanitised; refuses anything that would land outside). */
function inside(dir: string, name: string): string {
  const root = resolve(dir);
  const path = join(root, sanitizeName(name));
  if (!path.startsWith(root + sep)) throw new Error(`refusing to write outside ${root}: ${path}`);
  return path;
}

/** File > Export…: every figure (svg, png, pdf), the metrics (csv) and the saved weights of each run, one folder per run. */
export async function exportRuns(store: RunStore, service: Pick<LabService, 'exportFile'>, ids: readonly string[], dir: string): Promise<ExportRunsResult> {
  const runs = ids.length > 0 ? ids.map((id) => store.get(id)) : store.list();
  const files: string[] = [];
  const skipped: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const run of runs) {
    const runDir = inside(dir, run.id);
    mkdirSync(runDir, { recursive: true });
    const write = (file: ExportedFile, name: string) => {
      const path = inside(runDir, name);
      writeFileSync(path, file.bytes);
      files.push(path);
    };
    for (const figure of figureNames) {
      for (const format of ['svg', 'png', 'pdf'] as const) {
        try {
          write(await service.exportFile(run.id, figure, format), `${figure}.${format}`);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          skipped.push(`${run.id}: ${error.message}`);
          break; // the figure is missing in every format
        }
      }
    }
    write(await service.exportFile(run.id, 'metrics', 'csv'), 'metrics.csv');
    let weights = 0;
    for (const label of ['init', 'after-clean', 'final']) {
      const source = join(run.folder, `weights-${label}.safetensors`);
      if (!existsSync(source)) continue;
      const path = inside(runDir, `weights-${label}.safetensors`);
      copyFileSync(source, path);
      files.push(path);
      weights++;
    }
    if (weights === 0) skipped.push(`${run.id}: no saved weights yet (status ${run.status})`);
  }
  return { dir: resolve(dir), files, skipped };
}

/** Files larger than this are refused (a weights file or a dataset of this project is far smaller). */
const importLimitBytes = 2 * 1024 ** 3;

/**
 * File > Import weights / data…: read the file as two-layer weights (safetensors with W) or a
 * dataset (safetensors or npz with x and y), refusing anything else with the reader's own
 * message, and copy it into `<store>/imports/`. Evaluate it with `npm run lab -- eval`.
 */
export function importFile(store: RunStore, path: string, now = new Date()): ImportResult {
  const lower = path.toLowerCase();
  if (!lower.endsWith('.safetensors') && !lower.endsWith('.npz')) {
    throw new ApiError(`${basename(path)}: expected weights (.safetensors) or a dataset (.safetensors or .npz)`, [{ path: 'path', message: 'not a .safetensors or .npz file' }]);
  }
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ApiError(`${path}: this is a folder (or another non-file); expected a weights or dataset file`, [{ path: 'path', message: 'not a file' }]);
    size = stat.size;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ApiError(`${path}: cannot read it: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, [{ path: 'path', message: code ?? 'unreadable' }]);
  }
  if (size > importLimitBytes) throw new ApiError(`${basename(path)} is ${(size / 1024 ** 3).toFixed(1)} GB: larger than any weights or dataset this lab reads`);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(path, 'the file');
  } catch (error) {
    throw new ApiError((error as Error).message, [{ path: 'path', message: 'unreadable' }]);
  }
  let kind: ImportResult['kind'];
  let summary: string;
  const weightsError = (() => {
    if (!lower.endsWith('.safetensors')) return 'not a safetensors file';
    try {
      const w = decodeWeights(bytes, path);
      kind = 'weights';
      const card = w.card;
      summary =
        `two-layer weights: W [${w.width}, ${w.inputDim}] (m = ${w.width} neurons, d = ${w.inputDim})` +
        (card ? `, thresholds ${card.thresholdMode}${card.thresholdMode === 'relative' ? ` (rho ${card.thresholdRatio})` : ''}, ${card.checkpoint} of code ${card.codeVersion}` : ', no model card');
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  })();
  if (weightsError !== null) {
    try {
      const data = decodeDatasetBytes(bytes, path);
      kind = 'data';
      summary =
        `dataset: ${data.n} examples, d = ${data.d}, ${data.labelKind === 'binary' ? '±1 labels' : `${data.classes} classes`}` +
        (data.dictionary ? `, with its dictionary M (D = ${data.atoms ?? '?'}) and teacher` : ', without dictionary (the dictionary instruments will be unavailable)');
    } catch (error) {
      throw new ApiError(`${basename(path)} is neither two-layer weights nor a dataset. As weights: ${weightsError}. As a dataset: ${(error as Error).message}`);
    }
  }
  const folder = join(store.dir, 'imports');
  mkdirSync(folder, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const file = inside(folder, `${stamp}-${basename(path)}`);
  writeFileSync(file, bytes);
  return { kind: kind!, original: path, file, summary: summary! };
}

export interface ControlDependencies {
  readonly store: RunStore;
  readonly service: Pick<LabService, 'call' | 'subscribe' | 'exportFile' | 'close'>;
  readonly queue: { readonly active: readonly string[]; shutdown(): Promise<void> };
  /** Called once desktop.shutdown has answered: close the store and exit. */
  readonly stopped: () => void;
}

/** The control channel's service: desktop.* here, everything else to the LabService. */
export function controlService(deps: ControlDependencies): PortService {
  const { store, service, queue } = deps;
  const handlers: { [M in ControlMethod]: (params: z.output<(typeof controlParams)[M]>) => Promise<ControlResults[M]> | ControlResults[M] } = {
    'desktop.hello': (p) => ({
      pid: process.pid,
      store: store.dir,
      interrupted: p.recover ? recoverRuns(store, p.recover.runIds, p.recover.reason) : [],
    }),
    'desktop.runFolder': (p) => {
      const run = store.get(p.id);
      return { id: run.id, folder: run.folder };
    },
    'desktop.exportFile': async (p) => {
      try {
        const file = await service.exportFile(p.runId, p.target, p.format);
        return { kind: 'file', bytes: file.bytes, contentType: file.contentType, fileName: file.fileName };
      } catch (error) {
        if (error instanceof NotFoundError) return { kind: 'missing', message: error.message };
        if (error instanceof ApiError) return { kind: 'invalid', message: error.message };
        throw error;
      }
    },
    'desktop.exportRuns': (p) => exportRuns(store, service, p.ids, p.dir),
    'desktop.importFile': (p) => importFile(store, p.path),
    'desktop.shutdown': async () => {
      const running = [...queue.active];
      await queue.shutdown();
      service.close();
      const interrupted = running.filter((id) => store.get(id).status === 'interrupted');
      setTimeout(deps.stopped, 100); // let the answer leave first
      return { interrupted };
    },
  };
  return {
    async call(method, params) {
      if (Object.hasOwn(controlParams, method)) {
        const m = method as ControlMethod;
        const parsed = controlParams[m].safeParse(params ?? {});
        if (!parsed.success) throw new ApiError(`Invalid params for ${m}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
        return (handlers[m] as (params: unknown) => unknown)(parsed.data);
      }
      return service.call(method as ApiMethod, params);
    },
    subscribe: (listener: (message: JobStreamMessage) => void) => service.subscribe(listener),
  };
}
