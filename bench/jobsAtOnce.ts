/**
 * Many runs at once (issue 13, item 1), measured: a sweep of 8 `quick` runs (seeds 0..7) through
 * the job queue with N = 2 runs at once against the same 8 one after another (N = 1), each with a
 * fresh queue (its workers start inside the timing, as a sweep's do), in one process. On a shared
 * machine the load drifts while they run, so the two are taken in the order 1, 2, 2, 1 and each
 * figure is the mean of its two (a drift linear in time then weighs on both alike). Beside each,
 * the CPU seconds the process got (all its threads): CPU / wall is the cores it had on average,
 * which says whether a miss is the code's or the machine's (2 runs at once can only halve the
 * time when two cores are free).
 * `npm run bench` prints it; `node --import tsx bench/jobsAtOnce.ts` prints it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveExperiment } from '../shared/config.ts';
import { presetByName } from '../shared/presets.ts';
import { physicalCores } from '../main/lab/jobCount.ts';
import { JobQueue } from '../main/lab/jobs.ts';
import { RunStore } from '../main/lab/store/runStore.ts';

/** Wall and CPU seconds of the quick preset's seeds 0..runs-1 through a fresh queue running `jobs` at once. */
async function sweepSeconds(runs: number, jobs: number): Promise<{ wall: number; cpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-jobs-'));
  const store = RunStore.open(dir);
  try {
    const input = presetByName('quick').config;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: jobs });
    for (let seed = 0; seed < runs; seed++) queue.submit({ input: { ...input, seed }, config: resolveExperiment({ ...input, seed }), preset: 'quick' });
    await queue.idle();
    const wall = (performance.now() - t0) / 1000;
    const cpuUsed = process.cpuUsage(cpu0);
    const failed = store.list({}).filter((r) => r.status !== 'finished');
    if (failed.length > 0) throw new Error(`${failed.length} runs did not finish: ${failed[0]!.error}`);
    await queue.shutdown();
    return { wall, cpu: (cpuUsed.user + cpuUsed.system) / 1e6 };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Prints the figure and returns the ratio N = 2 / N = 1. */
export async function printJobsAtOnce(runs = 8): Promise<number> {
  console.log(`\nMany runs at once: a sweep of ${runs} quick runs (seeds 0..${runs - 1}), N = 2 runs at once vs one after another (physical cores here: ${physicalCores()})`);
  console.log(`  order 1, 2, 2, 1; load average before (1, 5, 15 min): ${load()}`);
  const rounds: Record<1 | 2, { wall: number; cpu: number }[]> = { 1: [], 2: [] };
  for (const jobs of [1, 2, 2, 1] as const) {
    const r = await sweepSeconds(runs, jobs);
    rounds[jobs].push(r);
    console.log(`  N = ${jobs}: ${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU (${(r.cpu / r.wall).toFixed(2)} cores on average)   load after: ${load()}`);
  }
  const mean = (xs: { wall: number }[]) => xs.reduce((a, x) => a + x.wall, 0) / xs.length;
  const ratio = mean(rounds[2]) / mean(rounds[1]);
  console.log(`  ratio N = 2 / N = 1 (means): ${ratio.toFixed(2)}x   target <= 0.60: ${ratio <= 0.6 ? 'PASS' : `FAIL by ${(ratio - 0.6).toFixed(2)}`}`);
  return ratio;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printJobsAtOnce(Number(process.argv[2] ?? 8));
