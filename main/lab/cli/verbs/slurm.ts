/**
 * The cluster verbs, thin over ../../slurm/ and ../../runImport.ts:
 *   sweep ... --slurm DIR [--submit]   write a sweep as a Slurm job folder (and submit it)
 *   sweep status DIR                   each member's state, with one squeue call
 *   sweep resubmit DIR                 submit again only the failed and interrupted members
 *   sweep member DIR N                 what an array task runs (the script calls it)
 *   import DIR|RUNFOLDER|FILE.tar.gz   bring finished runs into the store
 */
import { formatMeanStd, meanStd } from '../../../../shared/aggregate.ts';
import type { RunSummary } from '../../../../shared/events.ts';
import type { BackendRequest } from '../../../engine/backend/chooseBackend.ts';
import { writeJobFolder, type JobMemberSpec } from '../../slurm/jobFolder.ts';
import { checkResources, mergeResources, readProfile, scriptName, type SlurmResources } from '../../slurm/sbatchScript.ts';
import { submitJobFolder } from '../../slurm/submit.ts';
import { sweepStatus, type MemberStatus, type SweepStatus } from '../../slurm/sweepStatus.ts';
import { textTable } from '../../textTable.ts';
import type { CliWriter } from '../cliIo.ts';
import { integerOption as integer, openStore, type CliValues, type Verb } from '../options.ts';
import { progressView } from '../progressBar.ts';
import { UsageError } from '../usage.ts';

/** The resources: a --profile file, with the command line's options on top. */
export function resourcesFrom(values: CliValues): SlurmResources {
  const profile = values.profile ? readProfile(values.profile) : {};
  const options = checkResources(
    Object.fromEntries(
      Object.entries({
        partition: values.partition,
        time: values.time,
        cpusPerTask: integer(values['cpus-per-task'], 'cpus-per-task', 1),
        mem: values.mem,
        gres: values.gres,
        maxParallel: integer(values['max-parallel'], 'max-parallel', 1),
        sbatch: values.sbatch,
        setup: values.setup,
        project: values.project,
      }).filter(([, v]) => v !== undefined),
    ),
    'The Slurm options',
  );
  return mergeResources(profile, options);
}

/** The project root of this checkout: what --submit on this machine's cluster runs. */
const thisProject = new URL('../../../../', import.meta.url).pathname.replace(/\/$/, '');

/** `lab sweep ... --slurm DIR [--submit]`, given the sweep's expansion. */
export function writeSlurmSweep(
  values: CliValues,
  sweep: { name: string; preset: string; grid: Record<string, readonly unknown[]>; seeds: number; base: Record<string, unknown>; members: readonly JobMemberSpec[] },
  out: CliWriter,
): number {
  const dir = values.slurm!;
  let resources = resourcesFrom(values);
  // Submitting from here runs this checkout; a folder to copy elsewhere needs --project or the variable.
  if (values.submit && resources.project === undefined) resources = { ...resources, project: thisProject };
  const job = writeJobFolder(dir, { ...sweep, resources });
  out.write(`${job.sweepId}: ${job.members.length} members written to ${dir} (${scriptName}, members/N.json, sweep.json)\n`);
  if (!values.submit) {
    out.write(`copy the folder to the cluster, then: cd FOLDER && sbatch ${scriptName}\n`);
    if (resources.project === undefined) out.write('the script needs PURIFICATION_LAB_PROJECT (the checkout on the cluster) set at submission, or write it with --project\n');
    return 0;
  }
  const submission = submitJobFolder(dir);
  out.write(`submitted: job ${submission.jobId}, array ${submission.tasks}\nstatus: npm run lab -- sweep status ${dir}\n`);
  return 0;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3));

function detail(m: MemberStatus): string {
  if (m.state === 'finished' && m.summary) return `clean ${fmt(m.summary.final.cleanAccuracy)}  robust ${fmt(m.summary.final.robustAccuracy)}`;
  if (m.state === 'running' && m.progress) return `epoch ${m.progress.globalEpoch}/${m.progress.totalEpochs} (${m.progress.phase} ${m.progress.epoch})  clean ${fmt(m.progress.cleanAccuracy)}  robust ${fmt(m.progress.robustAccuracy)}`;
  return m.why[0] ?? '';
}

const table = (rows: readonly (readonly string[])[]) => textTable(rows, { leftAligned: Infinity, gap: '  ' });

const sweepMetrics: [string, (s: RunSummary) => number | undefined][] = [
  ['clean', (s) => s.final.cleanAccuracy],
  ['robust', (s) => s.final.robustAccuracy],
  ['mixture-dir', (s) => s.final.mixtureDirectionAccuracy],
  ['mixture ratio', (s) => s.final.mixtureRatioMedian],
];

