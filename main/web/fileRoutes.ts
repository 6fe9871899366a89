/**
 * Browser mode's file routes, beside the JSON API (whose bodies stay under 1 MB):
 *
 *   POST /api/files?name=NAME        the file's bytes as the body (Content-Type
 *                                    application/octet-stream, at most `uploadLimitBytes`): add a
 *                                    weights file or dataset to the store, checked by the lab as
 *                                    File > Import checks it; answers the contract's envelope
 *                                    (200, 400 refused, 413 too large, 415 not octet-stream)
 *   GET  /api/export-runs?id=A&id=B  the runs' figures, metrics and weights as one zip download
 *                                    (every run when no id is given)
 *
 * A page cannot hand the server a path, so the bytes travel; the page is untrusted, so the name
 * and the bytes are checked here and in the lab exactly as a path would be.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, uploadLimitBytes } from '../../shared/api.ts';
import { NotFoundError, type LabService } from '../lab/service.ts';
import { sendEnvelope } from './apiCall.ts';
import { sendDownload } from './exportRoute.ts';

const failure = (message: string, problems?: readonly { path: string; message: string }[]) =>
  ({ ok: false, error: { message, ...(problems && problems.length > 0 ? { problems } : {}) } }) as const;

/** The body's bytes, or null (and the request drained) when it passes `limit`. */
function readBytes(request: IncomingMessage, limit: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0; // keep draining, hold nothing
    });
    request.on('end', () => resolve(size > limit ? null : new Uint8Array(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

export async function handleUpload(request: IncomingMessage, response: ServerResponse, service: LabService, query: URLSearchParams): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/octet-stream\s*(;|$)/i.test(type)) {
    request.resume();
    return sendEnvelope(response, 415, failure(`POST /api/files needs Content-Type: application/octet-stream (got ${type ? `"${type}"` : 'none'})`));
  }
  const name = query.get('name') ?? '';
  if (name.length === 0 || name.length > 255 || /[/\\\0]/.test(name)) {
    request.resume();
    return sendEnvelope(response, 400, failure(`?name= must be the file's name (1 to 255 characters, no slashes), got ${JSON.stringify(name.slice(0, 80))}`, [{ path: 'name', message: 'not a file name' }]));
  }
  const bytes = await readBytes(request, uploadLimitBytes);
  if (bytes === null) return sendEnvelope(response, 413, failure(`${name} is over the upload limit of ${uploadLimitBytes / 1024 ** 2} MB`, [{ path: 'body', message: 'too large' }]), true);
  try {
    sendEnvelope(response, 200, { ok: true, result: service.addFile(name, bytes) });
  } catch (error) {
    if (error instanceof ApiError) sendEnvelope(response, 400, failure(error.message, error.problems));
    else sendEnvelope(response, 500, failure(`Adding ${name} failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}

export async function handleExportRuns(request: IncomingMessage, response: ServerResponse, service: LabService, query: URLSearchParams): Promise<void> {
  const ids = query.getAll('id');
  const sendText = (status: number, text: string) => {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(`${text}\n`);
  };
  if (ids.length > 1000) return sendText(400, `At most 1000 runs per export (got ${ids.length})`);
  try {
    sendDownload(request, response, await service.exportRuns(ids));
  } catch (error) {
    if (error instanceof ApiError) sendText(error instanceof NotFoundError ? 404 : 400, error.message);
    else sendText(500, `Export failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
