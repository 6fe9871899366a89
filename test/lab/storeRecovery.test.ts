/**
 * The run folders are the truth and runs.sqlite their index. A database lost or damaged three
 * ways (emptied, truncated, 200 kB of garbage in the middle) is detected, `store check` names the
 * problem, and the index rebuilt from the folders gives back every run exactly: statuses, names,
 * notes, sweep tags, metrics, events and results.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
import type { BackendInfo, MetricsEvent } from '../../shared/events.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore, StoreDamagedError } from '../../main/lab/store/runStore.ts';
import { checkStore, rebuildStore } from '../../main/lab/store/storeIndex.ts';
import { imageRun } from '../fixtures/imageRun.ts';
import { storeRun } from '../fixtures/storeRun.ts';
import { labInProcess } from '../support/labCli.ts';

const root = new URL('../../', import.meta.url).pathname;
const original = mkdtempSync(join(tmpdir(), 'lab-recovery-'));
const backend: BackendInfo = { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: false };

/** The CLI in-process; every call names its store with --store. */
const lab = (args: string[]) => labInProcess(args, original);

/** Everything a user sees of the store's runs (progress, a live heartbeat's copy, left out; folders relative to the store). */
function snapshot(dir: string) {
  const store = RunStore.open(dir);
  try {
    const runs = store.list().map(({ progress: _progress, ...run }) => ({ ...run, folder: relative(dir, run.folder) }));
    return {
      runs,
      metrics: store.metricRows(),
      events: Object.fromEntries(runs.map((r) => [r.id, store.events(r.id)])),
      results: Object.fromEntries(runs.map((r) => [r.id, store.result(r.id)])),
      sweeps: [...new Set(runs.map((r) => r.sweepId).filter((s) => s !== null))].map((s) => store.sweep(s)),
    };
  } finally {
    store.close();
  }
}

/** A copy of the original store whose database `damage` then breaks. */
function damagedCopy(damage: (file: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-recovery-copy-'));
  cpSync(original, dir, { recursive: true });
  damage(join(dir, 'runs.sqlite'));
  return dir;
}

let expected: ReturnType<typeof snapshot>;

beforeAll(async () => {
  const store = RunStore.open(original);
  // A real run, trained.
  const input: ExperimentInput = { task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 }, model: { kind: 'two-layer', width: 16 }, train: { cleanEpochs: 3, adversarialEpochs: 2 }, eval: { testSize: 200, every: 2 } };
  const queue = new JobQueue(store, { backend: 'wasm', checkpointEvery: 2 });
  const trained = queue.submit({ input, config: resolveExperiment(input), preset: 'quick', name: 'trained', notes: 'a real run' });
  await queue.idle();
  store.rename(trained.id, 'trained, renamed');
  // An image run with its neuron pictures (a few hundred kB of events), and notes.
  const image = storeRun(store, imageRun({ units: 36, cleanEpochs: 4, adversarialEpochs: 3 }), { name: 'image fixture', preset: 'mnist-mlp' });
  store.setNotes(image, 'pictures');
  // A sweep whose members failed and were cancelled, and a run interrupted half-way.
  const config = resolveExperiment({ seed: 3 });
  const sweepId = store.createSweep({ name: 'eps sweep', grid: { 'train.attack.eps': [0.1, 0.2] }, seeds: 1, input: {} });
  const member = (name: string) => store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), name, sweepId, preset: 'flagship' });
  const metrics = (globalEpoch: number): MetricsEvent => ({
    type: 'metrics', phase: 'clean', epoch: globalEpoch, globalEpoch, learningRate: 0.5, loss: 1 / (globalEpoch + 3), silentFraction: 0.25, tensors: 9, elapsedSeconds: globalEpoch,
    cleanAccuracy: { estimate: 0.5 + globalEpoch / 10, lower: 0.4, upper: 0.7, n: 200 }, mixtureDirectionAccuracy: { estimate: Number.NaN, lower: Number.NaN, upper: Number.NaN, n: 0 }, robustAccuracy: null,
  });
  const failed = member('eps 0.1');
  store.markRunning(failed.id, backend, { fixture: true });
  for (const e of [0, 1, 2]) store.appendEvent(failed.id, metrics(e));
  store.end(failed.id, 'failed', 'boom at epoch 3');
  store.end(member('eps 0.2').id, 'cancelled');
  const interrupted = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion(), name: 'cut off' });
  store.markRunning(interrupted.id, backend, {});
  store.appendEvent(interrupted.id, metrics(0));
  store.end(interrupted.id, 'interrupted', 'the process running it stopped before the run finished');
  store.close();
  expected = snapshot(original);
  expect(expected.runs.map((r) => r.status).sort()).toEqual(['cancelled', 'failed', 'finished', 'finished', 'interrupted']);
  expect(checkStore(original).problems).toEqual([]);
}, 180_000);

