/**
 * The engine's wire protocol over a message port: the one API contract (shared/api.ts) carried
 * by structured clone instead of HTTP. It is pure (no electron, no Node built-ins) so that the
 * same code runs in the engine process, the main process and the sandboxed preload, and so that
 * it is tested with a Node `MessageChannel` without Electron.
 *
 *   client ──{ type: 'call', id, method, params }──▶ server
 *   client ◀─{ type: 'result', id, ok: true, result } | { type: 'result', id, ok: false, error }─ server
 *   client ──{ type: 'subscribe' } / { type: 'unsubscribe' }──▶ server
 *   client ◀─{ type: 'stream', message: JobStreamMessage }─ server   (only while subscribed)
 *
 * The server trusts nothing it receives: a message that is not one of the above is dropped, and
 * the params go to the service, which validates them with the contract's schemas. The client
 * never rejects: every call settles with an envelope, `{ ok: false, error }` when the engine
 * answered an error, went away, or the call could not be sent. (Envelopes rather than rejected
 * promises because an Error's fields do not survive Electron's context bridge.)
 */
import type { JobStreamMessage } from '../../shared/api.ts';

/** One end of a channel: a MessagePort of any flavour, or a multiplexed channel over an IPC pipe. */
export interface Endpoint {
  postMessage(message: unknown): void;
  /** Listen to incoming messages (already unwrapped from their MessageEvent); returns the unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Listen for the other end going away, where the transport can tell. */
  onClose?(listener: () => void): () => void;
  close?(): void;
}

export interface WireProblem {
  readonly path: string;
  readonly message: string;
}

export interface WireError {
  readonly message: string;
  readonly problems?: readonly WireProblem[];
}

/** The answer to a call: the contract's ApiResponse shape, as shared/api.ts's apiResponseSchema reads it. */
export type Envelope<T = unknown> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: WireError };

export type ClientMessage =
  | { readonly type: 'call'; readonly id: number; readonly method: string; readonly params: unknown }
  | { readonly type: 'subscribe' }
  | { readonly type: 'unsubscribe' };

export type ServerMessage =
  | ({ readonly type: 'result'; readonly id: number } & Envelope)
  | { readonly type: 'stream'; readonly message: JobStreamMessage };

/** What a server serves: request/response calls, and optionally the job stream. */
export interface PortService {
  call(method: string, params: unknown): Promise<unknown>;
  subscribe?(listener: (message: JobStreamMessage) => void): () => void;
}

/** Method names are short identifiers ('runs.start', 'desktop.hello'). */
const methodPattern = /^[A-Za-z][A-Za-z0-9.-]{0,63}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An error as it crosses the wire: its message, and the problems an ApiError names. */
export function toWireError(error: unknown): WireError {
  if (isRecord(error) || error instanceof Error) {
    const record = error as unknown as Record<string, unknown>;
    const message = typeof record.message === 'string' && record.message.length > 0 ? record.message : String(error);
    const problems = Array.isArray(record.problems)
      ? (record.problems as unknown[]).filter(isRecord).map((p) => ({ path: String(p.path ?? ''), message: String(p.message ?? '') }))
      : undefined;
    return problems && problems.length > 0 ? { message, problems } : { message };
  }
  return { message: String(error) };
}

/**
 * Serve `service` on `endpoint`: answer calls, forward the job stream while the client is
 * subscribed. Returns `close()`, which stops listening and unsubscribes (also run when the
 * endpoint reports that the other side went away).
 */
export function servePort(endpoint: Endpoint, service: PortService, options: { onDropped?: (reason: string) => void } = {}): { close(): void } {
  let unsubscribeStream: (() => void) | null = null;
  let closed = false;
  const dropped = (reason: string) => options.onDropped?.(reason);

  const send = (message: ServerMessage): boolean => {
    if (closed) return false;
    try {
      endpoint.postMessage(message);
      return true;
    } catch (error) {
      dropped(`could not send a ${message.type} message: ${toWireError(error).message}`);
      return false;
    }
  };

  const answer = (id: number, envelope: Envelope) => {
    if (send({ type: 'result', id, ...envelope })) return;
    // A result that cannot be cloned still gets an answer, so the caller never waits forever.
    if (envelope.ok) send({ type: 'result', id, ok: false, error: { message: 'The engine could not send its answer (the result cannot be copied across the port)' } });
  };

  const stopListening = endpoint.onMessage((raw) => {
    if (!isRecord(raw)) return dropped('a message that is not an object');
    switch (raw.type) {
      case 'call': {
        const { id, method } = raw;
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return dropped('a call without a valid id');
        if (typeof method !== 'string' || !methodPattern.test(method)) {
          return answer(id, { ok: false, error: { message: `Not a method name: ${JSON.stringify(String(method)).slice(0, 80)}` } });
        }
        Promise.resolve()
          .then(() => service.call(method, raw.params))
          .then(
            (result) => answer(id, { ok: true, result }),
            (error: unknown) => answer(id, { ok: false, error: toWireError(error) }),
          );
        return;
      }
      case 'subscribe':
        if (!unsubscribeStream && service.subscribe) unsubscribeStream = service.subscribe((message) => void send({ type: 'stream', message }));
        return;
      case 'unsubscribe':
        unsubscribeStream?.();
        unsubscribeStream = null;
        return;
      default:
        return dropped(`an unknown message type ${JSON.stringify(String(raw.type)).slice(0, 40)}`);
    }
  });

  const close = () => {
    if (closed) return;
    closed = true;
    stopListening();
    stopClose?.();
    unsubscribeStream?.();
    unsubscribeStream = null;
  };
  const stopClose = endpoint.onClose?.(close);
  return { close };
}

