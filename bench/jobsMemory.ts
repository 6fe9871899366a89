/**
 * `node --import tsx bench/jobsMemory.ts [1,2,4]`: the peak resident memory of N flagship runs at
 * once through the job queue (each in its own worker thread with its own tfjs instance), for each
 * N. Each N runs in a fresh child process, so that its peak (Linux VmHWM, which only grows) is its
 * own: the process as a whole, the parent's store and queue included, as a user's `lab sweep
 * --jobs N` would peak. Wall time beside it, and the load average, since the cores are shared.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveExperiment } from '../shared/config.ts';
import { JobQueue } from '../main/lab/jobs.ts';
import { RunStore } from '../main/lab/store/runStore.ts';

/** Peak resident set of this process, in MiB (Linux: VmHWM). */
function peakRssMiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  if (!line) throw new Error('no VmHWM in /proc/self/status: this measures on Linux only');
  return Number(line.split(/\s+/)[1]) / 1024;
}

if (process.argv[2] === 'child') {
  const jobs = Number(process.argv[3]);
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-memory-'));
  const store = RunStore.open(dir);
  const t0 = performance.now();
  const queue = new JobQueue(store, { backend: 'wasm', concurrency: jobs });
  for (let seed = 0; seed < jobs; seed++) queue.submit({ input: { seed }, config: resolveExperiment({ seed }), preset: 'flagship' });
  await queue.idle();
  const seconds = (performance.now() - t0) / 1000;
  const unfinished = store.list({}).filter((r) => r.status !== 'finished').length;
  await queue.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  process.send!({ peak: peakRssMiB(), seconds, unfinished });
  process.disconnect();
} else {
  const counts = (process.argv[2] ?? '1,2,4').split(',').map(Number);
  console.log('Peak RSS of N flagship runs at once (whole process: parent + N worker threads, each its own tfjs), one fresh process per N');
  for (const jobs of counts) {
    const before = loadavg()[0]!.toFixed(2);
    const child = fork(new URL(import.meta.url).pathname, ['child', String(jobs)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const report = await new Promise<{ peak: number; seconds: number; unfinished: number }>((resolve, reject) => {
      child.on('message', (m) => resolve(m as { peak: number; seconds: number; unfinished: number }));
      child.on('exit', (code) => reject(new Error(`the N = ${jobs} process ended (exit code ${code}) without a report`)));
    });
    console.log(
      `  N = ${jobs}: peak RSS ${report.peak.toFixed(0)} MiB, ${jobs} runs in ${report.seconds.toFixed(1)} s${report.unfinished ? ` (${report.unfinished} did not finish)` : ''}   (load average ${before} -> ${loadavg()[0]!.toFixed(2)})`,
    );
  }
}
