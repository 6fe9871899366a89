/**
 * LabApi over the desktop shell's transport: the object the preload exposes as `window.lab`
 * (main/desktop/preloadApi.ts), whose calls and job stream go over a MessagePort straight to the
 * engine process. One contract, two transports: browserClient.ts is the other.
 *
 * The contract between the page and the preload (`DesktopBridge`) lives in
 * shared/desktopBridge.ts. Everything that arrives is checked with the API contract's own schemas,
 * as in browser mode.
 *
 * The shell also sends events the page may show (`desktop.onShellEvent`): the engine's state
 * (starting, ready, restarting after a crash, failed) and the native menu's commands, which the
 * preload has already carried out (navigation, the export dialog). The client turns a crash into
 * what a LabConnection says: the stream is 'reconnecting', the runs the crash interrupted arrive
 * as `interrupted` status messages, and `onReconnect` fires when the new engine is up, so the
 * views re-read what they show.
 */
import {
  ApiError,
  exportPath,
  jobStreamMessageSchema,
  type ApiMethod,
  type ApiParams,
  type ApiResults,
  type JobStreamMessage,
  type LabApi,
} from '../../shared/api.ts';
import { desktopBridgeFunctions, desktopOrigin, type DesktopBridge, type ExportSummary, type ImportSummary, type ShellEvent } from '../../shared/desktopBridge.ts';
import { envelopeResult } from './apiEnvelope.ts';
import type { LabConnection, StreamState } from './labApi.ts';
import { streamConnection } from './streamConnection.ts';

/** How each member of the LabApi contract is carried in the desktop app: over the bridge, or computed here. */
export const labApiTransport: { readonly [K in keyof Required<LabApi>]: 'bridge' | 'local' } = {
  call: 'bridge',
  subscribe: 'bridge',
  exportUrl: 'local',
};

/** The exposed bridge, when this page runs in the desktop app. */
export function desktopBridge(scope: object = globalThis): DesktopBridge | null {
  const candidate = (scope as { lab?: unknown }).lab;
  if (typeof candidate !== 'object' || candidate === null) return null;
  return desktopBridgeFunctions.every((name) => typeof (candidate as Record<string, unknown>)[name] === 'function') ? (candidate as DesktopBridge) : null;
}

export interface DesktopExtras {
  readonly desktop: {
    openRunFolder(runId: string): Promise<void>;
    importFile(): Promise<ImportSummary | null>;
    exportRuns(runIds: readonly string[]): Promise<ExportSummary | null>;
    onShellEvent(listener: (event: ShellEvent) => void): () => void;
  };
}

export interface DesktopClientOptions {
  readonly warn?: (message: string, detail?: unknown) => void;
}

const unwrap = <T>(envelope: unknown, what: string): T => envelopeResult<T>(envelope, 'The engine', what);

/** The desktop app's LabApi (plus the stream's state and the shell's extras). */
export function createDesktopClient(bridge: DesktopBridge, options: DesktopClientOptions = {}): LabApi & LabConnection & DesktopExtras {
  const warn = options.warn ?? ((message: string, detail?: unknown) => console.error(message, detail));

  const listeners = new Set<(message: JobStreamMessage) => void>();
  const connection = streamConnection('connecting');
  const shellListeners = new Set<(event: ShellEvent) => void>();
  let unsubscribeBridge: (() => void) | null = null;
  let crashMessage = '';

  const setState = (next: StreamState) => {
    const previous = connection.state;
    connection.set(next);
    if (next === 'open' && previous === 'reconnecting') connection.reconnected();
  };

  const deliver = (message: JobStreamMessage) => {
    for (const l of [...listeners]) {
      try {
        l(message);
      } catch (error) {
        warn('job stream: a listener failed', error);
      }
    }
  };

  const onEngine = (event: ShellEvent & { type: 'engine' }) => {
    if (event.state === 'restarting') crashMessage = event.message ?? 'the engine stopped unexpectedly';
    if (event.state === 'ready') {
      // Runs a crash interrupted: tell the views as the engine would have, had it lived.
      for (const runId of event.interrupted ?? []) deliver({ type: 'status', runId, status: 'interrupted', error: crashMessage || 'the engine stopped unexpectedly' });
    }
    setState(event.state === 'ready' ? 'open' : event.state === 'restarting' ? 'reconnecting' : event.state === 'failed' ? 'closed' : connection.state === 'open' ? 'reconnecting' : 'connecting');
  };

  const exportRuns = async (runIds: readonly string[]) => unwrap<ExportSummary | null>(await bridge.exportRuns([...runIds]), 'the export');

  bridge.onShellEvent((event) => {
    if (event.type === 'engine') onEngine(event);
    for (const l of [...shellListeners]) l(event);
  });

  async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
    let envelope: unknown;
    try {
      envelope = await bridge.call(method, params);
    } catch (error) {
      throw new ApiError(`The desktop shell could not pass ${method} to the engine (${(error as Error).message}).`);
    }
    return unwrap<ApiResults[M]>(envelope, method);
  }

  return {
    call,
    subscribe(listener) {
      listeners.add(listener);
      unsubscribeBridge ??= bridge.subscribe((raw) => {
        const checked = jobStreamMessageSchema.safeParse(raw);
        if (!checked.success) return warn('job stream: a message outside the contract was dropped', checked.error.issues);
        deliver(checked.data as JobStreamMessage);
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && unsubscribeBridge) {
          unsubscribeBridge();
          unsubscribeBridge = null;
        }
      };
    },
    exportUrl(runId, figure, format) {
      return `${desktopOrigin}${exportPath(runId, figure, format)}`;
    },
    ...connection.members,
    desktop: {
      async openRunFolder(runId) {
        unwrap<null>(await bridge.openRunFolder(runId), 'show the run folder');
      },
      async importFile() {
        return unwrap<ImportSummary | null>(await bridge.chooseImportFile(), 'the import');
      },
      exportRuns,
      onShellEvent(listener) {
        shellListeners.add(listener);
        return () => shellListeners.delete(listener);
      },
    },
  };
}
