/**
 * The Paper page's methods on the LabService, with a real job queue on a temp store and tiny
 * configs (d = 24, m = 16, a few epochs: seconds, plumbing only; the claims' directions are tested
 * at `quick` in the engine tests). The plan says what exists, start queues what is missing (and
 * resumes a cancelled attempt), figures builds the claims whose runs are finished and leaves the
 * others pending, export renders the files; bad params name their field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiParams } from '../../shared/api.ts';
import type { PaperRunItem } from '../../shared/paper.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { LabService } from '../../main/lab/service.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { rejectionBy } from '../support/thrown.ts';

const tiny = {
  preset: 'quick',
  seeds: 1,
  ranks: [1, 2],
  input: {
    task: { kind: 'sparse-coding', d: 24, trainSize: 600 },
    model: { kind: 'two-layer', width: 16 },
    train: { cleanEpochs: 3, adversarialEpochs: 2 },
    eval: { testSize: 200 },
  },
} satisfies ApiParams<'paper.plan'>;

let dir: string;
let store: RunStore;
let queue: JobQueue;
let service: LabService;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-paper-'));
  store = RunStore.open(dir);
  queue = new JobQueue(store, { backend: 'wasm' });
  service = new LabService(store, queue, { measureThroughput: false });
});

afterAll(async () => {
  service.close();
  await queue.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rejection = (promise: Promise<unknown>) => rejectionBy(ApiError, promise);

/** Until every run and baseline set of the plan is finished (the baselines train beside the queue). */
async function settled(params: ApiParams<'paper.plan'>, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await queue.idle();
    const plan = await service.call('paper.plan', params);
    if (plan.counts.finished === plan.counts.needed) return plan;
    if (plan.items.some((i) => i.status === 'failed')) throw new Error(`failed: ${JSON.stringify(plan.items.filter((i) => i.status === 'failed'))}`);
    if (Date.now() > until) throw new Error(`not settled: ${JSON.stringify(plan.counts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('params', () => {
  it('name the bad field: seeds, ranks.N, preset, an experiment field, the protocol, unknown keys', async () => {
    expect((await rejection(service.call('paper.plan', { ...tiny, seeds: 11 }))).problems[0]?.path).toBe('seeds');
    expect((await rejection(service.call('paper.plan', { ...tiny, seeds: 1.5 }))).problems[0]?.path).toBe('seeds');
    expect((await rejection(service.call('paper.plan', { ...tiny, ranks: [] }))).problems[0]?.path).toBe('ranks');
    const rank = await rejection(service.call('paper.plan', { ...tiny, ranks: [1, 16] }));
    expect(rank.problems).toEqual([{ path: 'ranks.1', message: expect.stringMatching(/^16: expected an integer from 1 to 15/) }]);
    expect((await rejection(service.call('paper.plan', { ...tiny, ranks: [2, 2] }))).problems[0]).toEqual({ path: 'ranks.1', message: '2: given twice' });
    expect((await rejection(service.call('paper.start', { ...tiny, preset: 'nope' }))).problems[0]?.path).toBe('preset');
    expect((await rejection(service.call('paper.figures', { ...tiny, input: { task: { kind: 'sparse-coding', d: 0 } } }))).problems[0]?.path).toBe('task.d');
    expect((await rejection(service.call('paper.plan', { preset: 'scratch', seeds: 1 }))).problems[0]?.path).toBe('train.protocol');
    expect((await rejection(service.call('paper.plan', { ...tiny, colour: 'red' } as never))).problems).toEqual([{ path: 'colour', message: 'unknown field' }]);
    expect((await rejection(service.call('paper.export', { ...tiny, claim: 'C9' as never, format: 'svg' }))).problems[0]?.path).toBe('claim');
    expect((await rejection(service.call('paper.export', { ...tiny, claim: 'summary', format: 'png' }))).problems[0]?.path).toBe('format');
    expect((await rejection(service.call('paper.export', { ...tiny, claim: 'C1', format: 'html' }))).problems[0]?.path).toBe('format');
    // Nothing was queued by any of these.
    expect(store.list()).toHaveLength(0);
  });
});

describe('plan, start, figures, export', () => {
  it('plans every run and baseline set, all missing in an empty store, with the CLI command that makes the same', async () => {
    const plan = await service.call('paper.plan', tiny);
    expect(plan.items.map((i) => `${i.kind}:${i.label}:${i.status}`)).toEqual([
      'run:main · seed 0:missing',
      'run:small-init · seed 0:missing',
      'run:rank-1 · seed 0:missing',
      'run:rank-2 · seed 0:missing',
      'baselines:baselines · seed 0:missing',
    ]);
    expect(plan.counts).toEqual({ needed: 5, finished: 0, active: 0, missing: 5, otherCode: 0 });
    expect(plan.config).toMatchObject({ seed: 0, task: { d: 24 }, model: { width: 16 } });
    expect(plan.settings).toMatch(/quick preset \(d = 24, m = 16, .*1 seed, mean ± std \(seed 0\); test set 200/);
    expect(plan.command).toBe(
      'npm run lab -- figures --out DIR --preset quick --seeds 1 --ranks 1,2 --set task.d=24 --set task.trainSize=600 --set model.width=16 --set train.cleanEpochs=3 --set train.adversarialEpochs=2 --set eval.testSize=200',
    );
    const figures = await service.call('paper.figures', tiny);
    expect(figures.claims.map((c) => [c.id, c.status])).toEqual([
      ['C1', 'pending'],
      ['C2', 'pending'],
      ['C3', 'pending'],
      ['C4', 'pending'],
      ['C5', 'pending'],
    ]);
    const c3 = figures.claims[2]!;
    expect(c3.status === 'pending' && c3).toMatchObject({ needed: 2, done: 0, waitingFor: ['main · seed 0', 'small-init · seed 0'] });
  });

  it('starts what is missing on the job queue (in the runs list), then builds all five claims from the finished runs', async () => {
    const started = await service.call('paper.start', tiny);
    expect(started.runIds).toHaveLength(4);
    expect(started.baselineSeeds).toEqual([0]);
    const listed = await service.call('runs.list', { text: 'figures' });
    expect(listed.map((r) => r.id).sort()).toEqual([...started.runIds].sort());
    expect(listed.every((r) => r.preset === 'figures' && /^figures quick /.test(r.name))).toBe(true);
    const during = await service.call('paper.plan', tiny);
    expect(during.counts.active).toBeGreaterThan(0);
    expect(during.items.filter((i) => i.kind === 'run').every((i) => (i as PaperRunItem).runId !== null)).toBe(true);
    // Asking again while they run queues nothing twice.
    expect((await service.call('paper.start', tiny)).runIds).toEqual([]);

    await settled(tiny);
    const figures = await service.call('paper.figures', tiny);
    expect(figures.claims.map((c) => c.status)).toEqual(['ready', 'ready', 'ready', 'ready', 'ready']);
    for (const claim of figures.claims) {
      if (claim.status !== 'ready') continue;
      expect(claim.caption, claim.id).toMatch(/1 seed, mean ± std \(seed 0\)/);
      expect(claim.check.text.length, claim.id).toBeGreaterThan(20);
      expect(claim.csv.split('\n').length, claim.id).toBeGreaterThan(2);
      expect(claim.runIds.length, claim.id).toBeGreaterThan(0);
    }
    const c5 = figures.claims[4]!;
    expect(c5.status === 'ready' && c5.chart.kind === 'lines' && c5.chart.curves[0]!.x).toEqual([1, 2, 16]);
    const c4 = figures.claims[3]!;
    expect(c4.status === 'ready' && c4.csv.split('\n')[0]).toBe('model,clean_mean,clean_std,robust_mean,robust_std');
    // Everything exists now: start has nothing to do.
    expect(await service.call('paper.start', tiny)).toEqual({ runIds: [], baselineSeeds: [] });
  }, 120_000);

  it('exports a ready claim as SVG, PNG, PDF, CSV and the summary page as HTML', async () => {
    const file = async (claim: ApiParams<'paper.export'>['claim'], format: ApiParams<'paper.export'>['format']) => {
      const f = await service.call('paper.export', { ...tiny, claim, format });
      return { ...f, bytes: Buffer.from(f.base64, 'base64') };
    };
    const svg = await file('C2', 'svg');
    expect(svg).toMatchObject({ fileName: 'C2-purification.svg', contentType: 'image/svg+xml; charset=utf-8' });
    expect(svg.bytes.toString('utf8')).toMatch(/<svg/);
    expect((await file('C3', 'png')).bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await file('C4', 'pdf')).bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((await file('C5', 'csv')).bytes.toString('utf8').split('\n')[0]).toBe('rank,clean_mean,clean_std,robust_mean,robust_std');
    expect((await file('C1', 'txt')).bytes.toString('utf8')).toMatch(/^C1\. Clean training leaves coherent dense mixtures\n/);
    const summary = await file('summary', 'html');
    expect(summary.fileName).toBe('summary.html');
    expect(summary.bytes.toString('utf8').match(/<img /g)).toHaveLength(5);
  }, 60_000);

  it('reuses finished runs for another sweep; a claim waiting for a run is pending, and export says so', async () => {
    const wider = { ...tiny, ranks: [1, 4] };
    const plan = await service.call('paper.plan', wider);
    expect(plan.items.filter((i) => i.status === 'missing').map((i) => i.label)).toEqual(['rank-4 · seed 0']);
    const figures = await service.call('paper.figures', wider);
    expect(figures.claims.map((c) => c.status)).toEqual(['ready', 'ready', 'ready', 'ready', 'pending']);
    const c5 = figures.claims[4]!;
    expect(c5.status === 'pending' && c5).toMatchObject({ needed: 3, done: 2, waitingFor: ['rank-4 · seed 0'], stopped: [] });
    const pending = await rejection(service.call('paper.export', { ...wider, claim: 'C5', format: 'png' }));
    expect(pending.problems[0]).toEqual({ path: 'claim', message: '"C5": pending (2 of 3 finished)' });
  });

  it('cancels the plan’s runs; starting again resumes the stopped attempt instead of a new run', async () => {
    const wider = { ...tiny, ranks: [1, 4] };
    const { runIds } = await service.call('paper.start', wider);
    expect(runIds).toHaveLength(1);
    const cancelled = await service.call('paper.cancel', wider);
    expect(cancelled.runIds).toEqual(runIds);
    await queue.idle();
    const stopped = (await service.call('paper.plan', wider)).items.find((i) => i.label === 'rank-4 · seed 0') as PaperRunItem;
    expect(stopped).toMatchObject({ status: 'missing', runId: null, previous: { id: runIds[0], status: 'cancelled' } });
    expect((await service.call('paper.figures', wider)).claims[4]).toMatchObject({ status: 'pending', stopped: ['rank-4 · seed 0'] });
    const again = await service.call('paper.start', wider);
    expect(again.runIds).toEqual(runIds);
    await settled(wider);
    expect((await service.call('paper.figures', wider)).claims.every((c) => c.status === 'ready')).toBe(true);
    expect(store.list({ text: 'rank-4' })).toHaveLength(1);
  }, 120_000);
});
