/**
 * The setup form's Slurm methods, thin over slurm/ and runImport.ts as the CLI's cluster verbs are:
 * write a sweep's job folder (and submit it with sbatch), each member's status from the folder and
 * one squeue call, and the import of its finished runs. The folders written or looked at here are
 * remembered in the store (slurm-folders.json), so the status view lists them after a restart.
 * The params arrive checked against shared/api.ts; here the folder, the grid, every member's
 * config and the resources are.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError, type ApiParams, type ApiResults, type SlurmSweepStatus } from '../../shared/api.ts';
import { ImportError, importRuns } from './runImport.ts';
import { JobFolderError, writeJobFolder } from './slurm/jobFolder.ts';
import { checkResources, SlurmSetupError } from './slurm/sbatchScript.ts';
import { querySqueue, type SqueueRunner } from './slurm/squeue.ts';
import { submitJobFolder, SubmitError, type SbatchRunner } from './slurm/submit.ts';
import { sweepStatus } from './slurm/sweepStatus.ts';
import { writeFileAtomic } from './store/atomicFile.ts';
import type { RunStore } from './store/runStore.ts';
import { sweepName } from './sweep.ts';
import { maxSlurmMembers, sweepFromParams } from './sweepService.ts';

/** The stand-ins tests give for a cluster's commands (the real ones by default). */
export interface SlurmCommands {
  readonly sbatch?: SbatchRunner;
  readonly squeue?: SqueueRunner;
}

export const foldersFileName = 'slurm-folders.json';
const foldersSchema = z.array(z.object({ folder: z.string(), writtenAt: z.string() }));

const folderProblem = (message: string) => new ApiError(`folder: ${message}`, [{ path: 'folder', message }]);

function rememberedFolders(store: RunStore): { folder: string; writtenAt: string }[] {
  try {
    return foldersSchema.parse(JSON.parse(readFileSync(join(store.dir, foldersFileName), 'utf8')));
  } catch {
    return []; // none yet, or a damaged list: it only lists folders, it holds no results
  }
}

function remember(store: RunStore, folder: string): void {
  const others = rememberedFolders(store).filter((f) => f.folder !== folder);
  writeFileAtomic(join(store.dir, foldersFileName), JSON.stringify([{ folder, writtenAt: new Date().toISOString() }, ...others], null, 2) + '\n');
}

/** The folder as an absolute, normalised path, refused when it holds anything (write) or is no job folder (read). */
function jobFolderParam(folder: string, forWriting: boolean): string {
  const dir = resolve(folder);
  if (forWriting) {
    if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) throw folderProblem(`${dir} is not empty: a job folder is written into a new (or empty) folder, never over another sweep's results`);
  } else if (!existsSync(join(dir, 'sweep.json'))) {
    throw folderProblem(`${dir} is not a Slurm job folder (it has no sweep.json)`);
  }
  return dir;
}

/** slurm.write: the job folder, as `lab sweep ... --slurm FOLDER [--submit]` writes it. */
export function writeSlurmFolder(store: RunStore, p: ApiParams<'slurm.write'>, project: string, commands: SlurmCommands = {}): ApiResults['slurm.write'] {
  const dir = jobFolderParam(p.folder, true);
  const sweep = sweepFromParams(p, maxSlurmMembers);
  let resources;
  try {
    resources = checkResources(p.resources, 'resources');
  } catch (error) {
    if (error instanceof SlurmSetupError) throw new ApiError(error.message, [{ path: 'resources', message: error.message }]);
    throw error;
  }
  // Submitting from here runs this checkout, as the CLI's --submit does.
  if (p.submit && resources.project === undefined) resources = { ...resources, project };
  const grid = Object.fromEntries(sweep.grid.map(([path, values]) => [path, [...values]]));
  let job;
  try {
    job = writeJobFolder(dir, { name: sweepName(sweep.grid, p.seeds), preset: sweep.preset, grid, seeds: p.seeds, base: sweep.base, members: sweep.members, resources });
  } catch (error) {
    if (error instanceof JobFolderError) throw folderProblem(error.message);
    throw error;
  }
  remember(store, dir);
  if (!p.submit) return { folder: dir, sweepId: job.sweepId, members: job.members.length, jobId: null };
  try {
    const submission = submitJobFolder(dir, {}, commands.sbatch);
    return { folder: dir, sweepId: job.sweepId, members: job.members.length, jobId: submission.jobId };
  } catch (error) {
    if (error instanceof SubmitError) throw new ApiError(`submit: ${error.message} (the folder ${dir} is written)`, [{ path: 'submit', message: error.message }]);
    throw error;
  }
}

/** slurm.folders: the remembered folders, newest first. */
export function slurmFolders(store: RunStore): ApiResults['slurm.folders'] {
  return rememberedFolders(store).map((f) => ({ ...f, exists: existsSync(join(f.folder, 'sweep.json')) }));
}

/** slurm.status: `lab sweep status FOLDER` as data. */
export function slurmStatus(store: RunStore, p: ApiParams<'slurm.status'>, commands: SlurmCommands = {}): SlurmSweepStatus {
  const dir = jobFolderParam(p.folder, false);
  let status;
  try {
    status = sweepStatus(dir, (ids) => querySqueue(ids, commands.squeue));
  } catch (error) {
    if (error instanceof JobFolderError) throw folderProblem(error.message);
    throw error;
  }
  if (!rememberedFolders(store).some((f) => f.folder === dir)) remember(store, dir);
  return {
    folder: dir,
    sweepId: status.job.sweepId,
    name: status.job.name,
    jobIds: status.jobIds,
    squeueUnreachable: status.squeue.reachable ? null : status.squeue.why,
    counts: status.counts,
    members: status.members.map((m) => ({
      index: m.member.index,
      runId: m.member.runId,
      name: m.member.name,
      state: m.state,
      task: m.task,
      squeue: m.squeue,
      epoch: m.progress ? `${m.progress.globalEpoch}/${m.progress.totalEpochs} (${m.progress.phase} ${m.progress.epoch})` : null,
      clean: m.summary?.final.cleanAccuracy ?? m.progress?.cleanAccuracy ?? null,
      robust: m.summary?.final.robustAccuracy ?? m.progress?.robustAccuracy ?? null,
      why: m.why,
    })),
  };
}

/** slurm.import: `lab import FOLDER`; all or nothing, as runImport.ts checks every file first. */
export function importSlurmFolder(store: RunStore, p: ApiParams<'slurm.import'>): ApiResults['slurm.import'] {
  const dir = jobFolderParam(p.folder, false);
  try {
    const report = importRuns(store, dir);
    return { added: report.added.length, updated: report.updated.length, unchanged: report.unchanged.length, interrupted: report.interrupted.length, sweeps: report.sweeps };
  } catch (error) {
    if (error instanceof ImportError || error instanceof JobFolderError) throw folderProblem(error.message);
    throw error;
  }
}