export interface PortClient {
  /** Call a method; settles with the envelope, never rejects. */
  request<T = unknown>(method: string, params: unknown, options?: { timeoutMs?: number }): Promise<Envelope<T>>;
  /** Listen to the job stream (the server is asked to send it while anyone listens). */
  subscribe(listener: (message: JobStreamMessage) => void): () => void;
  /** Stop: every pending call settles with `{ ok: false, error: { message: reason } }`. */
  close(reason?: string): void;
  readonly closed: boolean;
}

/** The client end of the protocol over `endpoint`. */
export function connectPort(endpoint: Endpoint, options: { onDropped?: (reason: string) => void } = {}): PortClient {
  const pending = new Map<number, { settle: (envelope: Envelope) => void; timer: ReturnType<typeof setTimeout> | null }>();
  const listeners = new Set<(message: JobStreamMessage) => void>();
  let nextId = 1;
  let closed = false;
  let closeReason = 'The connection to the engine is closed';

  const settle = (id: number, envelope: Envelope) => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    entry.settle(envelope);
  };

  const post = (message: ClientMessage): string | null => {
    try {
      endpoint.postMessage(message);
      return null;
    } catch (error) {
      return toWireError(error).message;
    }
  };

  const stopListening = endpoint.onMessage((raw) => {
    if (!isRecord(raw)) return options.onDropped?.('a message that is not an object');
    if (raw.type === 'result' && typeof raw.id === 'number') {
      if (raw.ok === true) settle(raw.id, { ok: true, result: raw.result });
      else settle(raw.id, { ok: false, error: isRecord(raw.error) ? toWireError(raw.error) : { message: 'The engine answered an error without a message' } });
      return;
    }
    if (raw.type === 'stream' && isRecord(raw.message)) {
      for (const listener of [...listeners]) {
        try {
          listener(raw.message as unknown as JobStreamMessage);
        } catch {
          // A listener's failure is its own; the others still hear the stream.
        }
      }
      return;
    }
    options.onDropped?.('a message outside the protocol');
  });

  const client: PortClient = {
    get closed() {
      return closed;
    },
    request<T>(method: string, params: unknown, requestOptions: { timeoutMs?: number } = {}): Promise<Envelope<T>> {
      if (closed) return Promise.resolve({ ok: false, error: { message: closeReason } });
      const id = nextId++;
      return new Promise<Envelope<T>>((resolve) => {
        const timer =
          requestOptions.timeoutMs !== undefined
            ? setTimeout(() => settle(id, { ok: false, error: { message: `The engine did not answer ${method} within ${Math.round(requestOptions.timeoutMs! / 1000)} s` } }), requestOptions.timeoutMs)
            : null;
        pending.set(id, { settle: resolve as (envelope: Envelope) => void, timer });
        const failure = post({ type: 'call', id, method, params });
        if (failure) settle(id, { ok: false, error: { message: `Could not send ${method} to the engine: ${failure}` } });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && !closed) post({ type: 'subscribe' });
      return () => {
        if (!listeners.delete(listener)) return;
        if (listeners.size === 0 && !closed) post({ type: 'unsubscribe' });
      };
    },
    close(reason = closeReason) {
      if (closed) return;
      closed = true;
      closeReason = reason;
      stopListening();
      stopClose?.();
      for (const id of [...pending.keys()]) settle(id, { ok: false, error: { message: reason } });
      listeners.clear();
    },
  };
  const stopClose = endpoint.onClose?.(() => client.close('The engine went away before answering'));
  return client;
}

// --- endpoints over the different kinds of port ----------------------------------------------

/** A DOM MessagePort (the preload's), or anything with addEventListener('message') + start(). */
export interface DomPortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

export function domPortEndpoint(port: DomPortLike): Endpoint {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage(listener) {
      const handler = (event: { data: unknown }) => listener(event.data);
      port.addEventListener('message', handler);
      port.start();
      return () => port.removeEventListener('message', handler);
    },
    close: () => port.close(),
  };
}

/** Electron's MessagePortMain (main and utility processes): EventEmitter with MessageEvent { data, ports }. */
export interface MainPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

export function mainPortEndpoint(port: MainPortLike): Endpoint {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage(listener) {
      const handler = (event: { data: unknown }) => listener(event.data);
      port.on('message', handler);
      port.start();
      return () => port.off('message', handler);
    },
    onClose(listener) {
      port.on('close', listener);
      return () => port.off('close', listener);
    },
    close: () => port.close(),
  };
}

/** Node's worker_threads MessagePort: EventEmitter whose 'message' carries the data itself. */
export interface NodePortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (data: unknown) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  close(): void;
}

export function nodePortEndpoint(port: NodePortLike): Endpoint {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage(listener) {
      port.on('message', listener);
      return () => port.off('message', listener);
    },
    onClose(listener) {
      port.on('close', listener);
      return () => port.off('close', listener);
    },
    close: () => port.close(),
  };
}
