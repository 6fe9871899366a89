/**
 * One Slurm array task: run (or continue) one member of a job folder, writing only that member's
 * run folder, `DIR/runs/RUNID/`, exactly as the run store writes any run folder.
 *
 * No SQLite file is written on the shared file system (SQLite over NFS or Lustre loses data):
 * the task opens a store of its own in the node-local temporary folder ($TMPDIR), whose `runs/`
 * holds one symbolic link, to the member's folder. That store's index is thrown away when the
 * task ends; the folder (run.json, events.jsonl, checkpoints, weights, result) is the record, and
 * `lab import` indexes it at home.
 *
 * A member whose folder already holds a run that did not finish (a resubmission after a cancel,
 * a time limit or a node failure) resumes from its last checkpoint; a finished one is left alone.
 * SIGTERM (scancel, or the time limit, before Slurm's SIGKILL) stops the run at once and marks it
 * interrupted, without that epoch's checkpoint: the resubmission continues from the one before.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunEvent } from '../../../shared/events.ts';
import type { BackendRequest } from '../../engine/backend/chooseBackend.ts';
import { JobQueue } from '../jobs.ts';
import { configHash } from '../provenance.ts';
import { runFileName } from '../store/runFolder.ts';
import { RunStore, type RunStatus } from '../store/runStore.ts';
import { JobFolderError, memberRunFolder, readJobFile, readMemberConfig } from './jobFolder.ts';

/**
 * Test-only: `N@E` holds member N once the checkpoint of global epoch E is stored, and writes
 * `logs/member-N.held` in the job folder, so a test can cancel the task mid-run deterministically.
 */
export const holdMemberVariable = 'PURIFICATION_LAB_TEST_HOLD_MEMBER';

/** The marker file a held member writes (see holdMemberVariable). */
export const heldMarkerFile = (jobDir: string, index: number) => join(jobDir, 'logs', `member-${index}.held`);

export interface MemberTaskOptions {
  readonly backend?: BackendRequest | undefined;
  readonly fused?: boolean | undefined;
  readonly checkpointEvery?: number | undefined;
  /** Each event of the run (the CLI shows progress from them). */
  readonly onEvent?: ((event: RunEvent) => void) | undefined;
  /** A line for the task's log. */
  readonly log: (line: string) => void;
}

export interface MemberTaskResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly error: string | null;
}

function testHold(jobDir: string, index: number): { atCheckpoint: number; onHeld: () => void } | undefined {
  const match = /^(\d+)@(\d+)$/.exec(process.env[holdMemberVariable] ?? '');
  if (!match || Number(match[1]) !== index) return undefined;
  return { atCheckpoint: Number(match[2]), onHeld: () => writeFileSync(heldMarkerFile(jobDir, index), `held after the checkpoint of epoch ${match[2]}\n`) };
}

export async function runMemberTask(jobDir: string, index: number, options: MemberTaskOptions): Promise<MemberTaskResult> {
  const job = readJobFile(jobDir);
  const member = job.members[index];
  if (!member || member.index !== index) throw new JobFolderError(`Member ${index} is not in ${jobDir}: its sweep has members 0 to ${job.members.length - 1}`);
  const config = readMemberConfig(jobDir, index);
  if (configHash(config) !== member.configHash) {
    throw new JobFolderError(`${join(jobDir, 'members', `${index}.json`)} is not the config sweep.json records for member ${index} (its hash differs): the folder was changed after it was written`);
  }
  const folder = resolve(memberRunFolder(jobDir, member));
  const existing = existsSync(join(folder, runFileName));
  const scratch = mkdtempSync(join(tmpdir(), `purification-lab-task-${index}-`));
  const link = join(scratch, 'runs', member.runId);
  mkdirSync(join(scratch, 'runs'));
  if (existing) symlinkSync(folder, link, 'dir'); // before the store opens: it indexes the folder
  let store: RunStore | null = null;
  const onTerm = () => {
    options.log(`SIGTERM: stopping run ${member.runId} now (interrupted; a resubmission continues from its last checkpoint)`);
    queue?.abandon('its Slurm task was cancelled or reached its time limit (SIGTERM)');
  };
  let queue: JobQueue | null = null;
  try {
    store = RunStore.open(scratch);
    const hold = testHold(jobDir, index);
    queue = new JobQueue(store, {
      backend: options.backend,
      ...(options.fused === false ? { fused: false } : {}),
      checkpointEvery: options.checkpointEvery ?? 5,
      ...(hold ? { testHold: hold } : {}),
    });
    const unsubscribe = queue.subscribe((update) => {
      if (update.kind === 'event') options.onEvent?.(update.event);
    });
    process.on('SIGTERM', onTerm);
    try {
      if (existing) {
        let run;
        try {
          run = store.get(member.runId);
        } catch {
          throw new JobFolderError(`The run folder ${folder} of member ${index} cannot be continued: ${store.notices.join('; ') || 'it could not be read'}`);
        }
        if (run.status === 'finished') {
          options.log(`member ${index}: run ${run.id} has already finished; nothing to do`);
          return { runId: run.id, status: run.status, error: null };
        }
        options.log(
          run.checkpointEpoch !== null
            ? `member ${index}: continuing run ${run.id} (${run.status}) from its checkpoint after epoch ${run.checkpointEpoch}`
            : `member ${index}: run ${run.id} (${run.status}) has no checkpoint: starting it again`,
        );
        queue.resume(run.id);
      } else {
        mkdirSync(folder, { recursive: true });
        symlinkSync(folder, link, 'dir');
        const info = await queue.backendInfo();
        options.log(`member ${index}: run ${member.runId} (${member.name}) on ${info.label}, node ${process.env.SLURMD_NODENAME ?? 'unknown'}`);
        queue.submit({ id: member.runId, input: member.input, config, preset: job.preset, name: member.name, sweepId: job.sweepId });
      }
      await queue.idle();
    } finally {
      process.off('SIGTERM', onTerm);
      unsubscribe();
    }
    const after = store.get(member.runId);
    return { runId: after.id, status: after.status, error: after.error };
  } finally {
    store?.close();
    // The link goes, the folder it points to stays (rm does not follow links).
    rmSync(scratch, { recursive: true, force: true });
  }
}
