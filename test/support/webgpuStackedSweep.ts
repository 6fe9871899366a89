/**
 * Child-process driver for test/engine/webgpuStacked.test.ts's sweep: a sweep of two tiny
 * two-layer members (their attack radii differ) through the product's job queue on webgpu, one
 * job slot, so the two stack in one worker on the stacked WGSL kernels; then each member alone on
 * webgpu in this process. Prints one JSON line: per member its status, the stack its provenance
 * records, and the accuracies (as counts of test samples) of its evaluations, stacked and alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentInput } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';
import { JobQueue } from '../../main/lab/jobs.ts';
import { runInProcess } from '../../main/lab/runInProcess.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { expandSweep, startSweep } from '../../main/lab/sweep.ts';

const tiny: ExperimentInput = {
  task: { kind: 'sparse-coding', d: 16, k: 3, trainSize: 200 },
  model: { kind: 'two-layer', width: 16 },
  train: { cleanEpochs: 2, adversarialEpochs: 1, batchSize: 50 },
  // a light evaluation (the software adapter runs every shader on the CPU): PGD and FGM at two radii
  eval: { testSize: 200, every: 0, epsGrid: [0, 0.2], noiseDraws: 1, attacks: [{ kind: 'pgd', steps: 5 }, { kind: 'fgm' }] },
};

/** Every accuracy of a result's evaluations, as a count of test samples. */
const accuracies = (result: RunResult) =>
  result.evaluations.flatMap((e) => [e.cleanAccuracy, e.robustAccuracy, ...e.curves.flatMap((c) => c.accuracy)].map((a) => Math.round(a.estimate * a.n)));

const store = RunStore.open(mkdtempSync(join(tmpdir(), 'lab-stacked-webgpu-')));
const queue = new JobQueue(store, { backend: 'webgpu', concurrency: 1, checkpointEvery: 1 });
const grid: [string, number[]][] = [['train.attack.eps', [0.2, 0.4]]];
const members = expandSweep(tiny, grid, 1);
const sweep = startSweep(store, queue, { base: tiny, grid, seeds: 1, members, preset: 'tiny' });
await queue.idle();
const out = [];
for (const [i, member] of members.entries()) {
  const run = store.get(sweep.runs[i]!.runId);
  const stacked = run.status === 'finished' ? accuracies(store.result(run.id)) : [];
  const alone = accuracies(await runInProcess(member.config, { backend: 'webgpu' }));
  out.push({ status: run.status, error: run.error ?? null, stacked: run.provenance?.['stacked'] ?? null, runIds: sweep.runs.map((r) => r.runId), backend: run.backend?.name ?? null, accuracies: { stacked, alone } });
}
await queue.shutdown();
store.close();
process.stdout.write(`${JSON.stringify({ stacks: sweep.stacks, members: out })}\n`);
