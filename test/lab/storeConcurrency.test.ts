/**
 * Several processes on one store, for real: four child processes write runs at once (created,
 * started, an event and a heartbeat per epoch, finished) while a fifth opens and reads the store
 * in a loop. Every one succeeds, and every event each writer wrote is in the store. (A write
 * transaction that reads before it writes cannot wait for another writer: SQLite answers
 * "database is locked" at once; the store's transactions take the write lock first.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { metricsOf } from '../fixtures/storeWriter.ts';

const root = new URL('../../', import.meta.url).pathname;

function child(script: string, args: string[]) {
  const process_ = spawn(process.execPath, ['--import', 'tsx', join('test/fixtures', script), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  process_.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  process_.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => process_.on('close', (code) => resolve({ code, stdout, stderr })));
  return { process: process_, exited };
}

describe('one store, several processes', () => {
  it('4 writers and a reader at once all succeed, and every event is stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-concurrent-'));
    const runs = 3;
    const epochs = 60;
    const reader = child('storeReader.ts', [dir]);
    const writers = Array.from({ length: 4 }, () => child('storeWriter.ts', [dir, String(runs), String(epochs)]));
    const written = await Promise.all(writers.map((w) => w.exited));
    reader.process.stdin.end();
    const read = await reader.exited;
    for (const w of written) expect(w.code, w.stderr).toBe(0);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).rounds).toBeGreaterThan(0);

    const store = RunStore.open(dir);
    try {
      for (const w of written) {
        const { pid, ids } = JSON.parse(w.stdout) as { pid: number; ids: string[] };
        expect(ids).toHaveLength(runs);
        for (const id of ids) {
          const run = store.get(id);
          expect(run.status).toBe('finished');
          const losses = store.metricRows([id]).filter((r) => r.metric === 'loss');
          expect(losses.map((r) => r.value)).toEqual(Array.from({ length: epochs }, (_, e) => metricsOf(pid, e).loss));
          // The run's own log holds the same events, one a line.
          const log = readFileSync(join(run.folder, 'events.jsonl'), 'utf8').trim().split('\n');
          expect(log.map((line) => JSON.parse(line))).toEqual(Array.from({ length: epochs }, (_, e) => metricsOf(pid, e)));
          expect(existsSync(join(run.folder, 'run.json'))).toBe(true);
        }
      }
      expect(store.list()).toHaveLength(4 * runs);
    } finally {
      store.close();
    }
  }, 180_000);
});
