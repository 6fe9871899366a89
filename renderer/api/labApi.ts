/**
 * How components reach the engine: one LabApi, provided at the app's root. Browser mode provides
 * the WebSocket client; the desktop shell will provide one built on its preload. Nothing below
 * the root knows which.
 */
import { inject, type InjectionKey } from 'vue';
import type { LabApi } from '../../shared/api.ts';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Optional extras a transport may offer: the stream's state, and a signal after a reconnect. */
export interface LabConnection {
  streamState(): StreamState;
  onStreamState(listener: (state: StreamState) => void): () => void;
  /** Called after the stream came back: events in between were lost, re-read what is shown. */
  onReconnect(listener: () => void): () => void;
}

export const labApiKey: InjectionKey<LabApi & Partial<LabConnection>> = Symbol('LabApi');

export function useLabApi(): LabApi & Partial<LabConnection> {
  const api = inject(labApiKey);
  if (!api) throw new Error('No LabApi provided: mountApp.ts provides one at the root');
  return api;
}