/** The finished members' table: one row per grid point, mean ± std over its finished seeds. */
function finishedTable(status: SweepStatus): string {
  const keys = Object.keys(status.job.grid);
  const points = new Map<number, MemberStatus[]>();
  for (const m of status.members) points.set(m.member.pointIndex, [...(points.get(m.member.pointIndex) ?? []), m]);
  const rows = [[...keys, 'seeds', ...sweepMetrics.map(([n]) => n)]];
  for (const members of points.values()) {
    const summaries = members.map((m) => m.summary).filter((s): s is RunSummary => s !== null && s.final !== undefined);
    rows.push([...keys.map((k) => JSON.stringify(members[0]!.member.point[k])), `${summaries.length}/${members.length}`, ...sweepMetrics.map(([, get]) => formatMeanStd(meanStd(summaries.map(get).filter((v): v is number => v !== undefined))))]);
  }
  return table(rows);
}

export function printStatus(status: SweepStatus, out: CliWriter): void {
  const { job, counts } = status;
  out.write(`${job.name} (${job.sweepId}): ${job.members.length} members; ${Object.entries(counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
  out.write(status.squeue.reachable ? `squeue: one call for job(s) ${status.jobIds.join(', ') || '(none submitted)'}\n` : `squeue not reachable (${status.squeue.why}): states from the run folders only\n`);
  const rows = [['member', 'run', 'seed', 'state', 'slurm', 'detail'], ...status.members.map((m) => [
    String(m.member.index),
    m.member.runId,
    String(m.member.seed),
    m.state,
    m.squeue ? `${m.task} ${m.squeue.state}${m.squeue.node ? ` on ${m.squeue.node}` : ` (${m.squeue.reason})`}` : (m.task ?? '-'),
    detail(m),
  ])];
  out.write(`${table(rows)}\n`);
  for (const m of status.members.filter((s) => (s.state === 'failed' || s.state === 'interrupted') && s.why.length > 1)) {
    out.write(`\nmember ${m.member.index} (${m.state}):\n${m.why.map((l) => `  ${l}`).join('\n')}\n`);
  }
  if (counts.finished > 0) out.write(`\n${finishedTable(status)}\n(final model metrics of the finished members, mean ± std over seeds)\n`);
}

/** `sweep status|resubmit|member DIR [N]`. */
export const slurmSweepVerb: Verb = async (values, rest, io) => {
  const out = io.stdout;
  const [sub, dir, index] = rest;
  if (!dir) throw new UsageError(`sweep ${sub} needs the job folder: sweep ${sub} DIR`);
  switch (sub) {
    case 'status':
      printStatus(sweepStatus(dir), out);
      return 0;
    case 'resubmit': {
      const status = sweepStatus(dir);
      if (!status.squeue.reachable) throw new UsageError(`sweep resubmit needs squeue, to be sure no member is still running (${status.squeue.why})`);
      const again = status.members.filter((m) => m.state === 'failed' || m.state === 'interrupted').map((m) => m.member.index);
      if (again.length === 0) {
        out.write(`nothing to resubmit: ${Object.entries(status.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
        return 0;
      }
      const submission = submitJobFolder(dir, { tasks: again, maxParallel: integer(values['max-parallel'], 'max-parallel', 1) });
      out.write(`resubmitted ${again.length} member(s) (${submission.tasks}) as job ${submission.jobId}; each continues from its last checkpoint\n`);
      return 0;
    }
    case 'member': {
      const n = integer(index, 'member index', 0);
      if (n === undefined) throw new UsageError('sweep member needs the job folder and the member index: sweep member DIR N');
      const view = progressView(io.stderr);
      // Loaded here: status and import should not pay for the job queue and the engine.
      const { runMemberTask } = await import('../../slurm/memberTask.ts');
      const result = await runMemberTask(dir, n, {
        backend: values.backend as BackendRequest | undefined,
        fused: !values['no-fused'],
        checkpointEvery: integer(values['checkpoint-every'], 'checkpoint-every', 0),
        onEvent: (event) => view.onEvent(event),
        log: (line) => io.stderr.write(`${line}\n`),
      });
      view.clear();
      io.stderr.write(`member ${n}: run ${result.runId} ${result.status}${result.error ? ` (${result.error})` : ''}\n`);
      return result.status === 'finished' ? 0 : result.status === 'interrupted' ? 143 : 1;
    }
    default:
      throw new UsageError(`Unknown sweep sub-verb "${sub}": expected status, resubmit or member`);
  }
};

/** `import DIR|RUNFOLDER|FILE.tar.gz`. */
export const importVerb: Verb = async (values, rest, io) => {
  if (rest.length !== 1) throw new UsageError('import needs one source: a job folder, a run folder, a store folder, or a .tar.gz of one');
  const out = io.stdout;
  const store = openStore(values, io);
  try {
    const { importRuns } = await import('../../runImport.ts');
    const report = importRuns(store, rest[0]!);
    const parts = [`${report.added.length} added`, `${report.updated.length} updated`, `${report.unchanged.length} already there`];
    out.write(`imported from ${rest[0]} into ${store.dir}: ${parts.join(', ')}${report.sweeps.length ? `; sweep ${report.sweeps.join(', ')}` : ''}\n`);
    if (report.interrupted.length > 0) out.write(`interrupted where they ran (resume continues them): ${report.interrupted.join(', ')}\n`);
    if (report.sweeps.length > 0) out.write(`the sweep's runs: npm run lab -- runs --sweep ${report.sweeps[0]}\n`);
    return 0;
  } finally {
    store.close();
  }
};
