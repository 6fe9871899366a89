/**
 * How components reach the engine: one LabApi, provided at the app's root. Browser mode provides
 * the WebSocket client; the desktop shell will provide one built on its preload. Nothing below
 * the root knows which.
 */
import { inject, type InjectionKey } from 'vue';
import type { AddedFile, LabApi } from '../../shared/api.ts';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Optional extras a transport may offer: the stream's state, and a signal after a reconnect. */
export interface LabConnection {
  streamState(): StreamState;
  onStreamState(listener: (state: StreamState) => void): () => void;
  /** Called after the stream came back: events in between were lost, re-read what is shown. */
  onReconnect(listener: () => void): () => void;
}

/**
 * Browser mode's extras (the desktop app has File > Import… and File > Export… instead): upload
 * a weights file or dataset into the store, and the URL of the runs' export archive.
 */
export interface FileTransfer {
  addFile(name: string, bytes: ArrayBuffer): Promise<AddedFile>;
  exportRunsUrl(ids: readonly string[]): string;
}

export const labApiKey: InjectionKey<LabApi & Partial<LabConnection> & Partial<FileTransfer>> = Symbol('LabApi');

export function useLabApi(): LabApi & Partial<LabConnection> & Partial<FileTransfer> {
  const api = inject(labApiKey);
  if (!api) throw new Error('No LabApi provided: mountApp.ts provides one at the root');
  return api;
}
