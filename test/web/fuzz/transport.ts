/**
 * How the fuzzer talks to the server: one HTTP request, one raw TCP exchange, or one WebSocket
 * conversation, each given up after `answerTimeoutMs` (a hang) instead of waiting for ever. Each
 * resolves with what came back, or with why nothing did: the fuzzer, not the transport, judges.
 */
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { WebSocket } from 'ws';

/** Every message must be answered within this (the bar for "no hang"). */
export const answerTimeoutMs = 5000;

export type Answer =
  | { readonly kind: 'answered'; readonly status: number; readonly text: string }
  /** Nothing within answerTimeoutMs. */
  | { readonly kind: 'hang' }
  /** The connection failed or closed without a response (an answer never sent). */
  | { readonly kind: 'dropped'; readonly reason: string };

/** One HTTP request; a fresh connection each time, so one broken request cannot poison the next. */
export function httpExchange(port: number, options: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer }): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => settle({ kind: 'answered', status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => settle({ kind: 'dropped', reason: `the response broke off: ${error.message}` }));
      res.on('close', () => settle({ kind: 'dropped', reason: 'the response broke off' })); // after 'end', nothing: settled

    });
    const timer = setTimeout(() => settle({ kind: 'hang' }), answerTimeoutMs);
    // After a whole response, an error (the server closing after a 413) changes nothing: settled.
    req.on('error', (error) => settle({ kind: 'dropped', reason: error.message }));
    req.end(options.body);
  });
}

/** Raw bytes over TCP (broken HTTP the client library would not send); the status line's code. */
export function rawExchange(port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const parse = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (status) settle({ kind: 'answered', status: Number(status[1]), text });
      else settle({ kind: 'dropped', reason: text ? `not an HTTP response: ${JSON.stringify(text.slice(0, 80))}` : 'closed without a response' });
    };
    const timer = setTimeout(() => (chunks.length > 0 ? parse() : settle({ kind: 'hang' })), answerTimeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (/\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) parse();
    });
    socket.on('end', parse);
    socket.on('error', (error) => (chunks.length > 0 ? parse() : settle({ kind: 'dropped', reason: error.message })));
    socket.write(bytes);
  });
}

export type SocketAnswer =
  /** The upgrade was refused with this HTTP status. */
  | { readonly kind: 'refused'; readonly status: number }
  /** Opened; then, after the frame (if any), closed by the server with this code (null: still open). */
  | { readonly kind: 'opened'; readonly closeCode: number | null }
  | { readonly kind: 'hang'; readonly stage: string }
  | { readonly kind: 'dropped'; readonly reason: string };

/**
 * Open the event stream with these headers, send `frame` if given and wait for the server to
 * close (the stream takes no frames), then close our end.
 */
export function socketExchange(url: string, headers: Record<string, string>, frame: string | Buffer | null): Promise<SocketAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let stage = 'the upgrade';
    const socket = new WebSocket(url, { headers, handshakeTimeout: answerTimeoutMs });
    const settle = (answer: SocketAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ kind: 'hang', stage }), answerTimeoutMs);
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      settle({ kind: 'refused', status: res.statusCode ?? 0 });
    });
    socket.once('open', () => {
      if (frame === null) return settle({ kind: 'opened', closeCode: null });
      stage = 'the answer to a frame';
      socket.send(frame);
    });
    socket.once('close', (code: number) => settle({ kind: 'opened', closeCode: code }));
    socket.on('error', (error) => settle({ kind: 'dropped', reason: error.message }));
  });
}
