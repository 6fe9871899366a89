/**
 * A one-node Slurm cluster for the tests, from Debian's `slurm-wlm` and `munge`, run as root:
 * munged, slurmctld and slurmd started in the foreground as children of this process, with every
 * file (config, munge key and socket, state, spool, pid and log files) in one temporary folder.
 * `stop()` ends each daemon by its pid and removes the folder. Accounting (sacct) is off in such
 * a cluster; nothing here depends on it.
 *
 *   const cluster = await startSlurmCluster();   // throws, saying why, when it cannot start
 *   spawnSync('sbatch', [...], { env: { ...process.env, ...cluster.env } });
 *   await cluster.stop();
 *
 * `slurmMissing()` says why a cluster cannot run here (no binaries, not root), or null; the tests
 * pass it to `prerequisite` (skipped with the reason elsewhere, failed under CI=true).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const daemons = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd'];
const clients = ['sbatch', 'squeue', 'scancel', 'sinfo'];

/** Why a one-node cluster cannot start on this machine, or null when it can try. */
export function slurmMissing(): string | null {
  const absent = daemons.filter((d) => !existsSync(d));
  for (const c of clients) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) absent.push(c);
  if (absent.length > 0) return `Slurm is not installed (missing ${absent.join(', ')}): apt-get install slurm-wlm munge`;
  if (process.getuid?.() !== 0) return 'the one-node test cluster runs its daemons as root, and this is not root';
  return null;
}

export interface SlurmCluster {
  /** The temporary folder that holds everything. */
  readonly dir: string;
  /** SLURM_CONF for the client commands (sbatch, squeue, scancel) and the array tasks. */
  readonly env: { SLURM_CONF: string };
  /** The daemons' log files, for a failing test's message. */
  logs(): string;
  /** Stop every daemon by its pid, wait for each to exit, remove the folder. */
  stop(): Promise<void>;
}

/** A TCP port free at this moment (the daemons bind it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Poll a condition (every 200 ms) until it holds or the deadline passes; never a bare sleep. */
export async function waitFor<T>(what: string, check: () => T | null | undefined | false, timeoutMs: number, explain: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}${explain() ? `\n${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const missing = slurmMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'purification-lab-slurm-'));
  chmodSync(dir, 0o755); // munged refuses a socket folder others can write; slurmd's job steps read the config
  const node = hostname();
  const cpus = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || 1;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  for (const sub of ['state', 'spool', 'munge']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const key = join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge', 'munge.socket');
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=purificationlab',
      `SlurmctldHost=${node}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'ReturnToService=2',
      // A cancelled task gets SIGTERM, then SIGKILL this many seconds later.
      'KillWait=5',
      'MinJobAge=300',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      `NodeName=${node} CPUs=${cpus} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const logs = () =>
    ['munged.log', 'slurmctld.log', 'slurmd.log']
      .map((f) => join(dir, f))
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f} (last lines)\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
  const start = (command: string, args: string[]) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code, signal) => {
      if (!stopping) failures.push(`${command} exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    });
    children.push(child);
    return child;
  };
  let stopping = false;
  const failures: string[] = [];
  const stop = async () => {
    stopping = true;
    // Reverse order: slurmd, slurmctld, then munged, each by its own pid.
    for (const child of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    start('/usr/sbin/munged', ['-F', '--force', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munge', 'munged.seed')}`]);
    await waitFor('munged to open its socket', () => existsSync(socket) || failures.length > 0, 30_000, logs);
    start('/usr/sbin/slurmctld', ['-D', '-f', conf]);
    start('/usr/sbin/slurmd', ['-D', '-f', conf]);
    // Ready when the node is idle: sinfo answers (slurmctld is up) and slurmd has registered.
    await waitFor(
      'the one-node Slurm cluster to report its node idle',
      () => {
        if (failures.length > 0) throw new Error(`The Slurm test cluster did not start: ${failures.join('; ')}\n${logs()}`);
        const info = spawnSync('sinfo', ['--noheader', '--format=%T'], { env: { ...process.env, ...env }, encoding: 'utf8' });
        return info.status === 0 && /^idle/m.test(info.stdout);
      },
      90_000,
      logs,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, env, logs, stop };
}
