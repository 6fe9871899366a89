/**
 * Many runs at once (issue 13, item 1), measured: a sweep of 8 `quick` runs (seeds 0..7) through
 * the job queue with N = 2 runs at once against the same 8 one after another (N = 1), each with a
 * fresh queue (its workers start inside the timing, as a sweep's do), in one process, one after
 * the other; and the machine's load around them, since other work on the cores changes both.
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

/** Wall seconds of the quick preset's seeds 0..runs-1 through a fresh queue running `jobs` at once. */
async function sweepSeconds(runs: number, jobs: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-jobs-'));
  const store = RunStore.open(dir);
  try {
    const input = presetByName('quick').config;
    const t0 = performance.now();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: jobs });
    for (let seed = 0; seed < runs; seed++) queue.submit({ input: { ...input, seed }, config: resolveExperiment({ ...input, seed }), preset: 'quick' });
    await queue.idle();
    const seconds = (performance.now() - t0) / 1000;
    const failed = store.list({}).filter((r) => r.status !== 'finished');
    if (failed.length > 0) throw new Error(`${failed.length} runs did not finish: ${failed[0]!.error}`);
    await queue.shutdown();
    return seconds;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Prints the figure and returns the ratio N = 2 / N = 1. */
export async function printJobsAtOnce(runs = 8): Promise<number> {
  console.log(`\nMany runs at once: a sweep of ${runs} quick runs (seeds 0..${runs - 1}), N = 2 runs at once vs one after another (physical cores here: ${physicalCores()})`);
  console.log(`  load average before (1, 5, 15 min): ${load()}`);
  const one = await sweepSeconds(runs, 1);
  console.log(`  N = 1: ${one.toFixed(1)} s   (load after: ${load()})`);
  const two = await sweepSeconds(runs, 2);
  console.log(`  N = 2: ${two.toFixed(1)} s   (load after: ${load()})`);
  const ratio = two / one;
  console.log(`  ratio N = 2 / N = 1: ${ratio.toFixed(2)}x   target <= 0.60: ${ratio <= 0.6 ? 'PASS' : `FAIL by ${(ratio - 0.6).toFixed(2)}`}`);
  return ratio;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printJobsAtOnce(Number(process.argv[2] ?? 8));
