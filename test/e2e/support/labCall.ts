/** The lab's API from the test process, authorised with the server's token (as a script would be). */
import type { ApiMethod, ApiParams, ApiResults } from '../../../shared/api.ts';
import type { LabServer } from './labServer.ts';

export async function labCall<M extends ApiMethod>(server: LabServer, method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
  const response = await fetch(`${server.origin}/api/call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ method, params }),
  });
  const body = (await response.json()) as { ok: boolean; result?: unknown; error?: { message: string } };
  if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
  return body.result as ApiResults[M];
}

/** Wait until a run has settled (finished, failed, cancelled or interrupted). */
export async function waitForRun(server: LabServer, id: string, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await labCall(server, 'runs.get', { id });
    if (!['queued', 'running'].includes(run.status)) return run.status;
    if (Date.now() > until) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
