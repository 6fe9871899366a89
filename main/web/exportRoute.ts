/**
 * `GET /api/export/<runId>/<figure>.<svg|png|pdf>` and `/api/export/<runId>/metrics.csv`: the
 * files behind the renderer's export buttons, rendered by the service with the CLI's builders
 * and sent as downloads (`Content-Disposition: attachment`), so the browser saves them instead of
 * opening them in the app's tab.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, browserRoutes } from '../../shared/api.ts';
import { NotFoundError, type ExportedFile, type LabService } from '../lab/service.ts';

const exportPattern = new RegExp(`^${browserRoutes.export}/([^/]+)/([^/]+)\\.([a-z]+)$`);

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`${text}\n`);
}

/** A file as a download (`Content-Disposition: attachment`), never cached; HEAD gets the headers only. */
export function sendDownload(request: IncomingMessage, response: ServerResponse, file: ExportedFile): void {
  response.writeHead(200, {
    'Content-Type': file.contentType,
    'Content-Length': file.bytes.byteLength,
    'Content-Disposition': `attachment; filename="${file.fileName}"`,
    'Cache-Control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : file.bytes);
}

export async function handleExport(request: IncomingMessage, response: ServerResponse, service: LabService, rawPath: string): Promise<void> {
  const match = exportPattern.exec(rawPath);
  if (!match) {
    sendText(response, 404, `Not an export path: ${rawPath} (expected ${browserRoutes.export}/RUN_ID/FIGURE.svg|png|pdf or ${browserRoutes.export}/RUN_ID/metrics.csv)`);
    return;
  }
  let runId: string;
  let target: string;
  try {
    runId = decodeURIComponent(match[1]!);
    target = decodeURIComponent(match[2]!);
  } catch {
    sendText(response, 400, `The path ${JSON.stringify(rawPath)} is not valid percent-encoding`);
    return;
  }
  try {
    sendDownload(request, response, await service.exportFile(runId, target, match[3]!));
  } catch (error) {
    if (error instanceof ApiError) sendText(response, error instanceof NotFoundError ? 404 : 400, error.message);
    else sendText(response, 500, `Export failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
