/**
 * `npm run serve` (and `npm start`, until the desktop shell takes it over): the engine and
 * browser mode in one process. It opens the store, loads the compute backend, builds the
 * renderer when its sources changed, starts the server on 127.0.0.1 and opens the tokened URL in
 * the default browser. Ctrl-C (or SIGTERM) stops cleanly: running runs finish their epoch, are
 * checkpointed and marked interrupted (resumable), then the server closes and the process exits
 * 0. A second Ctrl-C (a moment later) exits at once (the store marks the run interrupted at
 * its next open).
 *
 * Run it as `node --import tsx main/web/serve.ts`, not through the `tsx` command: tsx relays a
 * signal to its child and SIGKILLs the child when it has not acknowledged within 30 ms, which a
 * process in the middle of a (synchronous) training epoch cannot do; the run would then lose
 * the clean stop.
 *
 *   npm run serve -- [--port N] [--no-open] [--store DIR] [--backend NAME] [--no-build]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendRequests, BackendError, describeBackend, type BackendRequest } from '../engine/backend/chooseBackend.ts';
import { defaultJobs, parseJobs } from '../lab/jobCount.ts';
import { JobQueue } from '../lab/jobs.ts';
import { LabService } from '../lab/service.ts';
import { resolveStoreDir } from '../lab/store/location.ts';
import { RunStore, StoreError } from '../lab/store/runStore.ts';
import { openBrowser } from './openBrowser.ts';
import { prepareRenderer } from './rendererBuild.ts';
import { startServer } from './server.ts';

const usage = `npm run serve -- [options]     the workbench in your browser (127.0.0.1 only, tokened URL)

  --port N          the port (default 0: any free one)
  --no-open         print the URL without opening a browser
  --store DIR       the run store (default: $PURIFICATION_LAB_STORE, else the user data folder)
  --backend NAME    force a compute backend: ${backendRequests.join(', ')}
  --no-build        serve renderer/dist as it is, even when its sources are newer
  --jobs N          runs computing at once (default: physical cores less one, here ${defaultJobs({ uiOpen: true })}; the header changes it)
`;

class UsageError extends Error {}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

function options(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'no-open': { type: 'boolean' },
        'no-build': { type: 'boolean' },
        store: { type: 'string' },
        backend: { type: 'string' },
        jobs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port "${values.port}": expected an integer from 0 to 65535 (0: any free port)`);
  if (values.backend !== undefined && !(backendRequests as readonly string[]).includes(values.backend)) {
    throw new UsageError(`--backend "${values.backend}": expected one of ${backendRequests.join(', ')}`);
  }
  let jobs: number;
  try {
    jobs = values.jobs === undefined ? defaultJobs({ uiOpen: true }) : parseJobs(values.jobs);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { port, open: !values['no-open'], build: !values['no-build'], store: values.store, backend: values.backend as BackendRequest | undefined, jobs, help: values.help === true };
}

async function main(argv: string[]): Promise<void> {
  const opts = options(argv);
  if (opts.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const store = RunStore.open(resolveStoreDir({ flag: opts.store }));
  const queue = new JobQueue(store, { backend: opts.backend, concurrency: opts.jobs, threads: 'auto' });
  const backend = await queue.backendInfo();
  say(`${describeBackend(backend)}${backend.fusedKernels ? ` | hot path: fused ${backend.name === 'webgpu' ? 'WGSL' : 'wasm'} kernels` : ''}`);
  say(`store: ${store.dir}`);
  for (const notice of store.notices) warn(`note: ${notice}`);
  const renderer = await prepareRenderer(projectRoot, { build: opts.build, log: warn });
  const service = new LabService(store, queue);
  const server = await startServer({ service, port: opts.port, rendererDir: renderer.dist, ...(renderer.notBuiltReason ? { notBuiltReason: renderer.notBuiltReason } : {}) });
  // Measure the throughput behind cost estimates now, so the first estimate does not wait for it.
  void service.measuredThroughput();
  say(`Purification Lab: ${server.url}`);
  say('Ctrl-C stops the server; running runs are checkpointed first and can be resumed.');

  // One Ctrl-C in a terminal reaches this process more than once: from the terminal (the whole
  // process group) and again from npm, which forwards it. Signals within this window of the
  // first are that same request; only a later one means "stop now".
  const sameRequestMs = 1500;
  let stoppingSince: number | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== null) {
      if (Date.now() - stoppingSince < sameRequestMs) return;
      warn(`${signal} again: stopping now, without waiting for the running epoch`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    const running = queue.active;
    warn(running.length > 0 ? `stopping: ${running.join(', ')} will finish the current epoch and be checkpointed...` : 'stopping...');
    (async () => {
      await queue.shutdown();
      const neverStarted = service.settleQueued();
      await server.close();
      service.close();
      for (const id of running) {
        const run = store.get(id);
        if (run.status === 'interrupted') warn(`interrupted: ${id} (checkpoint after epoch ${run.checkpointEpoch ?? 'none'}): resume it from the runs list, or: npm run lab -- resume ${id}`);
      }
      if (neverStarted.length > 0) warn(`not started: ${neverStarted.join(', ')} (marked interrupted: resume starts them)`);
      store.close();
      process.exit(0);
    })().catch((error: unknown) => {
      warn(`stopping failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (opts.open) openBrowser(server.url, (message) => warn(`${message}: open the URL above yourself`));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    warn(`${error.message}\n`);
    process.stderr.write(usage);
    process.exit(2);
  }
  if (error instanceof BackendError || error instanceof StoreError) {
    warn(error.message);
    process.exit(2);
  }
  warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
