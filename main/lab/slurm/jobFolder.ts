/**
 * A sweep's Slurm job folder: self-contained, ready to copy to a cluster.
 *
 *   sweep.json        who the sweep is (id, name, grid, seeds, base input, preset) and its members:
 *                     each member's index (its array task), run id, grid point and seed
 *   members/N.json    member N's resolved config (defaults filled in, seed included): what it computes
 *   sweep.sbatch      the job array (sbatchScript.ts)
 *   submissions.json  each `sbatch` of this folder: job id, the tasks it ran, when
 *   runs/RUNID/       member runs' folders, each written by its own task only (store/runFolder.ts)
 *   logs/             Slurm's output of each task, JOBID_N.out
 *
 * Run ids are fixed when the folder is written, so the folder says where each member's results
 * will be before any task has run, and a resubmitted member continues in the same folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ExperimentInput, ResolvedExperiment } from '../../../shared/config.ts';
import { codeVersion, configHash } from '../provenance.ts';
import { writeFileAtomic } from '../store/atomicFile.ts';
import type { SweepMember } from '../sweep.ts';
import { sbatchScript, scriptName, type SlurmResources } from './sbatchScript.ts';

export const jobFileName = 'sweep.json';
export const jobFileFormat = 'purification-lab/slurm-sweep';
export const submissionsFileName = 'submissions.json';

/** One member as a sweep expands it: the job folder writes what `expandSweep` gives. */
export type JobMemberSpec = SweepMember;

const json = z.record(z.string(), z.unknown());

export const jobFileSchema = z.object({
  format: z.literal(jobFileFormat),
  version: z.literal(1),
  sweepId: z.string().regex(/^[0-9A-Za-z._-]{1,100}$/),
  name: z.string(),
  preset: z.string(),
  grid: z.record(z.string(), z.array(z.unknown())),
  seeds: z.number().int().min(1),
  input: json,
  createdAt: z.string(),
  codeVersion: z.string(),
  members: z.array(
    z.object({
      index: z.number().int().min(0),
      runId: z.string().regex(/^[0-9A-Za-z._-]{1,100}$/),
      name: z.string(),
      pointIndex: z.number().int().min(0),
      point: json,
      seed: z.number().int(),
      configHash: z.string(),
      input: json,
    }),
  ),
});
export type JobFile = z.output<typeof jobFileSchema>;
export type JobMember = JobFile['members'][number];

export const submissionSchema = z.object({
  jobId: z.string().regex(/^\d+$/),
  /** The array's task list as sbatch took it: "0-3" or "1,3" */
  tasks: z.string().regex(/^[\d,-]+$/),
  submittedAt: z.string(),
});
export type Submission = z.output<typeof submissionSchema>;

export class JobFolderError extends Error {
  override name = 'JobFolderError';
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new JobFolderError(code === 'ENOENT' ? `${file} does not exist: this is not ${what}` : `${file}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new JobFolderError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A job folder's sweep.json, validated (errors name the file and field). */
export function readJobFile(dir: string): JobFile {
  return readJson(join(dir, jobFileName), jobFileSchema, 'a Slurm job folder of Purification Lab (written by `lab sweep --slurm DIR`)');
}

export function isJobFolder(dir: string): boolean {
  return existsSync(join(dir, jobFileName));
}

/** Every submission of the folder, oldest first (none before the first sbatch). */
export function readSubmissions(dir: string): Submission[] {
  const file = join(dir, submissionsFileName);
  if (!existsSync(file)) return [];
  return readJson(file, z.array(submissionSchema), 'a submissions file');
}

export function recordSubmission(dir: string, submission: Submission): void {
  writeFileAtomic(join(dir, submissionsFileName), JSON.stringify([...readSubmissions(dir), submission], null, 2) + '\n');
}

/** The task indices of an array spec: "0-3,7" -> 0, 1, 2, 3, 7 ("%P" ignored). */
export function arrayTasks(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}

/** "1,2,3,7" -> "1-3,7": a short --array list for a resubmission. */
export function compactArray(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** For each member index, the latest submission that ran it (none: never submitted). */
export function latestSubmissionOf(submissions: readonly Submission[]): Map<number, Submission> {
  const latest = new Map<number, Submission>();
  for (const s of submissions) for (const i of arrayTasks(s.tasks)) latest.set(i, s);
  return latest;
}

/** Member N's config file. */
export const memberConfigFile = (dir: string, index: number) => join(dir, 'members', `${index}.json`);

/** A member's run folder in the job folder. */
export const memberRunFolder = (dir: string, member: Pick<JobMember, 'runId'>) => join(dir, 'runs', member.runId);

/** Slurm's log of member N in a submission. */
export const memberLogFile = (dir: string, jobId: string, index: number) => join(dir, 'logs', `${jobId}_${index}.out`);

/** Readable, sortable ids: the time, a random tag shared by the sweep, and the member index. */
function idStem(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const tag = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `${stamp.slice(0, 8)}-${stamp.slice(8)}-${tag}`;
}

/**
 * Write a new job folder. Refuses a folder that already holds anything (a sweep's results are
 * never overwritten). Returns what it wrote.
 */
export function writeJobFolder(
  dir: string,
  spec: { name: string; preset: string; grid: Record<string, readonly unknown[]>; seeds: number; base: ExperimentInput; members: readonly JobMemberSpec[]; resources: SlurmResources },
  now = new Date(),
): JobFile {
  if (spec.members.length === 0) throw new JobFolderError('A sweep needs at least one member');
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new JobFolderError(`${dir} is not empty: a job folder is written into a new (or empty) folder, never over another sweep's results`);
  const stem = idStem(now);
  const width = String(spec.members.length - 1).length;
  const job: JobFile = {
    format: jobFileFormat,
    version: 1,
    sweepId: `sweep-${stem}`,
    name: spec.name,
    preset: spec.preset,
    grid: Object.fromEntries(Object.entries(spec.grid).map(([k, v]) => [k, [...v]])),
    seeds: spec.seeds,
    input: spec.base as Record<string, unknown>,
    createdAt: now.toISOString(),
    codeVersion: codeVersion(),
    members: spec.members.map((m, index) => ({
      index,
      runId: `${stem}-${String(index).padStart(width, '0')}`,
      name: m.name,
      pointIndex: m.pointIndex,
      point: { ...m.point },
      seed: m.seed,
      configHash: configHash(m.config),
      input: m.input as Record<string, unknown>,
    })),
  };
  for (const sub of ['members', 'runs', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  spec.members.forEach((m, index) => writeFileAtomic(memberConfigFile(dir, index), JSON.stringify(m.config, null, 2) + '\n'));
  writeFileAtomic(join(dir, scriptName), sbatchScript({ name: spec.name, members: spec.members.length, resources: spec.resources }));
  // sweep.json last: a folder without it is not a job folder (a write cut short is not mistaken for one).
  writeFileAtomic(join(dir, jobFileName), JSON.stringify(job, null, 2) + '\n');
  return job;
}

/** Member N's resolved config, as written. */
export function readMemberConfig(dir: string, index: number): ResolvedExperiment {
  const file = memberConfigFile(dir, index);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ResolvedExperiment;
  } catch (error) {
    throw new JobFolderError(`${file}: ${(error as Error).message}`);
  }
}
