/**
 * The app:// protocol: the renderer (renderer/dist) served from a privileged custom scheme
 * instead of file://, every response with the security headers (the CSP among them), plus the
 * export downloads of the API contract (`/api/export/<run>/<figure>.<format>`, the same paths as
 * browser mode's) rendered by the engine.
 *
 * `resolveProtocolPath` is the whole file-serving decision, and it refuses rather than
 * normalises: a `..` or `.` segment (also percent-encoded), an encoded slash or backslash, a
 * drive letter or other colon, a NUL, an empty segment (`//`, which would make an absolute
 * path), another scheme or host, and anything that would resolve outside the root.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { exportPath } from '../../shared/api.ts';
import { contentTypeOf } from '../../shared/contentTypes.ts';
import { appHost, appScheme, securityHeaders } from './security.ts';

export type ResolvedPath =
  | { readonly ok: true; readonly path: string; readonly relative: string }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

/** The file an app:// URL names inside `root`, or why it is refused. */
export function resolveProtocolPath(root: string, url: string): ResolvedPath {
  const prefix = `${appScheme}://${appHost}`;
  if (url.slice(0, prefix.length).toLowerCase() !== prefix) return { ok: false, status: 403, reason: `not an ${prefix} URL` };
  let rest = url.slice(prefix.length);
  // Whatever follows the host must be the path: no port, no userinfo, no longer host name.
  if (rest !== '' && !/^[/?#]/.test(rest)) return { ok: false, status: 403, reason: `not an ${prefix} URL` };
  rest = rest.replace(/[?#].*$/s, '');
  if (rest === '' || rest === '/') rest = '/index.html';
  if (rest.endsWith('/')) rest += 'index.html';
  const segments: string[] = [];
  for (const raw of rest.slice(1).split('/')) {
    if (raw === '') return { ok: false, status: 403, reason: 'an empty path segment (an absolute path)' };
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: `bad percent-encoding in "${raw}"` };
    }
    if (segment === '.' || segment === '..') return { ok: false, status: 403, reason: 'a "." or ".." segment' };
    if (/[/\\:\0]/.test(segment)) return { ok: false, status: 403, reason: `a separator, colon or NUL in "${raw}"` };
    segments.push(segment);
  }
  const base = resolve(root);
  const path = resolve(base, ...segments);
  if (!path.startsWith(base + sep)) return { ok: false, status: 403, reason: 'outside the root' };
  return { ok: true, path, relative: segments.join('/') };
}

export { contentTypeOf };

/** What the engine answers for an export (engineControl's desktop.exportFile), or why not. */
export type ExportAnswer =
  | { readonly kind: 'file'; readonly bytes: Uint8Array; readonly contentType: string; readonly fileName: string }
  | { readonly kind: 'missing' | 'invalid' | 'unavailable'; readonly message: string };

export interface ProtocolHandlerOptions {
  /** renderer/dist */
  readonly root: string;
  readonly exportFile: (runId: string, target: string, format: string) => Promise<ExportAnswer>;
  readonly readFile?: (path: string) => Promise<Uint8Array>;
}

const exportPrefix = exportPath('x', 'metrics', 'csv').split('/x/')[0]!; // '/api/export'
const exportPattern = new RegExp(`^${exportPrefix}/([^/]+)/([^/]+)\\.([a-z]+)$`);

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, { status, headers: { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra } });
}

/** The page shown in place of the app when renderer/dist has not been built. */
function notBuiltPage(root: string): Response {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Purification Lab</title></head>
<body style="font: 15px system-ui, sans-serif; margin: 3em; max-width: 40em">
<h1>The workbench UI is not built</h1>
<p>There is no <code>index.html</code> in <code>${root.replace(/[<>&]/g, '')}</code>. Build it with <code>npm run build:renderer</code>, then reload (Ctrl+R).
<code>npm start</code> builds it for you.</p></body></html>`;
  return new Response(body, { status: 200, headers: { ...securityHeaders(), 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' } });
}

/** The app:// handler for `protocol.handle` (and, in tests, for any WHATWG Request). */
export function createProtocolHandler(options: ProtocolHandlerOptions): (request: Request) => Promise<Response> {
  const read = options.readFile ?? ((path: string) => readFile(path));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, `${request.method} is not served here`, { Allow: 'GET, HEAD' });
    const pathname = request.url.replace(/^[a-z]+:\/\/[^/?#]*/i, '').replace(/[?#].*$/s, '');
    const exportMatch = exportPattern.exec(pathname);
    if (exportMatch && resolveProtocolPath(options.root, request.url).ok) {
      let runId: string;
      let target: string;
      try {
        runId = decodeURIComponent(exportMatch[1]!);
        target = decodeURIComponent(exportMatch[2]!);
      } catch {
        return text(400, 'bad percent-encoding in the export path');
      }
      const answer = await options.exportFile(runId, target, exportMatch[3]!);
      if (answer.kind !== 'file') return text(answer.kind === 'missing' ? 404 : answer.kind === 'invalid' ? 400 : 503, answer.message);
      return new Response(request.method === 'HEAD' ? null : (answer.bytes as Uint8Array<ArrayBuffer>), {
        status: 200,
        headers: {
          ...securityHeaders(),
          'Content-Type': answer.contentType,
          'Content-Length': String(answer.bytes.byteLength),
          'Content-Disposition': `attachment; filename="${answer.fileName.replace(/["\\\r\n]/g, '_')}"`,
          'Cache-Control': 'no-store',
        },
      });
    }
    const resolved = resolveProtocolPath(options.root, request.url);
    if (!resolved.ok) return text(resolved.status, `Refused: ${resolved.reason}`);
    let path = resolved.path;
    let bytes: Uint8Array;
    try {
      bytes = await read(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') return text(500, `Cannot read ${resolved.relative}: ${code ?? (error as Error).message}`);
      // A path without an extension is a view of the single-page app: serve the page.
      if (extname(resolved.relative) !== '' && resolved.relative !== 'index.html') return text(404, `No such file: ${resolved.relative}`);
      path = resolve(options.root, 'index.html');
      try {
        bytes = await read(path);
      } catch {
        return notBuiltPage(options.root);
      }
    }
    return new Response(request.method === 'HEAD' ? null : (bytes as Uint8Array<ArrayBuffer>), {
      status: 200,
      headers: { ...securityHeaders(), 'Content-Type': contentTypeOf(path), 'Cache-Control': 'no-cache' },
    });
  };
}
