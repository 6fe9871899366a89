/**
 * Issue 12: browser mode's file routes on the real server. An upload (the page cannot hand the
 * server a path) is bounded by its own limit, far above the JSON API's 1 MB, and checked by the
 * lab as File > Import checks a path; the runs' export is one zip. Both are behind the token.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadLimitBytes } from '../../shared/api.ts';
import { resolveExperiment, resolveSparseCoding } from '../../shared/config.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';
import { maxBodyBytes } from '../../main/web/apiCall.ts';
import { startServer, type RunningServer } from '../../main/web/server.ts';
import { call, send } from './http.ts';

const card = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: 2 } }).model, 3, { configHash: 'h', codeVersion: 'v', checkpoint: 'final' });
const W = Float32Array.from([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);

let store: RunStore;
let queue: JobQueue;
let server: RunningServer;
let port: number;
let bearer: Record<string, string>;

beforeAll(async () => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-file-routes-')));
  queue = new JobQueue(store, { backend: 'wasm' });
  const dist = mkdtempSync(join(tmpdir(), 'lab-file-routes-site-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Purification Lab</title>');
  server = await startServer({ store, queue, port: 0, rendererDir: dist });
  port = server.port;
  bearer = { Authorization: `Bearer ${server.token}` };
});

afterAll(async () => {
  await server?.close();
  await queue?.shutdown();
  store?.close();
});

const upload = (name: string, body: Uint8Array, headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...bearer }) =>
  send(port, { method: 'POST', path: `/api/files?name=${encodeURIComponent(name)}`, headers, body: Buffer.from(body) });
const imports = () => readdirSync(join(store.dir, 'imports'));

describe('POST /api/files', () => {
  it('takes a file larger than the JSON limit, and adds it to the store with what it holds', async () => {
    // 40 x 8192 float32 weights: 1.3 MB, over the JSON API's 1 MB, well under the upload limit.
    const m = 40;
    const d = 8192;
    const bigCard = modelCard(resolveSparseCoding({ model: { kind: 'two-layer', width: m } }).model, d, { configHash: 'h', codeVersion: 'v', checkpoint: 'final' });
    const bytes = encodeWeights(bigCard, Float32Array.from({ length: m * d }, (_, i) => Math.sin(i)), null);
    expect(bytes.byteLength).toBeGreaterThan(maxBodyBytes);
    const res = await upload('big.safetensors', bytes);
    expect(res.status).toBe(200);
    const envelope = JSON.parse(res.text) as { ok: true; result: { kind: string; name: string; summary: string } };
    expect(envelope.result.kind).toBe('weights');
    expect(envelope.result.name).toMatch(/^\d{8}-\d{6}-big\.safetensors$/);
    expect(envelope.result.summary).toContain(`W [${m}, ${d}]`);
    expect(imports()).toEqual([envelope.result.name]);
    const listed = await call(port, 'files.list', {}, bearer);
    expect((listed.envelope.result as { name: string; bytes: number }[]).map((f) => [f.name, f.bytes])).toEqual([[envelope.result.name, bytes.byteLength]]);
  }, 120_000);

  it('refuses NaN weights naming the file (400), keeping nothing', async () => {
    const before = imports();
    const res = await upload('nan.safetensors', encodeWeights(card, Float32Array.from(W, (v, k) => (k === 4 ? NaN : v)), null));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toContain('nan.safetensors is neither two-layer weights nor a dataset. As weights: nan.safetensors: W[1, 1] is NaN');
    expect(imports()).toEqual(before);
  });

  it('refuses no token (401), another content type (415), a path for a name (400), and a body over the limit (413)', async () => {
    const good = encodeWeights(card, W, null);
    expect((await upload('w.safetensors', good, { 'Content-Type': 'application/octet-stream' })).status).toBe(401);
    const typed = await upload('w.safetensors', good, { 'Content-Type': 'text/plain', ...bearer });
    expect(typed.status).toBe(415);
    expect(JSON.parse(typed.text).error.message).toBe('POST /api/files needs Content-Type: application/octet-stream (got "text/plain")');
    const pathName = await upload('../w.safetensors', good);
    expect(pathName.status).toBe(400);
    expect(JSON.parse(pathName.text).error.problems).toEqual([{ path: 'name', message: 'not a file name' }]);
    const tooLarge = await send(port, {
      method: 'POST',
      path: '/api/files?name=huge.safetensors',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(uploadLimitBytes + 1), ...bearer },
    });
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text).error.message).toBe(`huge.safetensors is over the upload limit of ${uploadLimitBytes / 1024 ** 2} MB`);
    expect((await send(port, { path: '/api/files?name=w.safetensors', headers: bearer })).status).toBe(405);
  });
});

describe('GET /api/export-runs', () => {
  it('sends the runs as one zip: metrics, weights, and what was skipped', async () => {
    const config = resolveExperiment({});
    const run = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), name: 'zip me' });
    writeFileSync(join(run.folder, 'weights-init.safetensors'), Uint8Array.from([4, 5, 6]));
    expect((await send(port, { path: `/api/export-runs?id=${run.id}` })).status).toBe(401);
    const res = await send(port, { path: `/api/export-runs?id=${run.id}`, headers: bearer });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${run.id}-export.zip"`);
    const zip = unzipSync(new Uint8Array(res.body));
    expect([...zip[`${run.id}/weights-init.safetensors`]!]).toEqual([4, 5, 6]);
    const metrics = await send(port, { path: `/api/export/${run.id}/metrics.csv`, headers: bearer });
    expect(Buffer.from(zip[`${run.id}/metrics.csv`]!).toString('utf8')).toBe(metrics.text);
    expect(Buffer.from(zip['skipped.txt']!).toString('utf8')).toContain(`${run.id}: Run ${run.id} (queued) has no "accuracy-over-training" figure yet`);
  }, 120_000);

  it('names an unknown run (404) and a malformed id (400)', async () => {
    const unknown = await send(port, { path: '/api/export-runs?id=20990101-000000-zzzz', headers: bearer });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('20990101-000000-zzzz');
    const malformed = await send(port, { path: '/api/export-runs?id=..%2Fetc', headers: bearer });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toBe('id 1: expected a run id like 20261125-150719-92d1\n');
  });
});
