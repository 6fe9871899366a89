/**
 * The built renderer (renderer/dist), served as files. The request path is decoded once and
 * every `..` segment is refused outright (in whatever encoding it arrived: `/../`, `%2e%2e`,
 * `..%2f`, backslashes), then the resolved file must still lie under the folder: two checks, so
 * that neither alone has to be perfect. Paths without an extension that match no file get
 * index.html, so the renderer's history routes survive a reload.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { contentTypeOf } from '../../shared/contentTypes.ts';
import { notBuiltPage } from './pages.ts';


/** Where a request path points under `root`, or why it is refused (status and reason). */
export function resolveStaticPath(root: string, rawPath: string): { file: string } | { status: 400 | 403; reason: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, reason: `the path ${JSON.stringify(rawPath)} is not valid percent-encoding` };
  }
  if (decoded.includes('\0')) return { status: 400, reason: 'the path contains a NUL byte' };
  const segments = decoded.split(/[\\/]+/).filter((s) => s.length > 0);
  if (segments.some((s) => s === '..')) return { status: 403, reason: `the path ${JSON.stringify(rawPath)} climbs out of the app's folder` };
  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (file !== base && !file.startsWith(base + sep)) return { status: 403, reason: `the path ${JSON.stringify(rawPath)} lies outside the app's folder` };
  return { file };
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`${text}\n`);
}

/**
 * Answer a GET or HEAD for `rawPath` from `root`. `/` (and unknown extension-less paths) is the
 * app's index.html, never cached (it is what the token opens); hashed assets may be revalidated.
 * Without index.html, the "not built" page explains what to do.
 */
export function serveStatic(request: IncomingMessage, response: ServerResponse, root: string, rawPath: string, notBuiltReason: string): void {
  const index = join(root, 'index.html');
  const sendIndex = () => {
    if (!existsSync(index)) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : notBuiltPage(notBuiltReason));
      return;
    }
    sendFile(request, response, index, 'no-store');
  };
  if (rawPath === '/' || rawPath === '/index.html') return sendIndex();
  const resolved = resolveStaticPath(root, rawPath);
  if (!('file' in resolved)) return sendText(response, resolved.status, `Refused: ${resolved.reason}`);
  const stat = statSync(resolved.file, { throwIfNoEntry: false });
  if (stat?.isFile()) return sendFile(request, response, resolved.file, 'no-cache');
  if (extname(resolved.file) === '') return sendIndex();
  sendText(response, 404, `Not found: ${rawPath}`);
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: string, cacheControl: string): void {
  const stat = statSync(file);
  response.writeHead(200, {
    'Content-Type': contentTypeOf(file),
    'Content-Length': stat.size,
    'Cache-Control': cacheControl,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
