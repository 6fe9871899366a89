/**
 * Sweeps on a real Slurm: a one-node cluster (test/support/slurmCluster.ts) runs a 2 x 2 sweep of
 * a shrunk `quick` preset as a job array. Submitted, waited for (bounded, by polling its state),
 * imported: the imported summaries equal those of the same members run locally on the same
 * backend. A task held at a known epoch (the test hook of slurm/memberTask.ts) is cancelled with
 * scancel, shows as interrupted, is resubmitted, and finishes with the uninterrupted run's numbers.
 * A truncated or foreign folder is refused with nothing changed.
 *
 * Without Slurm (or root) these tests are skipped, saying why; under CI=true they fail instead.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../shared/events.ts';
import { canonicalJson } from '../../main/lab/provenance.ts';
import { readJobFile, readSubmissions } from '../../main/lab/slurm/jobFolder.ts';
import { heldMarkerFile, holdMemberVariable } from '../../main/lab/slurm/memberTask.ts';
import { sweepStatus, type SweepStatus } from '../../main/lab/slurm/sweepStatus.ts';
import { RunStore, type RunRecord } from '../../main/lab/store/runStore.ts';
import { prerequisite } from '../support/prerequisite.ts';
import { slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from '../support/slurmCluster.ts';

const slurm = prerequisite('a one-node Slurm cluster (slurm-wlm and munge, run as root)', slurmMissing());

const root = new URL('../../', import.meta.url).pathname;
/** A shrunk quick preset: each member takes seconds. Three clean epochs (checkpointed at the phase end), two adversarial. */
const shrunk = ['--preset', 'quick', '--set', 'task.d=16', '--set', 'model.width=16', '--set', 'task.trainSize=400', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200', '--set', 'eval.epsGrid=[0,0.3]', '--set', 'eval.noiseDraws=1'];
const sweep = [...shrunk, '--grid', 'train.attack.eps=0.2,0.3', '--seeds', '2'];
const generous = 300_000;

let cluster: SlurmCluster | null = null;
let work = '';

function lab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...cluster?.env, ...env }, timeout: generous });
  return { ...result, output: `${result.stdout}\n${result.stderr}` };
}

function slurmCommand(command: string, args: string[]) {
  return spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...cluster!.env } });
}

/** Poll the sweep's status until `done` holds (bounded), printing the last status on a timeout. */
async function waitForStatus(dir: string, what: string, done: (s: SweepStatus) => boolean): Promise<SweepStatus> {
  let last: SweepStatus | null = null;
  return waitFor(
    what,
    () => {
      last = sweepStatus(dir);
      return done(last) ? last : null;
    },
    generous,
    () => `${last ? last.members.map((m) => `member ${m.member.index}: ${m.state} ${m.why.join(' | ')}`).join('\n') : ''}\n${cluster?.logs() ?? ''}`,
  );
}

const allFinished = (s: SweepStatus) => s.counts.finished === s.members.length;

