/**
 * The contract between the desktop app's page and its preload (main/desktop/preloadApi.ts): what
 * the preload exposes as `window.lab`, named functions only, data in and out, never ipcRenderer or
 * any Electron object; the envelopes its calls settle with; and the events the shell sends the
 * page. Both sides import it from here, so neither reaches into the other's room.
 */
/** The renderer's origin in the desktop app (main/desktop/security.ts serves it). */
export const desktopOrigin = 'app://lab';

export type BridgeEnvelope<T = unknown> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: { readonly message: string; readonly problems?: readonly { path: string; message: string }[] } };

/** The native menu's commands (main/desktop/menuCommands.ts; the preload carries them out). */
export type MenuCommand = 'new-experiment' | 'open-run' | 'export' | 'compare' | 'paper';

export type ShellEvent =
  | { readonly type: 'engine'; readonly state: 'starting' | 'ready' | 'restarting' | 'failed'; readonly message?: string; readonly interrupted?: readonly string[] }
  | { readonly type: 'menu'; readonly command: MenuCommand; readonly runId?: string };

export interface ImportSummary {
  readonly kind: 'weights' | 'data';
  readonly original: string;
  readonly file: string;
  readonly summary: string;
}

export interface ExportSummary {
  readonly dir: string;
  readonly files: readonly string[];
  readonly skipped: readonly string[];
}

/** What the preload exposes as `window.lab`: named functions, nothing else. */
export interface DesktopBridge {
  /** An API call; settles with the contract's envelope (never rejects). */
  call(method: string, params: unknown): Promise<BridgeEnvelope>;
  /** The job stream (JobStreamMessages, checked here). */
  subscribe(listener: (message: unknown) => void): () => void;
  onShellEvent(listener: (event: ShellEvent) => void): () => void;
  openRunFolder(runId: string): Promise<BridgeEnvelope<null>>;
  /** The native open dialog; null when the user cancelled. */
  chooseImportFile(): Promise<BridgeEnvelope<ImportSummary | null>>;
  /** The native folder dialog, then every figure, the metrics and the weights of the runs (all runs when empty); null when cancelled. */
  exportRuns(runIds: readonly string[]): Promise<BridgeEnvelope<ExportSummary | null>>;
}

/** Every function of the bridge, by name: the preload exposes exactly these (tested). */
export const desktopBridgeFunctions = ['call', 'subscribe', 'onShellEvent', 'openRunFolder', 'chooseImportFile', 'exportRuns'] as const satisfies readonly (keyof DesktopBridge)[];
type Unlisted = Exclude<keyof DesktopBridge, (typeof desktopBridgeFunctions)[number]>;
/** Compile-time check that the list above names every function of DesktopBridge. */
export const bridgeListComplete: [Unlisted] extends [never] ? true : never = true;
