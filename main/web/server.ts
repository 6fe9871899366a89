/**
 * Browser mode's server: the renderer and the lab's API over HTTP + WebSocket, on 127.0.0.1
 * only, behind a token made at each start (see guard.ts for why both the token and the
 * Host/Origin checks are needed).
 *
 *   GET  /?token=T                       the app; a valid token is kept as this port's cookie
 *   GET  /<file>                         the built renderer (cookie, token or Bearer)
 *   POST /api/call                       { method, params } → the contract's envelope (Bearer or cookie)
 *   GET  /api/export/<run>/<name>.<ext>  a figure or the metrics table, as a download
 *   POST /api/files?name=N               a weights file or dataset's bytes, added to the store (fileRoutes.ts)
 *   GET  /api/export-runs?id=A&id=B      the runs' figures, metrics and weights, as a zip download
 *   WS   /api/events                     JobStreamMessages, batched by the service
 *
 * Every request and upgrade first passes the Host/Origin check (403), then the token (401).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserRoutes } from '../../shared/api.ts';
import type { JobQueue } from '../lab/jobs.ts';
import { LabService } from '../lab/service.ts';
import type { RunStore } from '../lab/store/runStore.ts';
import { handleApiCall, sendEnvelope } from './apiCall.ts';
import { attachEventSocket } from './eventSocket.ts';
import { handleExport } from './exportRoute.ts';
import { handleExportRuns, handleUpload } from './fileRoutes.ts';
import { AccessGuard, newToken } from './guard.ts';
import { setSecurityHeaders } from './headers.ts';
import { unauthorisedPage } from './pages.ts';
import { serveStatic } from './staticFiles.ts';

/** Loopback only: the server must never be reachable from another machine. */
export const serverHost = '127.0.0.1';

export type ServerOptions = ({ readonly service: LabService } | { readonly store: RunStore; readonly queue: JobQueue }) & {
  /** The TCP port; 0 (the default) takes any free one. */
  readonly port?: number;
  /** The built renderer: a folder with index.html and its assets. */
  readonly rendererDir: string;
  /** Shown in place of the app when rendererDir has no index.html. */
  readonly notBuiltReason?: string;
};

export interface RunningServer {
  /** The URL to open: `http://127.0.0.1:PORT/?token=TOKEN`. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  readonly server: Server;
  readonly service: LabService;
  /** Close the WebSockets and every connection, stop listening; the store and queue stay open. */
  close(): Promise<void>;
}

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  response.end(`${text}\n`);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${serverHost} is in use: choose another with --port N, or --port 0 for any free port`)
          : new Error(`Cannot listen on ${serverHost}:${port}: ${error.message}`),
      );
    };
    server.once('error', onError);
    server.listen(port, serverHost, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const ownService = !('service' in options);
  const service = 'service' in options ? options.service : new LabService(options.store, options.queue);
  const notBuiltReason = options.notBuiltReason ?? `There is no index.html in ${options.rendererDir}.`;
  const token = newToken();
  let guard: AccessGuard | null = null;

  const route = async (request: IncomingMessage, response: ServerResponse, access: AccessGuard): Promise<void> => {
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const foreign = access.foreignOrigin(request);
    if (foreign) {
      request.resume();
      if (rawPath === browserRoutes.call) return sendEnvelope(response, 403, { ok: false, error: { message: `Forbidden: ${foreign}` } });
      return sendText(response, 403, `Forbidden: ${foreign}`);
    }
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const method = request.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';

    if (rawPath.startsWith('/api/')) {
      if (rawPath === browserRoutes.call) {
        if (method !== 'POST') return sendText(response, 405, `${browserRoutes.call} takes POST`, { Allow: 'POST' });
        if (!access.headerOrCookieValid(request)) {
          request.resume();
          return sendEnvelope(response, 401, { ok: false, error: { message: 'Unauthorized: send Authorization: Bearer TOKEN, or open the link printed in the terminal' } });
        }
        return handleApiCall(request, response, service);
      }
      if (rawPath.startsWith(`${browserRoutes.export}/`)) {
        if (!readOnly) return sendText(response, 405, `${browserRoutes.export} takes GET`, { Allow: 'GET, HEAD' });
        if (!access.headerOrCookieValid(request) && !access.matches(query.get('token'))) return sendText(response, 401, 'Unauthorized: open the link printed in the terminal');
        return handleExport(request, response, service, rawPath);
      }
      if (rawPath === browserRoutes.files) {
        if (method !== 'POST') return sendText(response, 405, `${browserRoutes.files} takes POST`, { Allow: 'POST' });
        if (!access.headerOrCookieValid(request)) {
          request.resume();
          return sendEnvelope(response, 401, { ok: false, error: { message: 'Unauthorized: send Authorization: Bearer TOKEN, or open the link printed in the terminal' } });
        }
        return handleUpload(request, response, service, query);
      }
      if (rawPath === browserRoutes.exportRuns) {
        if (!readOnly) return sendText(response, 405, `${browserRoutes.exportRuns} takes GET`, { Allow: 'GET, HEAD' });
        if (!access.headerOrCookieValid(request) && !access.matches(query.get('token'))) return sendText(response, 401, 'Unauthorized: open the link printed in the terminal');
        return handleExportRuns(request, response, service, query);
      }
      if (rawPath === browserRoutes.events) return sendText(response, 426, `${browserRoutes.events} is a WebSocket`, { Upgrade: 'websocket' });
      return sendText(response, 404, `No API route ${rawPath}`);
    }

    if (!readOnly) return sendText(response, 405, 'The app takes GET', { Allow: 'GET, HEAD' });
    const viaQuery = access.matches(query.get('token'));
    if (!viaQuery && !access.headerOrCookieValid(request)) {
      response.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(method === 'HEAD' ? undefined : unauthorisedPage());
      return;
    }
    if (viaQuery) response.setHeader('Set-Cookie', access.cookie());
    serveStatic(request, response, options.rendererDir, rawPath, notBuiltReason);
  };

  const server = createServer((request, response) => {
    if (!guard) return response.destroy(); // not listening yet: cannot happen, but never serve unguarded
    setSecurityHeaders(response, guard.port);
    route(request, response, guard).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else sendText(response, 500, `Internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  const port = await listen(server, options.port ?? 0);
  guard = new AccessGuard(token, port);
  const events = attachEventSocket(server, guard, service);

  return {
    url: `http://${serverHost}:${port}/?token=${token}`,
    token,
    port,
    server,
    service,
    async close() {
      await events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownService) service.close();
    },
  };
}
