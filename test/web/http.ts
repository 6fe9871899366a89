/**
 * Raw HTTP and WebSocket clients for the browser-mode tests. Raw, because the tests must send
 * what a browser never would (a foreign Host header, `/../` left unnormalised) and see exactly
 * what comes back.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

/** One request to 127.0.0.1:port, with the path sent exactly as given. */
export function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POST /api/call with a JSON body; `auth` is the header set (Bearer or cookie) to send. */
export async function call(port: number, method: string, params: unknown, auth: Record<string, string>): Promise<{ status: number; envelope: { ok: boolean; result?: unknown; error?: { message: string; problems?: { path: string; message: string }[] } } }> {
  const res = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify({ method, params }) });
  return { status: res.status, envelope: JSON.parse(res.text) };
}

/** Open a WebSocket, resolving with it once open, or with the HTTP status the upgrade was refused with. */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ socket: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}
