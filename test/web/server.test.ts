/**
 * Browser mode's server, for real: an ephemeral port on 127.0.0.1, a temporary store, the real
 * job queue on wasm. What a user (and an attacker's page) can do to it: the token gate on HTTP
 * and WebSocket, the Host/Origin gate against DNS rebinding, static files without traversal,
 * calls that name the bad field and start nothing, a run streamed in batches, and an export.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { JobStreamMessage, RunDetail } from '../../shared/api.ts';
import type { ExperimentInput } from '../../shared/config.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { maxBodyBytes } from '../../main/web/apiCall.ts';
import { startServer, type RunningServer } from '../../main/web/server.ts';
import { call, openSocket, send } from './http.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200 },
};

let store: RunStore;
let queue: JobQueue;
let server: RunningServer;
let port: number;
let bearer: Record<string, string>;
let cookie: string;
const secret = 'THIS-FILE-IS-OUTSIDE-THE-APP';

beforeAll(async () => {
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-web-store-')));
  queue = new JobQueue(store, { backend: 'wasm' });
  // A stand-in for renderer/dist, with a file beside it that must never be served.
  const site = mkdtempSync(join(tmpdir(), 'lab-web-site-'));
  const dist = join(site, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Purification Lab</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("app");');
  writeFileSync(join(site, 'package.json'), secret);
  server = await startServer({ store, queue, port: 0, rendererDir: dist });
  port = server.port;
  bearer = { Authorization: `Bearer ${server.token}` };
  const opened = await send(port, { path: `/?token=${server.token}`, headers: { Host: `127.0.0.1:${port}` } });
  cookie = String(opened.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
});

afterAll(async () => {
  await server?.close();
  await queue?.shutdown();
  store?.close();
});

describe('where it listens', () => {
  it('binds 127.0.0.1 only, and prints a tokened URL with a 256-bit token', () => {
    const address = server.server.address();
    expect(address).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port });
    expect(server.url).toBe(`http://127.0.0.1:${port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('the token', () => {
  it('opens the app from /?token=, keeping it as an HttpOnly, SameSite=Strict cookie for this port', async () => {
    const res = await send(port, { path: `/?token=${server.token}` });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>Purification Lab</title>');
    const setCookie = String(res.headers['set-cookie']?.[0]);
    expect(setCookie).toBe(`purification-lab-token-${port}=${server.token}; HttpOnly; SameSite=Strict; Path=/`);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses the app, its assets and the API without it (401), pointing at the terminal', async () => {
    const page = await send(port, { path: '/' });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toMatch(/printed[\s\S]*terminal/);
    expect((await send(port, { path: '/?token=wrong' })).status).toBe(401);
    expect((await send(port, { path: '/assets/app.js' })).status).toBe(401);
    expect((await send(port, { path: '/assets/app.js', headers: { Cookie: `purification-lab-token-${port}=nope` } })).status).toBe(401);
    const api = await call(port, 'runs.list', {}, {});
    expect(api.status).toBe(401);
    expect(api.envelope.ok).toBe(false);
    expect((await call(port, 'runs.list', {}, { Authorization: 'Bearer not-the-token' })).status).toBe(401);
    // The query token opens pages, not calls: a call must carry the header or the cookie.
    const res = await send(port, { method: 'POST', path: `/api/call?token=${server.token}`, headers: { 'Content-Type': 'application/json' }, body: '{"method":"runs.list","params":{}}' });
    expect(res.status).toBe(401);
    expect((await send(port, { path: '/api/export/20260101-000000-abcd/accuracy-over-training.svg' })).status).toBe(401);
  });

  it('lets the API in with the Bearer header or the cookie', async () => {
    const withBearer = await call(port, 'runs.list', {}, bearer);
    expect(withBearer.status).toBe(200);
    expect(withBearer.envelope).toEqual({ ok: true, result: [] });
    const withCookie = await call(port, 'runs.list', {}, { Cookie: cookie });
    expect(withCookie.status).toBe(200);
    const asset = await send(port, { path: '/assets/app.js', headers: { Cookie: cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('gates the WebSocket the same way: 401 without it, open with the cookie or ?token=', async () => {
    const url = `ws://127.0.0.1:${port}/api/events`;
    expect(await openSocket(url)).toEqual({ status: 401 });
    expect(await openSocket(`${url}?token=wrong`)).toEqual({ status: 401 });
    for (const attempt of [openSocket(url, { Cookie: cookie, Origin: `http://127.0.0.1:${port}` }), openSocket(`${url}?token=${server.token}`)]) {
      const opened = await attempt;
      expect('socket' in opened).toBe(true);
      if ('socket' in opened) opened.socket.close();
    }
  });
});

describe('DNS rebinding: a foreign Host or Origin is refused (403), token or not', () => {
  it('on HTTP', async () => {
    const evilHost = await send(port, { path: `/?token=${server.token}`, headers: { Host: `evil.example:${port}` } });
    expect(evilHost.status).toBe(403);
    expect(evilHost.headers['set-cookie']).toBeUndefined();
    expect(evilHost.text).toMatch(/Host header "evil\.example:\d+" is not this server's/);
    expect((await call(port, 'runs.list', {}, { ...bearer, Host: `evil.example:${port}` })).status).toBe(403);
    expect((await call(port, 'runs.list', {}, { ...bearer, Host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    const evilOrigin = await call(port, 'runs.list', {}, { Cookie: cookie, Origin: 'http://evil.example' });
    expect(evilOrigin.status).toBe(403);
    expect((await call(port, 'runs.list', {}, { Cookie: cookie, Origin: 'null' })).status).toBe(403);
    // The server's own origins pass, under either name.
    expect((await call(port, 'runs.list', {}, { Cookie: cookie, Origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await call(port, 'runs.list', {}, { ...bearer, Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).status).toBe(200);
  });

  it('on the WebSocket upgrade', async () => {
    const url = `ws://127.0.0.1:${port}/api/events?token=${server.token}`;
    expect(await openSocket(url, { Origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await openSocket(url, { Host: `evil.example:${port}` })).toEqual({ status: 403 });
  });
});

describe('security headers', () => {
  it('carries a strict CSP and the rest on every response', async () => {
    for (const res of [await send(port, { path: '/' }), await send(port, { path: '/', headers: { Cookie: cookie } })]) {
      expect(res.headers['content-security-policy']).toBe(
        `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    const api = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...bearer }, body: '{"method":"runs.list","params":{}}' });
    expect(api.headers['cache-control']).toBe('no-store');
  });
});

describe('static files', () => {
  it('refuses path traversal in every spelling', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/%2E%2E/package.json', '/assets/..%2f..%2fpackage.json', '/..%5cpackage.json', '/assets/../../package.json']) {
      const res = await send(port, { path, headers: { Cookie: cookie } });
      expect([400, 403, 404], path).toContain(res.status);
      expect(res.text, path).not.toContain(secret);
    }
    expect((await send(port, { path: '/%E0%A4%A', headers: { Cookie: cookie } })).status).toBe(400);
  });

  it('serves index.html for app routes and 404 for missing files', async () => {
    expect((await send(port, { path: '/runs/abc', headers: { Cookie: cookie } })).text).toContain('<title>Purification Lab</title>');
    expect((await send(port, { path: '/assets/missing.js', headers: { Cookie: cookie } })).status).toBe(404);
  });
});

describe('the API', () => {
  it('answers malformed requests with 400, 413 or 415 and the envelope', async () => {
    const notJson = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...bearer }, body: '{"method":' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not valid JSON/) } });
    const noMethod = await call(port, 'runs.explode', {}, bearer);
    expect(noMethod.status).toBe(400);
    expect(noMethod.envelope.error?.problems?.[0]?.path).toBe('method');
    const tooBig = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...bearer }, body: 'x'.repeat(maxBodyBytes + 10) });
    expect(tooBig.status).toBe(413);
    const plain = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'text/plain', ...bearer }, body: '{"method":"runs.list","params":{}}' });
    expect(plain.status).toBe(415);
    expect((await send(port, { path: '/api/call', headers: bearer })).status).toBe(405);
  });

  it('names a bad field of runs.start, and starts nothing', async () => {
    const bad = await call(port, 'runs.start', { input: { ...tiny, model: { kind: 'two-layer', width: -4 } } }, bearer);
    expect(bad.status).toBe(400);
    expect(bad.envelope.ok).toBe(false);
    expect(bad.envelope.error?.problems).toEqual([{ path: 'model.width', message: expect.stringMatching(/^-4: /) }]);
    const unknown = await call(port, 'runs.start', { input: { ...tiny, train: { cleanEpochs: 3, adversarialEpochz: 2 } } }, bearer);
    expect(unknown.envelope.error?.problems?.[0]).toMatchObject({ path: 'train.adversarialEpochz' });
    const badParam = await call(port, 'runs.start', { input: tiny, name: 'x'.repeat(201) }, bearer);
    expect(badParam.envelope.error?.problems?.[0]).toMatchObject({ path: 'name' });
    const badPreset = await call(port, 'runs.start', { input: tiny, preset: 'fastest' }, bearer);
    expect(badPreset.envelope.error?.problems?.[0]).toMatchObject({ path: 'preset' });
    expect(store.list()).toHaveLength(0);
    expect((await call(port, 'runs.list', {}, bearer)).envelope.result).toEqual([]);
  });

  it('answers app.info and config.validate with the backend and an estimate', async () => {
    const info = (await call(port, 'app.info', {}, bearer)).envelope.result as { backend: { name: string }; store: string; presets: { name: string }[]; stepsPerSecond: number | null };
    expect(info.backend.name).toBe('wasm');
    expect(info.store).toBe(store.dir);
    expect(info.presets.map((p) => p.name)).toEqual(['flagship', 'scratch', 'linear', 'quick', 'paper-scale', 'mnist-mlp', 'cifar-cnn']);
    expect(info.stepsPerSecond).toBeGreaterThan(0);
    const check = (await call(port, 'config.validate', { input: {}, preset: 'quick' }, bearer)).envelope.result as { ok: boolean; estimate: { steps: number; seconds: number } };
    expect(check.ok).toBe(true);
    expect(check.estimate.steps).toBe((30 + 15) * 40);
    expect(check.estimate.seconds).toBeGreaterThan(0);
  });

  it('404s an unknown run', async () => {
    const res = await call(port, 'runs.get', { id: '19990101-000000-0000' }, bearer);
    expect(res.status).toBe(404);
    expect(res.envelope.error?.message).toMatch(/No run "19990101-000000-0000"/);
  });
});

describe('a run over the API', () => {
  it('streams batched events over the WebSocket until it finishes, then exports its figures', async () => {
    const opened = await openSocket(`ws://127.0.0.1:${port}/api/events`, { Cookie: cookie, Origin: `http://127.0.0.1:${port}` });
    if (!('socket' in opened)) throw new Error(`the event stream refused the upgrade: ${opened.status}`);
    const socket: WebSocket = opened.socket;
    const received: { at: number; message: JobStreamMessage }[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as JobStreamMessage;
        received.push({ at: performance.now(), message });
        if (message.type === 'status' && message.status === 'finished') resolve();
        if (message.type === 'status' && message.status === 'failed') reject(new Error(message.error));
      });
    });
    const started = await call(port, 'runs.start', { input: tiny, preset: 'quick', name: 'tiny over the API' }, bearer);
    expect(started.status).toBe(200);
    const id = (started.envelope.result as { id: string }).id;
    await finished;
    socket.close();

    const statuses = received.filter((r) => r.message.type === 'status').map((r) => (r.message as { status: string }).status);
    expect(statuses).toEqual(['queued', 'running', 'finished']);
    const batches = received.filter((r): r is { at: number; message: JobStreamMessage & { type: 'events' } } => r.message.type === 'events');
    const events = batches.flatMap((b) => b.message.events);
    expect(batches.every((b) => b.message.runId === id)).toBe(true);
    expect(events[0]?.type).toBe('run-started');
    expect(events.at(-1)?.type).toBe('finished');
    expect(events.filter((e) => e.type === 'metrics')).toHaveLength(6);
    // Batched: fewer messages than events, at most one progress per batch, and a few per second.
    expect(batches.length).toBeLessThan(events.length);
    for (const b of batches) expect(b.message.events.filter((e) => e.type === 'progress').length).toBeLessThanOrEqual(1);
    const seconds = (batches.at(-1)!.at - batches[0]!.at) / 1000;
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 2);
    // The finished status comes after the last events of the run.
    expect(received.at(-1)?.message).toEqual({ type: 'status', runId: id, status: 'finished' });

    const detail = (await call(port, 'runs.get', { id: id.slice(0, 17) }, bearer)).envelope.result as RunDetail;
    expect(detail).toMatchObject({ id, status: 'finished', name: 'tiny over the API', preset: 'quick', protocol: 'fine-tune' });
    expect(detail.result.metrics).toHaveLength(6);
    expect(detail.config.task).toMatchObject({ kind: 'sparse-coding', d: 24 });

    const svg = await send(port, { path: `/api/export/${id}/accuracy-over-training.svg`, headers: { Cookie: cookie } });
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.headers['content-disposition']).toBe(`attachment; filename="${id}-accuracy-over-training.svg"`);
    expect(svg.text).toMatch(/^<svg[\s\S]*<\/svg>$/);
    const csv = await send(port, { path: `/api/export/${id}/metrics.csv`, headers: bearer });
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n')[0]).toBe('run_id,run_name,preset,seed,sweep_id,global_epoch,phase,epoch,metric,value,lower,upper');
    expect((await send(port, { path: `/api/export/${id}/no-such-figure.svg`, headers: bearer })).status).toBe(404);
    expect((await send(port, { path: `/api/export/${id}/metrics.svg`, headers: bearer })).status).toBe(400);
    expect((await send(port, { path: `/api/export/${id}/accuracy-over-training.gif`, headers: bearer })).status).toBe(400);
  });
});

describe('client mistakes get a 4xx naming the field, never a 500 (issue 11, item 7)', () => {
  /** `levels` nested objects `{"a":…}` around `1`, as JSON text (no recursion to build it). */
  const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const post = (body: string) => send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...bearer }, body });

  it('runs.rename with a blank name: 400 naming name, and the name is kept', async () => {
    const config = (await call(port, 'config.validate', { input: tiny, preset: 'quick' }, bearer)).envelope.result as { config: RunDetail['config'] };
    const run = store.createRun({ input: tiny, config: config.config, configHash: 'h', codeVersion: 'v', name: 'kept' });
    try {
      for (const name of ['', ' ', '\t\n ']) {
        const res = await call(port, 'runs.rename', { id: run.id, name }, bearer);
        expect(res.status, JSON.stringify(name)).toBe(400);
        expect(res.envelope.error?.problems).toEqual([{ path: 'name', message: 'expected a name with at least one visible character' }]);
      }
      expect(store.get(run.id).name).toBe('kept');
    } finally {
      store.delete(run.id);
    }
  });

  it('config.validate and runs.start with 20,000 nested objects: 400 naming where the 33rd level starts, nothing started', async () => {
    const before = store.list().length;
    for (const method of ['config.validate', 'runs.start']) {
      const res = await post(`{"method":"${method}","params":{"preset":"quick","input":{"task":${nestedText(20_000)}}}}`);
      expect(res.status, method).toBe(400);
      expect(JSON.parse(res.text).error.problems, method).toEqual([
        { path: `params.input.task.${Array(29).fill('a').join('.')}`, message: 'nested deeper than 32 levels of objects and arrays (the limit of one request)' },
      ]);
    }
    expect(store.list()).toHaveLength(before);
    // 32 levels, the body's own included, pass the limit and reach the schema.
    const within = await post(`{"method":"config.validate","params":{"preset":"quick","input":{"task":${nestedText(29)}}}}`);
    expect(within.status).toBe(200);
    expect(JSON.parse(within.text).result.problems).toEqual([{ path: 'task.a', message: expect.stringMatching(/unknown field/) }]);
  });

  it('over 1 MB: 413 naming the body, even when the header does not say so (chunked)', async () => {
    const before = store.list().length;
    const big = JSON.stringify({ method: 'runs.start', params: { input: {}, notes: 'x'.repeat(maxBodyBytes) } });
    for (const headers of [{}, { 'Transfer-Encoding': 'chunked' }] as Record<string, string>[]) {
      const res = await send(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...bearer, ...headers }, body: big });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text).error.problems).toEqual([{ path: '(body)', message: `The request body is over the limit of ${maxBodyBytes} bytes` }]);
    }
    expect(store.list()).toHaveLength(before);
  });

  it('the event stream closes on a frame from the page (1003) or one over its limit (1009), and stays up', async () => {
    const url = `ws://127.0.0.1:${port}/api/events?token=${server.token}`;
    for (const [frame, code] of [['{"method":"runs.list","params":{}}', 1003], ['x'.repeat(1024 * 1024), 1009]] as const) {
      const opened = await openSocket(url);
      if (!('socket' in opened)) throw new Error(`the upgrade was refused: ${opened.status}`);
      const closed = new Promise<number>((resolve) => opened.socket.once('close', (c: number) => resolve(c)));
      opened.socket.send(frame);
      expect(await closed).toBe(code);
    }
    const again = await openSocket(url);
    expect('socket' in again).toBe(true);
    if ('socket' in again) again.socket.close();
    expect((await call(port, 'app.info', {}, bearer)).status).toBe(200);
  });
});
