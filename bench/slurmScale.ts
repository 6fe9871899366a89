/**
 * `node --import tsx bench/slurmScale.ts`: the Slurm sweep at scale, on synthetic job folders
 * cloned from one real run of the `quick` preset (so every file is what a run writes).
 *
 *   - import rate: `lab import` of 1,000 finished run folders (every file checked, copied, indexed
 *     in one transaction); goal >= 100 runs/s.
 *   - status: `lab sweep status` of a 10,000-member sweep (6,000 finished, 2,000 running,
 *     1,000 pending, 500 killed, 500 failed), as a child process, with a stand-in `squeue` on PATH
 *     that answers the 3,000 pending and running tasks and counts its calls; goal < 5 s, one call.
 *
 * Figures, not tests: the machine's load is printed beside them.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importRuns } from '../main/lab/runImport.ts';
import { RunStore } from '../main/lab/store/runStore.ts';
import { squeueLines, writeSyntheticJobFolder, type SyntheticState } from '../test/fixtures/syntheticSweep.ts';

const root = new URL('../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'purification-lab-slurm-bench-'));
const lab = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 2 ** 20 });

try {
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  // Two templates: the quick preset as it is (d = m = 64, 45 epochs: its log and result hold every
  // instrument snapshot) and a shrunk one (d = m = 16, 5 epochs), to show how the rate scales with size.
  const shrunk = ['--set', 'task.d=16', '--set', 'model.width=16', '--set', 'task.trainSize=400', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];
  let template = '';
  for (const [label, extra] of [['shrunk quick', shrunk], ['quick', []]] as const) {
    const templateStore = join(work, `template-${label.replace(' ', '-')}`);
    const made = lab(['run', '--preset', 'quick', ...extra, '--store', templateStore]);
    if (made.status !== 0) throw new Error(`the template run failed: ${made.stderr}`);
    template = join(templateStore, 'runs', readdirSync(join(templateStore, 'runs'))[0]!);
    const bytes = readdirSync(template).reduce((n, f) => n + readFileSync(join(template, f)).length, 0);
    // Import: 1,000 finished run folders.
    const importDir = join(work, `import-${label.replace(' ', '-')}`);
    writeSyntheticJobFolder(importDir, template, Array<SyntheticState>(1000).fill('finished'));
    const store = RunStore.open(join(work, `home-${label.replace(' ', '-')}`));
    try {
      const t0 = performance.now();
      const report = importRuns(store, importDir);
      const seconds = (performance.now() - t0) / 1000;
      console.log(`import (${label} run folders, ${(bytes / 1024).toFixed(0)} KiB in ${readdirSync(template).length} files each): ${report.added.length} in ${seconds.toFixed(2)} s = ${(report.added.length / seconds).toFixed(0)} runs/s (goal >= 100 runs/s)`);
      const t1 = performance.now();
      const again = importRuns(store, importDir);
      console.log(`  again (nothing to do: each run identified by its run.json, not copied): ${again.unchanged.length} runs in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
    } finally {
      store.close();
    }
    rmSync(importDir, { recursive: true, force: true });
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  // Status: 10,000 members, one squeue call.
  const states: SyntheticState[] = [];
  for (let i = 0; i < 10_000; i++) states.push(i < 6000 ? 'finished' : i < 8000 ? 'running' : i < 9000 ? 'queued' : i < 9500 ? 'killed' : 'failed');
  const statusDir = join(work, 'status-job');
  writeSyntheticJobFolder(statusDir, template, states, '4242', { light: true });
  const listed = states.flatMap((s, index): { index: number; state: 'RUNNING' | 'PENDING' }[] => (s === 'running' ? [{ index, state: 'RUNNING' }] : s === 'queued' ? [{ index, state: 'PENDING' }] : []));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(join(work, 'squeue.out'), squeueLines('4242', listed));
  writeFileSync(join(bin, 'squeue'), `#!/bin/sh\necho call >> "${join(work, 'squeue.calls')}"\ncat "${join(work, 'squeue.out')}"\n`);
  chmodSync(join(bin, 'squeue'), 0o755);
  const t2 = performance.now();
  const status = lab(['sweep', 'status', statusDir], { PATH: `${bin}:${process.env.PATH}` });
  const seconds = (performance.now() - t2) / 1000;
  if (status.status !== 0) throw new Error(`sweep status failed: ${status.stderr}`);
  const calls = readFileSync(join(work, 'squeue.calls'), 'utf8').trim().split('\n').length;
  console.log(`status: ${states.length} members in ${seconds.toFixed(2)} s, the CLI's start included (goal < 5 s), squeue called ${calls} time(s)`);
  console.log(`  ${status.stdout.split('\n')[0]}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
