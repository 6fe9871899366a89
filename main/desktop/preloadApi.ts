/**
 * What the preload exposes to the page as `window.lab` (the `DesktopBridge` of
 * shared/desktopBridge.ts): named functions only, never ipcRenderer, a port or any other
 * Electron object. The page cannot name an IPC channel: each function sends on one fixed
 * channel, and the main process checks the sender and the arguments again (ipc.ts).
 *
 * The API traffic goes over a MessagePort that the main process hands over on `lab:port` (one
 * end of a channel whose other end is in the engine process). The port stays here, in the
 * isolated world; the page gets envelopes and stream messages, copied by the context bridge.
 * When the engine restarts, the main process sends a new port: calls waiting for an answer from
 * the old engine settle with an error, and the job stream continues on the new port.
 *
 * The native menu's commands arrive here as shell events and are carried out here (the preload
 * shares the page's location): navigation to a view, or the export of the runs in view
 * (menuCommands.ts). The page hears them too, through onShellEvent.
 *
 * Dependencies are injected (contextBridge, ipcRenderer), so this is tested without Electron;
 * preload.ts is the three-line entry that passes the real ones.
 */
import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron';
import type { BridgeEnvelope, DesktopBridge, ShellEvent } from '../../shared/desktopBridge.ts';
import { ipcChannels } from './ipc.ts';
import { menuAction, type MenuCommand } from './menuCommands.ts';
import { connectPort, domPortEndpoint, type DomPortLike, type PortClient } from './portProtocol.ts';

export const bridgeKey = 'lab';

export type IpcRendererLike = Pick<IpcRenderer, 'on' | 'send' | 'invoke'>;

export interface BridgeOptions {
  /** How long a call waits for the engine to connect before it answers an error (default 60 s). */
  readonly connectTimeoutMs?: number;
  /** The page's location (default: the window's), where menu commands navigate. */
  readonly location?: { hash: string };
}

const failure = (message: string): BridgeEnvelope<never> => ({ ok: false, error: { message } });

/** The bridge object (plain functions, closed over the port and the IPC channels). */
export function createLabBridge(ipc: IpcRendererLike, options: BridgeOptions = {}): DesktopBridge {
  const connectTimeoutMs = options.connectTimeoutMs ?? 60_000;
  let client: PortClient | null = null;
  let waiting: ((client: PortClient) => void)[] = [];
  const streamListeners = new Set<(message: unknown) => void>();
  let stopStream: (() => void) | null = null;
  const shellListeners = new Set<(event: ShellEvent) => void>();
  let lastEngineEvent: ShellEvent | null = null;

  const invoke = <T>(channel: string, ...args: unknown[]): Promise<BridgeEnvelope<T>> =>
    ipc.invoke(channel, ...args).then(
      (answer: unknown) => answer as BridgeEnvelope<T>,
      (error: unknown) => failure(error instanceof Error ? error.message : String(error)),
    );

  const deliver = (message: unknown) => {
    for (const listener of [...streamListeners]) {
      try {
        listener(message);
      } catch {
        // the page's listener threw: its problem, not the stream's
      }
    }
  };

  ipc.on(ipcChannels.port, (event: IpcRendererEvent) => {
    const port = event.ports?.[0] as unknown as DomPortLike | undefined;
    if (!port) return;
    client?.close('The engine restarted before answering; try again');
    stopStream = null;
    client = connectPort(domPortEndpoint(port));
    if (streamListeners.size > 0) stopStream = client.subscribe(deliver);
    for (const resolve of waiting.splice(0)) resolve(client);
  });

  const location = options.location ?? (globalThis as { location?: { hash: string } }).location;
  const runMenuCommand = (command: MenuCommand, runId: string | undefined) => {
    const action = menuAction(command, location?.hash ?? '', runId);
    if (!action) return;
    if ('navigate' in action) {
      if (location) location.hash = action.navigate;
    } else {
      void invoke(ipcChannels.exportRuns, [...action.exportRuns]); // the main process shows the outcome
    }
  };

  ipc.on(ipcChannels.shellEvent, (_event: IpcRendererEvent, payload: unknown) => {
    if (typeof payload !== 'object' || payload === null) return;
    const event = payload as ShellEvent;
    if (event.type === 'engine') lastEngineEvent = event;
    if (event.type === 'menu') runMenuCommand(event.command, event.runId);
    for (const listener of [...shellListeners]) listener(event);
  });

  // Ask for the first port (and again after every page load: each load runs the preload).
  ipc.send(ipcChannels.connect);

  const connected = (): Promise<PortClient | null> => {
    if (client && !client.closed) return Promise.resolve(client);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting = waiting.filter((w) => w !== ready);
        resolve(null);
      }, connectTimeoutMs);
      const ready = (c: PortClient) => {
        clearTimeout(timer);
        resolve(c);
      };
      waiting.push(ready);
    });
  };

  const bridge: DesktopBridge = {
    async call(method, params) {
      if (typeof method !== 'string') return failure('A method name must be a string');
      const c = await connected();
      if (!c) return failure(`The compute engine did not connect within ${Math.round(connectTimeoutMs / 1000)} s (it may have failed to start; see Help > About)`);
      return c.request(method, params);
    },
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('subscribe needs a function');
      streamListeners.add(listener);
      if (streamListeners.size === 1 && client && !client.closed) stopStream = client.subscribe(deliver);
      return () => {
        streamListeners.delete(listener);
        if (streamListeners.size === 0 && stopStream) {
          stopStream();
          stopStream = null;
        }
      };
    },
    onShellEvent(listener) {
      if (typeof listener !== 'function') throw new TypeError('onShellEvent needs a function');
      shellListeners.add(listener);
      // A page that subscribes late still learns the engine's state.
      if (lastEngineEvent) listener(lastEngineEvent);
      return () => {
        shellListeners.delete(listener);
      };
    },
    openRunFolder: (runId) => (typeof runId === 'string' ? invoke<null>(ipcChannels.openRunFolder, runId) : Promise.resolve(failure('A run id must be a string'))),
    chooseImportFile: () => invoke(ipcChannels.importFile),
    exportRuns: (runIds) => (Array.isArray(runIds) ? invoke(ipcChannels.exportRuns, [...runIds]) : Promise.resolve(failure('Run ids must be a list'))),
  };
  return bridge;
}

/** Expose the bridge as `window.lab`. */
export function exposeLab(contextBridge: Pick<ContextBridge, 'exposeInMainWorld'>, ipc: IpcRendererLike, options: BridgeOptions = {}): DesktopBridge {
  const bridge = createLabBridge(ipc, options);
  contextBridge.exposeInMainWorld(bridgeKey, bridge);
  return bridge;
}