describe('a damaged or lost database', () => {
  it('an empty database beside the run folders: check says so, and opening fills the index from the folders', () => {
    const dir = damagedCopy((file) => truncateSync(file, 0));
    const check = checkStore(dir);
    expect(check.problems).toEqual([expect.stringMatching(/runs\.sqlite is empty \(0 bytes\): 5 run folder\(s\) are not indexed/)]);
    const store = RunStore.open(dir);
    expect(store.notices).toEqual([expect.stringMatching(/was empty: its index was rebuilt from 5 run folder\(s\)/)]);
    store.close();
    expect(snapshot(dir)).toEqual(expected);
    expect(checkStore(dir).problems).toEqual([]);
  });

  it('a truncated database: opening refuses with the way out, `lab store check` names it, `lab store rebuild` restores every run', async () => {
    const dir = damagedCopy((file) => truncateSync(file, Math.floor(statSync(file).size / 2)));
    expect(() => RunStore.open(dir)).toThrow(StoreDamagedError);
    expect(() => RunStore.open(dir)).toThrow(/runs\.sqlite is damaged .*store rebuild/);
    const listed = await lab(['runs', '--store', dir]);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/is damaged/);
    expect(listed.stderr).not.toMatch(/\n\s+at /); // a sentence, not a stack

    const check = await lab(['store', 'check', '--store', dir]);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout).toMatch(/runs\.sqlite (fails its integrity check|cannot be read)/);

    const before = readFileSync(join(dir, 'runs.sqlite'));
    const rebuilt = await lab(['store', 'rebuild', '--store', dir]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt the index .* from 5 run folder\(s\) and 1 sweep\(s\)/);
    const aside = readdirSync(dir).filter((f) => /^runs\.sqlite\.damaged-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/.test(f));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!)).equals(before)).toBe(true); // kept as it was
    expect(snapshot(dir)).toEqual(expected);
    expect((await lab(['store', 'check', '--store', dir])).stdout).toMatch(/no problems found/);
  });

  it('200 kB of garbage in the middle of the database: detected at open, rebuilt exactly', () => {
    const dir = damagedCopy((file) => {
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(600_000);
      let seed = 12345;
      const garbage = Buffer.alloc(200_000, 0).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      const fd = openSync(file, 'r+');
      writeSync(fd, garbage, 0, garbage.length, Math.floor(size / 2) - 100_000);
      closeSync(fd);
    });
    expect(() => RunStore.open(dir)).toThrow(StoreDamagedError);
    expect(checkStore(dir).problems).toEqual([expect.stringMatching(/runs\.sqlite (fails its integrity check|cannot be read)/)]);
    const rebuilt = rebuildStore(dir);
    expect(rebuilt).toMatchObject({ runs: 5, sweeps: 1, problems: [] });
    expect(existsSync(rebuilt.aside!)).toBe(true);
    expect(snapshot(dir)).toEqual(expected);
  });

  it('a store from before the folders held their own record (schema 1) gets them at open, then rebuilds exactly', () => {
    const dir = damagedCopy((file) => {
      const db = new Database(file);
      db.pragma('user_version = 1');
      db.close();
    });
    for (const id of readdirSync(join(dir, 'runs'))) {
      rmSync(join(dir, 'runs', id, 'run.json'));
      rmSync(join(dir, 'runs', id, 'events.jsonl'), { force: true });
    }
    rmSync(join(dir, 'sweeps'), { recursive: true });
    RunStore.open(dir).close();
    expect(checkStore(dir).problems).toEqual([]);
    expect(rebuildStore(dir)).toMatchObject({ runs: 5, sweeps: 1, problems: [] });
    expect(snapshot(dir)).toEqual(expected);
  });

  it('rebuild refuses while a live process has a run queued, and touches nothing', async () => {
    const dir = damagedCopy(() => {});
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/storeQueuer.ts', dir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const id = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`the queuing process exited (${code}) before queuing`)));
      });
      const before = readFileSync(join(dir, 'runs.sqlite'));
      expect(() => rebuildStore(dir)).toThrow(`Run ${id} is queued in process ${child.pid}: stop it (or let it finish) before rebuilding the store's index`);
      expect(readFileSync(join(dir, 'runs.sqlite')).equals(before)).toBe(true);
      expect(readdirSync(dir).filter((f) => f.includes('damaged') || f.includes('rebuilding'))).toEqual([]);
    } finally {
      child.stdin.end();
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    }
  }, 60_000);

  it('check names folders without rows, rows without folders, and records that differ', () => {
    const dir = damagedCopy(() => {});
    const store = RunStore.open(dir);
    const [first, second, third] = store.list();
    store.db.prepare('DELETE FROM runs WHERE id = ?').run(first!.id);
    store.db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run('edited behind its back', third!.id);
    store.close();
    rmSync(join(dir, 'runs', second!.id), { recursive: true });
    expect(checkStore(dir).problems.sort()).toEqual(
      [
        `run ${first!.id} (${first!.name}) has a folder but is not in the index`,
        `run ${second!.id} is in the index but its folder ${join(dir, 'runs', second!.id)} is missing`,
        `run ${third!.id}: the index and ${join(dir, 'runs', third!.id, 'run.json')} differ in notes`,
      ].sort(),
    );
  });
});
