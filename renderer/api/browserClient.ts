/**
 * LabApi over browser mode's transport (main/web): same-origin HTTP calls, a WebSocket for the
 * job stream, and download URLs for exports. The page was opened at `/?token=T`; the server
 * answered with an HttpOnly cookie carrying the token, so every request here is authorised by
 * that cookie and the token never has to be read or stored by script.
 *
 * Every envelope that arrives is checked with the contract's own schemas (shared/api.ts): a
 * malformed answer is an error here, never a half-read object deeper in the UI.
 */
import {
  ApiError,
  browserRoutes,
  exportPath,
  exportRunsPath,
  jobStreamMessageSchema,
  uploadLimitBytes,
  type AddedFile,
  type ApiMethod,
  type ApiParams,
  type ApiResults,
  type JobStreamMessage,
  type LabApi,
} from '../../shared/api.ts';
import { envelopeResult } from './apiEnvelope.ts';
import type { FileTransfer, LabConnection } from './labApi.ts';
import { streamConnection } from './streamConnection.ts';

export interface BrowserClientOptions {
  /** Origin and path prefix of the server (default: this page's origin). */
  readonly base?: string;
  /** First delay before reconnecting a dropped stream; doubles up to `maxReconnectMs`. */
  readonly reconnectMs?: number;
  readonly maxReconnectMs?: number;
}

/** The browser-mode LabApi, plus the stream's connection state (for the header). */
export function createBrowserClient(options: BrowserClientOptions = {}): LabApi & LabConnection & FileTransfer {
  const base = (options.base ?? window.location.origin).replace(/\/$/, '');
  const firstDelay = options.reconnectMs ?? 500;
  const maxDelay = options.maxReconnectMs ?? 8000;

  const listeners = new Set<(message: JobStreamMessage) => void>();
  const connection = streamConnection('closed');
  let socket: WebSocket | null = null;
  let delay = firstDelay;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let everOpened = false;

  const streamUrl = () => {
    const url = new URL(`${base}${browserRoutes.events}`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  };

  const connect = () => {
    timer = null;
    if (listeners.size === 0 || socket) return;
    connection.set('connecting');
    const ws = new WebSocket(streamUrl());
    socket = ws;
    ws.onopen = () => {
      delay = firstDelay;
      connection.set('open');
      if (everOpened) connection.reconnected();
      everOpened = true;
    };
    ws.onmessage = (event) => {
      let data: unknown;
      try {
        data = JSON.parse(typeof event.data === 'string' ? event.data : '');
      } catch {
        console.error('job stream: a message that is not JSON was dropped');
        return;
      }
      const checked = jobStreamMessageSchema.safeParse(data);
      if (!checked.success) {
        console.error('job stream: a message outside the contract was dropped', checked.error.issues);
        return;
      }
      const message = checked.data as JobStreamMessage;
      for (const l of listeners) l(message);
    };
    ws.onclose = () => {
      socket = null;
      if (listeners.size === 0) {
        connection.set('closed');
        return;
      }
      // Reconnect with exponential backoff while anyone is listening (a server restart, a sleep).
      connection.set('reconnecting');
      timer = setTimeout(connect, delay);
      delay = Math.min(maxDelay, delay * 2);
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  };

  /** The result of the server's answer to `what`, or an ApiError with its problems. */
  async function answer<T>(response: Response, what: string): Promise<T> {
    if (response.status === 401 || response.status === 403) {
      throw new ApiError('Not authorised: open the address with the token that the server printed when it started.');
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(`The lab server answered ${what} with HTTP ${response.status} and no JSON.`);
    }
    return envelopeResult<T>(body, 'The lab server', what);
  }

  async function post(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${base}${path}`, { method: 'POST', credentials: 'same-origin', ...init });
    } catch (error) {
      throw new ApiError(`The lab server cannot be reached (${(error as Error).message}). Is it still running?`);
    }
  }

  async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
    const response = await post(browserRoutes.call, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, params }) });
    return answer<ApiResults[M]>(response, method);
  }

  async function addFile(name: string, bytes: ArrayBuffer): Promise<AddedFile> {
    if (bytes.byteLength > uploadLimitBytes) throw new ApiError(`${name} is ${(bytes.byteLength / 1024 ** 2).toFixed(0)} MB: the lab takes files up to ${uploadLimitBytes / 1024 ** 2} MB`);
    const response = await post(`${browserRoutes.files}?name=${encodeURIComponent(name)}`, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    return answer<AddedFile>(response, `the upload of ${name}`);
  }

  return {
    call,
    addFile,
    exportRunsUrl: (ids) => `${base}${exportRunsPath(ids)}`,
    subscribe(listener) {
      listeners.add(listener);
      if (!socket && !timer) connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          if (timer) clearTimeout(timer);
          timer = null;
          socket?.close();
        }
      };
    },
    exportUrl(runId, target, format) {
      return `${base}${exportPath(runId, target, target === 'metrics' ? 'csv' : format)}`;
    },
    ...connection.members,
  };
}
