/**
 * Child-process driver for test/engine/webgpuStacked.test.ts's sweep: a sweep of two tiny
 * two-layer members (their attack radii differ) through the product's job queue on webgpu, one
 * job slot, so the two stack in one worker on the stacked WGSL kernels; then each member alone on
 * webgpu in this process. Then a stack under stress: three members, one cancelled at its first
 * epoch's end, one whose thresholds silence its network (it fails at init); the cancelled one is
 * resumed alone. Prints one JSON line: per member its status, the stack its provenance records,
 * and the accuracies (as counts of test samples) of its evaluations, stacked and alone; and the
 * stressed stack's statuses, checkpoint epochs and summaries beside an uninterrupted lone run's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveExperiment, type ExperimentInput } from '../../shared/config.ts';
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

// The stack under stress: kept (seed 0), cancelled at its first epoch's end (seed 1), dead (its
// thresholds at 0.95 of each neuron's norm silence the network: it fails at init).
const longer: ExperimentInput = { ...tiny, train: { ...tiny.train, cleanEpochs: 4 } };
const inputs: ExperimentInput[] = [{ ...longer, seed: 0 }, { ...longer, seed: 1 }, { ...longer, seed: 2, model: { kind: 'two-layer', width: 16, threshold: { ratio: 0.95 } } }];
const [kept, cancelled, dead] = queue.submitStack(inputs.map((input) => ({ input, config: resolveExperiment(input) })));
const answers: boolean[] = [];
const unsubscribe = queue.subscribe((u) => {
  if (u.kind === 'event' && u.runId === cancelled!.id && u.event.type === 'metrics' && u.event.globalEpoch === 1) answers.push(queue.cancel(u.runId));
});
await queue.idle();
unsubscribe();
const record = (id: string) => {
  const run = store.get(id);
  return { status: run.status, error: run.error ?? null, checkpointEpoch: run.checkpointEpoch ?? null, stacked: run.provenance?.['stacked'] ?? null };
};
const afterCancel = { kept: record(kept!.id), cancelled: record(cancelled!.id), dead: record(dead!.id), answers };
const keptAlone = accuracies(await runInProcess(resolveExperiment(inputs[0]!), { backend: 'webgpu' }));
const keptStacked = afterCancel.kept.status === 'finished' ? accuracies(store.result(kept!.id)) : [];
queue.resume(cancelled!.id);
await queue.idle();
const resumed = store.get(cancelled!.id);
const uninterrupted = await runInProcess(resolveExperiment(inputs[1]!), { backend: 'webgpu' });
const stress = {
  afterCancel,
  kept: { stacked: keptStacked, alone: keptAlone },
  resumed: { ...record(cancelled!.id), summary: resumed.summary ?? null, uninterrupted: JSON.parse(JSON.stringify(uninterrupted.summary)) },
};
await queue.shutdown();
store.close();
process.stdout.write(`${JSON.stringify({ stacks: sweep.stacks, members: out, stress })}\n`);
