/**
 * Browser mode with a run stuck in a computation (the test hook makes its worker spin without
 * yielding, as an SVD that never converges would): the server still answers over HTTP and
 * WebSocket, since runs compute in the job host's workers, and a cancel ends the stuck run within
 * the grace period, with the reason, before the next queued run starts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { AppInfo, JobStreamMessage } from '../../shared/api.ts';
import type { ExperimentInput } from '../../shared/config.ts';
import { stuckJobSeedVariable } from '../../main/lab/jobHost/messages.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { startServer, type RunningServer } from '../../main/web/server.ts';
import { call, openSocket } from './http.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200 },
};
const stuckSeed = 11;

let store: RunStore;
let queue: JobQueue;
let server: RunningServer;
let bearer: Record<string, string>;

beforeAll(async () => {
  process.env[stuckJobSeedVariable] = String(stuckSeed);
  store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-stuck-store-')));
  queue = new JobQueue(store, { backend: 'wasm' });
  server = await startServer({ store, queue, port: 0, rendererDir: mkdtempSync(join(tmpdir(), 'lab-stuck-site-')) });
  bearer = { Authorization: `Bearer ${server.token}` };
});

afterAll(async () => {
  delete process.env[stuckJobSeedVariable];
  await server?.close();
  await queue?.shutdown();
  store?.close();
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

it('answers app.info over HTTP and WebSocket while a run is stuck, and a cancel ends it before the next run', async () => {
  const stuck = await call(server.port, 'runs.start', { input: { ...tiny, seed: stuckSeed } }, bearer);
  const next = await call(server.port, 'runs.start', { input: tiny }, bearer);
  expect([stuck.status, next.status]).toEqual([200, 200]);
  const stuckId = (stuck.envelope.result as { id: string }).id;
  const nextId = (next.envelope.result as { id: string }).id;
  await until(() => store.events(stuckId).some((e) => e.type === 'metrics' && e.globalEpoch === 2));

  // The run's worker spins; the server's own loop is free.
  const info = await call(server.port, 'app.info', {}, bearer);
  expect(info.status).toBe(200);
  expect((info.envelope.result as AppInfo).backend.name).toBe('wasm');
  expect(store.get(stuckId).status).toBe('running');

  const opened = await openSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
  if (!('socket' in opened)) throw new Error(`the event stream refused the upgrade (${opened.status})`);
  const socket: WebSocket = opened.socket;
  const messages: JobStreamMessage[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as JobStreamMessage));

  const cancel = await call(server.port, 'runs.cancel', { id: stuckId }, bearer);
  expect(cancel.envelope).toEqual({ ok: true, result: { cancelled: true } });
  // Over the socket: the stuck run cancelled (with why), then the next run to its end.
  const statuses = () => messages.filter((m): m is JobStreamMessage & { type: 'status' } => m.type === 'status').map((m) => [m.runId, m.status, m.error ?? null]);
  await until(() => statuses().some(([id, status]) => id === nextId && status === 'finished'));
  const reason = 'The run did not stop within 10 s of the cancel (stuck in a computation), so its worker was stopped; resume continues from its last checkpoint';
  expect(statuses()).toEqual([
    [stuckId, 'cancelled', reason],
    [nextId, 'running', null],
    [nextId, 'finished', null],
  ]);
  expect(store.get(stuckId)).toMatchObject({ status: 'cancelled', error: reason });
  socket.close();
});
