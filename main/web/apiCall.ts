/**
 * `POST /api/call`: one API call per request, `{ method, params }` in, the contract's envelope
 * out (`{ ok: true, result }` or `{ ok: false, error: { message, problems? } }`), always JSON,
 * whatever the status:
 *   200 ok · 400 malformed body or envelope, nested deeper than 32 levels, or a call the service
 *   refused (problems name the field) · 404 an unknown run · 413 body over 1 MB · 415 not JSON ·
 *   500 an unexpected failure (a fault of the server's, never of the request).
 * Requiring `Content-Type: application/json` is one more wall against cross-site requests: a
 * page on another site cannot send it without a CORS preflight, which this server never grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, apiRequestSchema, type ApiResponse } from '../../shared/api.ts';
import { jsonTextProblem, maxRequestBytes, maxRequestNesting } from '../lab/requestLimits.ts';
import { NotFoundError, type LabService } from '../lab/service.ts';

/** The largest request body accepted (an experiment config is a few kB). */
export const maxBodyBytes = maxRequestBytes;

class BodyTooLarge extends Error {}

/** The request body as text, refusing (and draining) anything over `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

export function sendEnvelope(response: ServerResponse, status: number, envelope: ApiResponse<never> | { ok: true; result: unknown }, close = false): void {
  const body = JSON.stringify(envelope);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(body);
}

const failure = (message: string, problems?: readonly { path: string; message: string }[]) =>
  ({ ok: false, error: { message, ...(problems && problems.length > 0 ? { problems } : {}) } }) as const;

export async function handleApiCall(request: IncomingMessage, response: ServerResponse, service: LabService): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    request.resume();
    const message = `POST /api/call needs Content-Type: application/json (got ${type ? `"${type.slice(0, 80)}"` : 'none'})`;
    sendEnvelope(response, 415, failure(message, [{ path: 'Content-Type', message }]));
    return;
  }
  let text: string;
  try {
    text = await readBody(request, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      const message = `The request body is over the limit of ${maxBodyBytes} bytes`;
      sendEnvelope(response, 413, failure(message, [{ path: '(body)', message }]), true);
    }
    else response.destroy();
    return;
  }
  // Before JSON.parse: the parse itself copes, but everything after it (the schemas, a merge
  // over a preset, JSON.stringify into the store) recurses, and would overflow the stack.
  const tooDeep = jsonTextProblem(text, maxRequestNesting);
  if (tooDeep) {
    sendEnvelope(response, 400, failure(`The request body is too deeply nested: ${tooDeep.path}: ${tooDeep.message}`, [tooDeep]));
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const message = `The request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`;
    sendEnvelope(response, 400, failure(message, [{ path: '(body)', message }]));
    return;
  }
  const envelope = apiRequestSchema.safeParse(body);
  if (!envelope.success) {
    const problems = envelope.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message,
    }));
    sendEnvelope(response, 400, failure(`Expected a body { method, params }: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems));
    return;
  }
  try {
    const result = await service.call(envelope.data.method, envelope.data.params);
    sendEnvelope(response, 200, { ok: true, result });
  } catch (error) {
    if (error instanceof ApiError) sendEnvelope(response, error instanceof NotFoundError ? 404 : 400, failure(error.message, error.problems));
    else sendEnvelope(response, 500, failure(`${envelope.data.method} failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}
