/**
 * `npm run serve` as a user runs it, in a child process: it prints the backend and a tokened
 * URL, takes runs through the API, and on Ctrl-C (SIGINT) lets the running run finish its epoch,
 * checkpoints it, marks it (and the run queued behind it) interrupted, closes the server and
 * exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../shared/api.ts';
import type { ExperimentInput } from '../../shared/config.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { call } from './http.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Long enough (thousands of short epochs) that it is still running when the signal comes. */
const long: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 32, k: 3, trainSize: 2000 },
  model: { kind: 'two-layer', width: 32 },
  train: { cleanEpochs: 2000, adversarialEpochs: 5 },
  eval: { testSize: 200, every: 0 },
  instruments: { every: 100, coefficientsEvery: 0 },
};

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run serve', () => {
  it('prints the backend and the URL, and on SIGINT checkpoints the running run, marks it interrupted and exits 0', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'lab-serve-store-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/web/serve.ts', '--no-open', '--no-build', '--port', '0', '--store', storeDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const [, port, token] = await until('the URL', async () => /Purification Lab: http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})\n/.exec(stdout));
    expect(stdout.split('\n')[0]).toMatch(/^backend: (wasm|tensorflow \((GPU|CPU)\)|cpu)/);
    expect(stdout).toContain(`store: ${storeDir}`);
    const auth = { Authorization: `Bearer ${token}` };
    const started = await call(Number(port), 'runs.start', { input: long, name: 'stopped by Ctrl-C' }, auth);
    expect(started.status, JSON.stringify(started.envelope)).toBe(200);
    const id = (started.envelope.result as { id: string }).id;
    const queued = ((await call(Number(port), 'runs.start', { input: long, name: 'queued behind it' }, auth)).envelope.result as { id: string }).id;
    // Running, and past its first epochs: a stop now has an epoch to checkpoint.
    await until('two epochs', async () => {
      const run = (await call(Number(port), 'runs.get', { id }, auth)).envelope.result as RunDetail;
      return run.status === 'running' && run.result.metrics.length >= 3 ? run : null;
    });

    // Ctrl-C in a terminal under `npm run serve` arrives twice (from the terminal, and forwarded
    // by npm): both are one request to stop cleanly.
    child.kill('SIGINT');
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(new RegExp(`interrupted: ${id} \\(checkpoint after epoch \\d+\\)`));

    const store = RunStore.open(storeDir);
    try {
      const run = store.get(id);
      expect(run.status).toBe('interrupted');
      expect(run.checkpointEpoch).not.toBeNull();
      expect(run.checkpointEpoch!).toBeGreaterThanOrEqual(1);
      expect(run.checkpointEpoch!).toBeLessThan(2000);
      expect(store.readCheckpoint(id).globalEpoch).toBe(run.checkpointEpoch);
      // The run waiting behind it never started: interrupted too (resume starts it), not left "queued".
      expect(store.get(queued)).toMatchObject({ status: 'interrupted', checkpointEpoch: null });
    } finally {
      store.close();
    }
  });

  it('refuses a bad option, naming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/web/serve.ts', '--port', 'eighty'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port "eighty": expected an integer from 0 to 65535/);
  });
});
