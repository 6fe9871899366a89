/**
 * `node --import tsx bench/workerKinds.ts`: the two kinds of worker the job host could use, side
 * by side on one small job (the `quick` preset shrunk to a second): a worker_threads Worker (what
 * main/lab/jobHost uses) and a child process of the same Node. For each, the start-up (spawn,
 * load TypeScript and tfjs, ready on the backend), the job's time, and the memory it adds: the
 * parent's RSS growth for a thread (it lives in the parent), the child's own peak RSS for a
 * process. Median of 3 rounds each, alternating (a thread's later rounds reuse memory its
 * predecessor freed, so its first round is the honest figure for a first worker). Then the
 * throughput that matters for `--jobs 2`: two `quick` runs at once, as two threads of one process
 * and as two child processes, wall time from spawn to both done (the whole process's peak RSS
 * for the threads, the sum of the children's for the processes).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolveExperiment } from '../shared/config.ts';
import { presetByName } from '../shared/presets.ts';
import { JobHost } from '../main/lab/jobHost/jobHost.ts';
import { runInProcess } from '../main/lab/runInProcess.ts';

const input = {
  task: { kind: 'sparse-coding' as const, d: 64, k: 3, trainSize: 600 },
  model: { kind: 'two-layer' as const, width: 64 },
  train: { cleanEpochs: 3, adversarialEpochs: 2 },
  eval: { testSize: 200 },
};

/** Peak resident set of this process, in MiB (Linux: VmHWM). */
function peakRssMiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/** The quick preset at a seed: the job of the concurrent comparison. */
const quickRun = (seed: number) => resolveExperiment({ ...presetByName('quick').config, seed });

if (process.argv[2] === 'child') {
  // The child-process kind: load everything, say ready, run the job, report.
  const t0 = performance.now();
  const config = process.argv[3] === 'quick' ? quickRun(Number(process.argv[4])) : resolveExperiment(input);
  await runInProcess(config, { backend: 'wasm', onBackend: () => process.send!({ ready: performance.now() - t0 }) });
  process.send!({ done: performance.now() - t0, peakRss: peakRssMiB() });
  process.disconnect();
} else {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const thread = { start: [] as number[], job: [] as number[], rss: [] as number[] };
  const child = { start: [] as number[], job: [] as number[], rss: [] as number[] };
  const config = resolveExperiment(input);
  for (let round = 0; round < 3; round++) {
    {
      const rssBefore = process.memoryUsage().rss;
      const t0 = performance.now();
      const host = new JobHost({ backend: 'wasm' });
      await host.backendInfo();
      const t1 = performance.now();
      await host.start({ kind: 'experiment', config, checkpointEvery: 0 }).result;
      const t2 = performance.now();
      thread.rss.push((process.memoryUsage().rss - rssBefore) / 2 ** 20);
      thread.start.push(t1 - t0);
      thread.job.push(t2 - t1);
      await host.close();
    }
    {
      const t0 = performance.now();
      const proc = fork(new URL(import.meta.url).pathname, ['child'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      const report = await new Promise<{ ready: number; done: number; peakRss: number }>((resolve) => {
        let ready = 0;
        proc.on('message', (m: { ready?: number; done?: number; peakRss?: number }) => {
          if (m.ready !== undefined) ready = performance.now() - t0;
          if (m.done !== undefined) resolve({ ready, done: performance.now() - t0, peakRss: m.peakRss! });
        });
      });
      await new Promise((resolve) => proc.on('exit', resolve));
      child.start.push(report.ready);
      child.job.push(report.done - report.ready);
      child.rss.push(report.peakRss);
    }
  }
  const row = (name: string, r: typeof thread, memory: string) =>
    console.log(
      `${name.padEnd(24)} start-up ${(median(r.start) / 1000).toFixed(2)} s   job ${(median(r.job) / 1000).toFixed(2)} s   ${memory} ${median(r.rss).toFixed(0)} MiB (rounds: ${r.rss.map((x) => x.toFixed(0)).join(', ')})`,
    );
  console.log('one small job (quick, d = m = 64, 600 samples, 3 + 2 epochs), median of 3');
  row('worker_threads Worker', thread, 'parent RSS growth');
  row('child process', child, 'child peak RSS   ');

  // Two quick runs at once: threads of this process, then child processes.
  {
    const t0 = performance.now();
    const host = new JobHost({ backend: 'wasm', concurrency: 2 });
    await Promise.all([0, 1].map((seed) => host.start({ kind: 'experiment', config: quickRun(seed), checkpointEvery: 0 }).result));
    const threads = (performance.now() - t0) / 1000;
    await host.close();
    const t1 = performance.now();
    const peaks = await Promise.all(
      [0, 1].map(
        (seed) =>
          new Promise<number>((resolve) => {
            const proc = fork(new URL(import.meta.url).pathname, ['child', 'quick', String(seed)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
            proc.on('message', (m: { peakRss?: number }) => m.peakRss !== undefined && resolve(m.peakRss));
          }),
      ),
    );
    const children = (performance.now() - t1) / 1000;
    console.log('two quick runs at once (d = m = 64, 4000 samples, 30 + 15 epochs), spawn to both done');
    console.log(`worker_threads Workers    ${threads.toFixed(1)} s   process peak RSS ${peakRssMiB().toFixed(0)} MiB (all of the above included)`);
    console.log(`child processes           ${children.toFixed(1)} s   children's peak RSS ${peaks.map((p) => p.toFixed(0)).join(' + ')} MiB`);
  }
}
