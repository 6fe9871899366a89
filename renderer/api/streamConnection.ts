/**
 * The job stream's connection as a LabConnection reports it, the same for both transports: its
 * state with the listeners that follow it, and the signal after a reconnect (events sent while
 * the stream was down are lost, so the views re-read what they show). The transport says when
 * the state changes and when the stream came back: browser mode when its WebSocket reopens, the
 * desktop app when a restarted engine is ready.
 */
import type { LabConnection, StreamState } from './labApi.ts';

export interface StreamConnection {
  readonly state: StreamState;
  /** Move to `next`; the listeners hear changes only. */
  set(next: StreamState): void;
  /** The stream is back after a drop: the views re-read what they show. */
  reconnected(): void;
  /** The LabConnection members a client hands the views. */
  readonly members: LabConnection;
}

export function streamConnection(initial: StreamState): StreamConnection {
  const stateListeners = new Set<(state: StreamState) => void>();
  const reconnectListeners = new Set<() => void>();
  let state = initial;
  return {
    get state() {
      return state;
    },
    set(next) {
      if (next === state) return;
      state = next;
      // Over a copy: a listener may unsubscribe while it is called.
      for (const l of [...stateListeners]) l(next);
    },
    reconnected() {
      for (const l of [...reconnectListeners]) l();
    },
    members: {
      streamState: () => state,
      onStreamState(listener) {
        stateListeners.add(listener);
        return () => stateListeners.delete(listener);
      },
      onReconnect(listener) {
        reconnectListeners.add(listener);
        return () => reconnectListeners.delete(listener);
      },
    },
  };
}
