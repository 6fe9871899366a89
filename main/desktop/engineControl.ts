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
 * Any other method is the API contract, passed to the LabService, which validates it. What these
 * do lives in the lab (recovery.ts, runExport.ts, storeFiles.ts), which browser mode and the CLI
 * call too; this file only carries it.
 */
import { z } from 'zod';
import { ApiError, type ApiMethod, type JobStreamMessage } from '../../shared/api.ts';
import { recoverRuns } from '../lab/recovery.ts';
import { exportRunsToFolder, type ExportRunsResult as FolderExport } from '../lab/runExport.ts';
import { NotFoundError, type LabService } from '../lab/service.ts';
import { addStoreFile, type AddedStoreFile } from '../lab/storeFiles.ts';
import type { RunStore } from '../lab/store/runStore.ts';
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

/** File > Export…: what was written where, and what was skipped. */
export type ExportRunsResult = FolderExport;

/** File > Import weights / data…: what the file holds and its copy in the store. */
export type ImportResult = AddedStoreFile;

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
    'desktop.exportRuns': (p) => exportRunsToFolder(store, service, p.ids, p.dir),
    'desktop.importFile': (p) => addStoreFile(store, p.path),
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
