/**
 * The `sbatch` script of a sweep's job folder: one Slurm job array, one task per member. The
 * resources are the user's (options or a profile file, never guessed), checked here so that no
 * value can break out of its `#SBATCH` line; the environment lines (a `module load`, the path to
 * the project on the cluster) are written as given, with the reason each is needed.
 *
 * Each task runs the headless CLI on its member (`lab sweep member DIR N`), which writes only
 * that member's run folder under `DIR/runs/`. The script is the same for every submission:
 * a resubmission names its tasks with `sbatch --array=LIST`, which overrides the line here.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Slurm's words: a partition or account name, a gres spec, a memory size, a time limit. */
const slurmWord = /^[A-Za-z0-9_.:,+=/@-]+$/;

export const slurmResourcesSchema = z
  .object({
    /** `--partition` */
    partition: z.string().regex(slurmWord, 'expected a partition name (letters, digits, _ . , - only)').optional(),
    /** `--time`: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS */
    time: z.string().regex(/^(\d+-)?\d+(:\d+){0,2}$/, 'expected a Slurm time limit such as 30, 2:00:00 or 1-12:00:00').optional(),
    /** `--cpus-per-task` (default 1: the wasm backend computes on one core) */
    cpusPerTask: z.number().int().min(1).max(4096).optional(),
    /** `--mem`, per node: 4G, 500M */
    mem: z.string().regex(/^\d+[KMGT]?$/, 'expected a memory size such as 4G or 500M').optional(),
    /** `--gres`, for a GPU: gpu:1 or gpu:a100:1 */
    gres: z.string().regex(slurmWord, 'expected a gres spec such as gpu:1').optional(),
    /** `%P` on the array: at most this many tasks at once */
    maxParallel: z.number().int().min(1).optional(),
    /** Extra `#SBATCH` lines, each an option as sbatch takes it: "--account=lab", "--qos=short" */
    sbatch: z.array(z.string().regex(/^--?[A-Za-z][^\n\r]*$/, 'expected one sbatch option on one line, such as --account=lab')).optional(),
    /** Shell lines that make Node 20.19+ available on a compute node: "module load nodejs/20" */
    setup: z.array(z.string().regex(/^[^\n\r]*$/, 'expected one line')).optional(),
    /** The folder of a Purification Lab checkout (with `npm ci` done) as the compute nodes see it */
    project: z.string().regex(/^[^\n\r"$`\\]+$/, 'expected a folder path without quotes, $, ` or backslashes').optional(),
  })
  .strict();
export type SlurmResources = z.output<typeof slurmResourcesSchema>;

export class SlurmSetupError extends Error {
  override name = 'SlurmSetupError';
}

/** Check resources; the error names the field (and the file they came from). */
export function checkResources(value: unknown, source: string): SlurmResources {
  const parsed = slurmResourcesSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new SlurmSetupError(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
}

/** A profile file: JSON with the fields of SlurmResources, the cluster's usual settings. */
export function readProfile(file: string): SlurmResources {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SlurmSetupError(`The Slurm profile ${file} cannot be read: ${(error as Error).message}`);
  }
  return checkResources(value, `The Slurm profile ${file}`);
}

/** The profile's settings with the command line's on top; each list adds to the profile's. */
export function mergeResources(profile: SlurmResources, options: SlurmResources): SlurmResources {
  const merged: SlurmResources = { ...profile, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (profile.sbatch || options.sbatch) merged.sbatch = [...(profile.sbatch ?? []), ...(options.sbatch ?? [])];
  if (profile.setup || options.setup) merged.setup = [...(profile.setup ?? []), ...(options.setup ?? [])];
  return merged;
}

/** `--array=0-(K-1)` with `%P` when concurrency is capped. */
export function arraySpec(members: number, maxParallel?: number): string {
  return `0-${members - 1}${maxParallel !== undefined ? `%${maxParallel}` : ''}`;
}

/** The script's name in a job folder. */
export const scriptName = 'sweep.sbatch';

/** Shell single-quoting (a sweep name in a comment or --job-name). */
const quoteWord = (text: string) => text.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60) || 'sweep';

export function sbatchScript(spec: { name: string; members: number; resources: SlurmResources }): string {
  const r = spec.resources;
  const lines = [
    '#!/bin/bash',
    `# Purification Lab: the sweep "${spec.name.replace(/[\r\n]/g, ' ')}" as one Slurm job array, one task per member.`,
    '# Submit it from this folder:   cd THIS_FOLDER && sbatch sweep.sbatch',
    '# Task N runs members/N.json with the headless CLI and writes only runs/RUNID/ (its id is in sweep.json):',
    '# no task writes a shared SQLite file (SQLite on a network file system loses data); its index lives in',
    '# the node-local $TMPDIR and is removed when the task ends. See it with: npm run lab -- sweep status THIS_FOLDER',
    '# and bring the finished runs home with: npm run lab -- import THIS_FOLDER',
    `#SBATCH --job-name=purification-lab-${quoteWord(spec.name)}`,
    `#SBATCH --array=${arraySpec(spec.members, r.maxParallel)}`,
    // Relative to the folder sbatch runs in (this one): logs/JOBID_TASK.out.
    '#SBATCH --output=logs/%A_%a.out',
    `#SBATCH --cpus-per-task=${r.cpusPerTask ?? 1}`,
    '#SBATCH --ntasks=1',
    ...(r.partition ? [`#SBATCH --partition=${r.partition}`] : []),
    ...(r.time ? [`#SBATCH --time=${r.time}`] : []),
    ...(r.mem ? [`#SBATCH --mem=${r.mem}`] : []),
    ...(r.gres ? [`#SBATCH --gres=${r.gres}`] : []),
    ...(r.sbatch ?? []).map((line) => `#SBATCH ${line}`),
    'set -euo pipefail',
    '',
    '# The environment a compute node needs: Node 20.19 or newer on PATH (for example a `module load`).',
    ...(r.setup && r.setup.length > 0 ? r.setup : ['# (none given: node must already be on PATH; add lines with --setup or a profile\'s "setup")']),
    '',
    '# PROJECT: a Purification Lab checkout on the cluster, with `npm ci` done in it (its node_modules',
    '# hold tsx, tfjs and better-sqlite3 built for the cluster\'s Node). PURIFICATION_LAB_PROJECT, when',
    '# set at submission (sbatch passes the environment on), wins over the path written here.',
    `PROJECT="\${PURIFICATION_LAB_PROJECT:-${r.project ?? ''}}"`,
    'if [ -z "$PROJECT" ] || [ ! -f "$PROJECT/main/lab/cli/lab.ts" ]; then',
    '  echo "sweep.sbatch: PROJECT=\'$PROJECT\' is not a Purification Lab checkout: set PURIFICATION_LAB_PROJECT or write it with --project" >&2',
    '  exit 2',
    'fi',
    'JOB_DIR="${SLURM_SUBMIT_DIR:?run this script with sbatch, from its folder}"',
    '# tsx is resolved from the working directory, so the task runs in the project.',
    'cd "$PROJECT"',
    'exec node --import tsx main/lab/cli/lab.ts sweep member "$JOB_DIR" "$SLURM_ARRAY_TASK_ID"',
    '',
  ];
  return lines.join('\n');
}