describe.skipIf(slurm.skip)('Slurm sweeps on a real one-node cluster', () => {
  let localStore = '';
  let local: Map<string, RunRecord>;
  let localMetricRows: Map<string, number>;
  /** The local sweep's table, as `lab sweep` printed it. */
  let localTable: string[];

  beforeAll(async () => {
    slurm.require();
    work = mkdtempSync(join(tmpdir(), 'purification-lab-slurm-test-'));
    cluster = await startSlurmCluster();
    // sweepStatus (in this process) calls squeue, which finds the cluster by SLURM_CONF.
    process.env.SLURM_CONF = cluster.env.SLURM_CONF;
    // The same members run locally, on this machine's backend, once for both tests.
    localStore = join(work, 'local');
    // Each member alone, as a Slurm array task computes it: a local stack computes on the stacked
    // kernels (the kernels' own matMuls), which agree with a lone run to tolerance, not to the bit.
    const run = lab(['sweep', ...sweep, '--no-stack', '--store', localStore]);
    expect(run.status, run.output).toBe(0);
    localTable = run.stdout.split('\n').filter((l) => /^(train\.attack\.eps|0\.[23]) /.test(l));
    expect(localTable).toHaveLength(3);
    const store = RunStore.open(localStore);
    try {
      local = new Map(store.list().map((r) => [r.configHash, r]));
      localMetricRows = new Map(store.list().map((r) => [r.configHash, store.metricRows([r.id]).length]));
    } finally {
      store.close();
    }
    expect(local.size).toBe(4);
  }, 2 * generous);

  afterAll(async () => {
    delete process.env.SLURM_CONF;
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('submits a 2 x 2 sweep, and its imported summaries equal the same members run locally', async () => {
    const job = join(work, 'job');
    const submitted = lab(['sweep', ...sweep, '--slurm', job, '--submit']);
    expect(submitted.status, submitted.output).toBe(0);
    const [submission] = readSubmissions(job);
    expect(submitted.stdout).toContain(`submitted: job ${submission!.jobId}, array 0-3`);
    const script = readFileSync(join(job, 'sweep.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3\n');
    expect(readdirSync(join(job, 'members')).sort()).toEqual(['0.json', '1.json', '2.json', '3.json']);

    const status = await waitForStatus(job, 'the four array tasks to finish', allFinished);
    expect(status.squeue.reachable).toBe(true);
    const shown = lab(['sweep', 'status', job]);
    expect(shown.status, shown.output).toBe(0);
    expect(shown.stdout).toContain('4 members; 4 finished');
    // No SQLite file anywhere in the job folder: every task wrote only its run folder.
    const files = spawnSync('find', [job, '-name', '*.sqlite*'], { encoding: 'utf8' }).stdout.trim();
    expect(files).toBe('');

    const home = join(work, 'home');
    const imported = lab(['import', job, '--store', home]);
    expect(imported.status, imported.output).toBe(0);
    expect(imported.stdout).toContain('4 added, 0 updated, 0 already there');
    const again = lab(['import', job, '--store', home]);
    expect(again.stdout).toContain('0 added, 0 updated, 4 already there');

    const store = RunStore.open(home);
    try {
      const runs = store.list({ sweepId: readJobFile(job).sweepId });
      expect(runs).toHaveLength(4);
      for (const run of runs) {
        expect(run.status).toBe('finished');
        const twin = local.get(run.configHash)!;
        expect(twin, `a local run with the config hash ${run.configHash}`).toBeDefined();
        // Same backend and thread count, both from the provenance; then the same numbers.
        const prov = run.provenance as { backend: { name: string; details: { threads?: unknown } }; slurm: { jobId: string } | null };
        const localProv = twin.provenance as typeof prov;
        expect(prov.backend.name).toBe(localProv.backend.name);
        expect(prov.backend.details.threads).toEqual(localProv.backend.details.threads);
        expect(prov.slurm?.jobId).toBe(submission!.jobId);
        expect(localProv.slurm).toBeNull();
        expect(canonicalJson(run.summary)).toBe(canonicalJson(twin.summary));
        // Everything came with it: events, metrics, weights, checkpoint, result.
        expect(store.metricRows([run.id]).length).toBe(localMetricRows.get(run.configHash));
        expect(store.metricRows([run.id]).length).toBeGreaterThan(20);
        for (const f of ['weights-init.safetensors', 'weights-final.safetensors', 'checkpoint.safetensors', 'result.json', 'events.jsonl']) expect(existsSync(join(run.folder, f)), f).toBe(true);
        // An ordinary run: the Paper page's reuse by config hash finds it.
        expect(store.findFinished(run.configHash, run.codeVersion)?.id).toBeDefined();
      }
    } finally {
      store.close();
    }
    // The CLI's sweep table of the imported sweep is the local sweep's, line for line.
    const listed = lab(['runs', '--sweep', readJobFile(job).sweepId, '--store', home]);
    expect(listed.status, listed.output).toBe(0);
    for (const line of localTable) expect(listed.stdout).toContain(line);
    const check = lab(['store', 'check', '--store', home]);
    expect(check.status, check.output).toBe(0);
  }, 3 * generous);

  it('shows a task cancelled mid-run as interrupted; imported it resumes here, and resubmitted it finishes there, both with the uninterrupted numbers', async () => {
    const job = join(work, 'cancelled');
    // Member 1 holds once its checkpoint after epoch 3 (the clean phase's end) is stored.
    const submitted = lab(['sweep', ...sweep, '--slurm', job, '--submit'], { [holdMemberVariable]: '1@3' });
    expect(submitted.status, submitted.output).toBe(0);
    const jobId = readSubmissions(job)[0]!.jobId;
    await waitFor('member 1 to be held at epoch 3', () => existsSync(heldMarkerFile(job, 1)), generous, () => cluster!.logs());
    const held = sweepStatus(job).members[1]!;
    expect(held.state).toBe('running');
    expect(held.squeue?.state).toBe('RUNNING');
    expect(held.progress?.globalEpoch).toBe(3);
    expect(held.progress?.totalEpochs).toBe(5);

    const cancel = slurmCommand('scancel', [`${jobId}_1`]);
    expect(cancel.status, cancel.stderr).toBe(0);
    const stopped = await waitForStatus(job, 'member 1 interrupted and the others finished', (s) => s.members[1]!.state === 'interrupted' && s.counts.finished === 3);
    expect(stopped.members[1]!.why.join(' ')).toContain('its Slurm task was cancelled or reached its time limit (SIGTERM)');
    const shown = lab(['sweep', 'status', job]);
    expect(shown.stdout).toMatch(/1\s+\S+\s+1\s+interrupted/);

    // Imported now, the interrupted member is an ordinary interrupted run here: resume finishes it locally.
    const here = join(work, 'finish-here');
    const imported = lab(['import', job, '--store', here]);
    expect(imported.status, imported.output).toBe(0);
    expect(imported.stdout).toContain('4 added');
    const cutOff = stopped.members[1]!.member;
    const store = RunStore.open(here);
    try {
      expect(store.get(cutOff.runId).status).toBe('interrupted');
      expect(store.get(cutOff.runId).checkpointEpoch).toBe(3);
    } finally {
      store.close();
    }
    const resumed = lab(['resume', cutOff.runId, '--store', here]);
    expect(resumed.status, resumed.output).toBe(0);
    const after = RunStore.open(here);
    try {
      expect(canonicalJson(after.get(cutOff.runId).summary)).toBe(canonicalJson(local.get(cutOff.configHash)!.summary));
    } finally {
      after.close();
    }

    const resubmitted = lab(['sweep', 'resubmit', job]);
    expect(resubmitted.status, resubmitted.output).toBe(0);
    expect(resubmitted.stdout).toContain('resubmitted 1 member(s) (1)');
    const done = await waitForStatus(job, 'the resubmitted member to finish', allFinished);
    const member = done.members[1]!;
    const runFolder = join(job, 'runs', member.member.runId);
    const logged = readFileSync(join(runFolder, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const starts = logged.filter((e) => e.type === 'run-started');
    expect(starts.map((e) => (e as { resumedFromEpoch?: number }).resumedFromEpoch)).toEqual([undefined, 3]);
    const twin = local.get(member.member.configHash)!;
    expect(canonicalJson(member.summary)).toBe(canonicalJson(twin.summary));
    // The second submission ran only member 1.
    expect(readSubmissions(job).map((s) => s.tasks)).toEqual(['0-3', '1']);
  }, 3 * generous);

  it('refuses a truncated or foreign folder, and changes nothing in the store', () => {
    const home = join(work, 'refuse-home');
    const good = lab(['import', join(work, 'job'), '--store', home]);
    expect(good.status, good.output).toBe(0);
    const snapshot = () => ({
      runs: readdirSync(join(home, 'runs')).sort(),
      entries: readdirSync(home).sort(),
      rows: lab(['runs', '--store', home]).stdout,
    });
    const before = snapshot();

    // A copy of the cancelled sweep's folder with one event log cut in the middle of a line.
    const truncated = join(work, 'truncated');
    cpSync(join(work, 'cancelled'), truncated, { recursive: true });
    const victim = readJobFile(truncated).members[2]!.runId;
    const log = join(truncated, 'runs', victim, 'events.jsonl');
    truncateSync(log, statSync(log).size - 40);
    const refused = lab(['import', truncated, '--store', home]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`${log} line`);
    expect(refused.stderr).toContain('refused');
    expect(snapshot()).toEqual(before);

    // A foreign folder: its config is not the one its record was computed from.
    const foreign = join(work, 'foreign');
    cpSync(join(work, 'cancelled'), foreign, { recursive: true });
    const other = readJobFile(foreign).members[0]!.runId;
    const configFile = join(foreign, 'runs', other, 'config.json');
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('"seed": 0', '"seed": 7'));
    const refusedForeign = lab(['import', foreign, '--store', home]);
    expect(refusedForeign.status).toBe(2);
    expect(refusedForeign.stderr).toContain(`${configFile} does not hash to the config hash`);
    expect(snapshot()).toEqual(before);
  }, 2 * generous);
});
