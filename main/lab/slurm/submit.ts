/**
 * `sbatch` of a job folder's script, run in the folder (its logs/ and the tasks' SLURM_SUBMIT_DIR
 * are relative to it), and the job id recorded in submissions.json. A resubmission names only
 * some tasks: `--array=LIST` on the command line overrides the script's own line.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { arraySpec, scriptName } from './sbatchScript.ts';
import { compactArray, readJobFile, recordSubmission, type Submission } from './jobFolder.ts';

export type SbatchRunner = (args: readonly string[], cwd: string) => { status: number | null; stdout: string; stderr: string; error?: Error | undefined };

const runSbatch: SbatchRunner = (args, cwd) => spawnSync('sbatch', args, { cwd, encoding: 'utf8', timeout: 120_000 });

export class SubmitError extends Error {
  override name = 'SubmitError';
}

/**
 * Submit the folder's array: every member, or only `tasks` (a resubmission), at most
 * `maxParallel` at a time when given. Returns the recorded submission.
 */
export function submitJobFolder(dir: string, options: { tasks?: readonly number[]; maxParallel?: number | undefined } = {}, run: SbatchRunner = runSbatch): Submission {
  const job = readJobFile(dir);
  const tasks = options.tasks ? compactArray(options.tasks) : arraySpec(job.members.length).replace(/%.*$/, '');
  if (tasks === '') throw new SubmitError('There are no members to submit');
  const args = ['--parsable', ...(options.tasks || options.maxParallel !== undefined ? [`--array=${tasks}${options.maxParallel !== undefined ? `%${options.maxParallel}` : ''}`] : []), scriptName];
  const result = run(args, dir);
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new SubmitError(code === 'ENOENT' ? 'sbatch is not installed here: submit from a login node of the cluster (copy the folder there, then: cd FOLDER && sbatch sweep.sbatch)' : `sbatch could not run: ${result.error.message}`);
  }
  if (result.status !== 0) throw new SubmitError(`sbatch refused ${join(dir, scriptName)}: ${result.stderr.trim() || `exit code ${result.status}`}`);
  // --parsable prints "JOBID" or "JOBID;CLUSTER".
  const jobId = result.stdout.trim().split(';')[0] ?? '';
  if (!/^\d+$/.test(jobId)) throw new SubmitError(`sbatch answered "${result.stdout.trim()}", not a job id`);
  const submission = { jobId, tasks, submittedAt: new Date().toISOString() };
  recordSubmission(dir, submission);
  return submission;
}
