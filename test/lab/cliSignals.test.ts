/**
 * Ctrl-C in the CLI, for real (a child process and SIGINT): the run computes in a worker, so the
 * CLI always hears it. The first stops at the end of the epoch with a checkpoint; a run stuck in
 * a computation (the test hook) is stopped after the grace period instead, from its last
 * checkpoint; a second Ctrl-C ends the process at once, stuck or not. Each stopped run resumes
 * to exactly the numbers of an uninterrupted one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stuckJobSeedVariable } from '../../main/lab/jobHost/messages.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';

const root = new URL('../../', import.meta.url).pathname;
const config = ['--preset', 'quick', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=6', '--set', 'train.adversarialEpochs=3', '--set', 'eval.testSize=200', '--checkpoint-every', '1'];

/** The CLI run directly, as `node --import tsx` (not under npm, whose relayed duplicate of one Ctrl-C it ignores). */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];
  return env;
}

function lab(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', env: environment(), timeout: 300_000 });
  return { code: result.status, stderr: result.stderr };
}

/** CLI processes a failed test left running (a hang is the failure these tests look for). */
const children = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/**
 * Start `lab run`, send SIGINT once `ready` holds for its stderr, then `again` more when
 * `readyAgain` holds; resolves with the exit code and stderr once the process has exited.
 */
function interruptedRun(store: string, seed: number, env: Record<string, string>, ready: RegExp, readyAgain?: RegExp): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'run', '--store', store, ...config, '--seed', String(seed)], { cwd: root, env: environment(env), stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  let signals = 0;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (signals === 0 && ready.test(stderr)) {
      signals = 1;
      child.kill('SIGINT');
    } else if (signals === 1 && readyAgain?.test(stderr)) {
      signals = 2;
      child.kill('SIGINT');
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

function onlyRun(dir: string) {
  const store = RunStore.open(dir);
  try {
    const runs = store.list();
    expect(runs).toHaveLength(1);
    return runs[0]!;
  } finally {
    store.close();
  }
}

/** Resume the run, and check it ends exactly as the same run uninterrupted does. */
function resumesExactly(dir: string, id: string, seed: number): void {
  const resumed = lab(['resume', '--store', dir, id]);
  expect(resumed.code, resumed.stderr).toBe(0);
  const reference = mkdtempSync(join(tmpdir(), 'lab-signal-ref-'));
  const whole = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'run', '--store', reference, ...config, '--seed', String(seed)], { cwd: root, encoding: 'utf8', env: environment(), timeout: 300_000 });
  expect(whole.status, whole.stderr).toBe(0);
  const after = onlyRun(dir);
  expect(after.status).toBe('finished');
  expect(after.summary).toEqual(onlyRun(reference).summary);
}

const stuck = { [stuckJobSeedVariable]: '5' };

describe('Ctrl-C in lab run', () => {
  it('once: stops at the end of the epoch, checkpointed, and the run resumes exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-signal-'));
    const { code, stderr } = await interruptedRun(dir, 0, {}, /\[clean 2 +\]/);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping at the end of this epoch');
    const run = onlyRun(dir);
    expect(run.status).toBe('interrupted');
    expect(run.error).toBeNull();
    expect(run.checkpointEpoch).toBeGreaterThanOrEqual(2);
    resumesExactly(dir, run.id, 0);
  });

  it('once, with the run stuck: the run is stopped after the grace period, from its last checkpoint, and resumes exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-signal-'));
    const { code, stderr } = await interruptedRun(dir, 5, stuck, /\[clean 2 +\]/);
    expect(code, stderr).toBe(130);
    const run = onlyRun(dir);
    expect(run.status).toBe('interrupted');
    expect(run.error).toBe('The run did not stop within 10 s of the cancel (stuck in a computation), so its worker was stopped; resume continues from its last checkpoint');
    expect(run.checkpointEpoch).toBe(1);
    resumesExactly(dir, run.id, 5);
  });

  it('twice, with the run stuck: the process ends at once, the run interrupted without that checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-signal-'));
    const { code, stderr } = await interruptedRun(dir, 5, stuck, /\[clean 2 +\]/, /stopping at the end of this epoch/);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: \S+ \(without a checkpoint of this epoch\)/);
    const run = onlyRun(dir);
    expect(run.status).toBe('interrupted');
    expect(run.error).toBe('stopped by a second Ctrl-C, without waiting for the end of its epoch');
    expect(run.checkpointEpoch).toBe(1);
  });
});
