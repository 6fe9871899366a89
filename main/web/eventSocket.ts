/**
 * The event stream over a WebSocket (`/api/events`): each JobStreamMessage the service emits
 * (already batched there) goes to every connected page as one JSON text frame. Upgrades go
 * through the same checks as HTTP requests, before the handshake: a foreign Host or Origin gets
 * 403, a missing token 401 (browsers cannot set headers on a WebSocket, so the cookie or a
 * `?token=` carries it), and nothing is sent to a socket that was refused.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { browserRoutes } from '../../shared/api.ts';
import type { LabService } from '../lab/service.ts';
import type { AccessGuard } from './guard.ts';

const reasons: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

/** Refuse an upgrade with a plain HTTP response, then close the socket. */
function refuse(socket: Duplex, status: 401 | 403 | 404, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reasons[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export interface EventSocket {
  /** Close every connection and stop accepting new ones. */
  close(): Promise<void>;
}

export function attachEventSocket(server: Server, guard: AccessGuard, service: LabService): EventSocket {
  // Clients only listen: small frames are all they may send.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const foreign = guard.foreignOrigin(request);
    if (foreign) return refuse(socket, 403, `Forbidden: ${foreign}`);
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path !== browserRoutes.events) return refuse(socket, 404, `No WebSocket at ${path}: the event stream is ${browserRoutes.events}`);
    const token = query < 0 ? null : new URLSearchParams(url.slice(query + 1)).get('token');
    if (!guard.headerOrCookieValid(request) && !guard.matches(token)) return refuse(socket, 401, 'Unauthorized: open the link printed in the terminal');
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      const unsubscribe = service.subscribe((message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      });
      // The stream only sends. A frame from the page is a mistake (calls go to POST /api/call):
      // say so by closing with 1003, unsupported data, rather than ignoring it without a word.
      // Frames over maxPayload never get here: ws closes those with 1009, message too big.
      ws.on('message', () => ws.close(1003, `${browserRoutes.events} only sends; make calls with POST ${browserRoutes.call}`));
      ws.on('close', unsubscribe);
      ws.on('error', () => ws.terminate());
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    async close() {
      server.off('upgrade', onUpgrade);
      // A close frame after what is still queued (the last status messages), then, for a page
      // that does not answer it within a second, the hard way.
      const open = [...wss.clients];
      for (const ws of open) ws.close(1001, 'the server is stopping');
      await Promise.race([
        Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? null : new Promise((resolve) => ws.once('close', resolve))))),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
