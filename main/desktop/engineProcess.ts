/**
 * The engine process of the desktop app: the run store, the job queue, tfjs and the native
 * addons, behind a LabService, served over message ports. It never imports electron at run
 * time, so the same file runs
 *   - packaged, as an Electron utilityProcess (its parent link is `process.parentPort`; each
 *     renderer connection arrives as a transferred MessagePortMain and is served directly);
 *   - in development, as a child process of the system Node (its parent link is the IPC pipe;
 *     the main process relays renderer traffic), because node_modules' better-sqlite3 is built
 *     for the system Node's ABI, not Electron's (see the README, "The desktop app").
 *
 *   engineProcess.js [--store DIR] [--backend NAME]
 *
 * The store is resolved exactly as the CLI resolves it (--store, $PURIFICATION_LAB_STORE, the
 * user data folder), so the desktop app and the CLI see the same runs. A store that cannot be
 * opened is reported through the control channel (desktop.hello answers the error), never as a
 * crash loop.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { backendRequests, type BackendRequest } from '../engine/backend/chooseBackend.ts';
import { defaultJobs } from '../lab/jobCount.ts';
import { JobQueue } from '../lab/jobs.ts';
import { LabService } from '../lab/service.ts';
import { resolveStoreDir } from '../lab/store/location.ts';
import { RunStore } from '../lab/store/runStore.ts';
import { controlService } from './engineControl.ts';
import { engineLink, ipcLink, parentPortLink, type EngineLink } from './engineLink.ts';
import { mainPortEndpoint, servePort, toWireError, type MainPortLike } from './portProtocol.ts';

/** A packaged app has no git checkout to ask: the desktop build recorded the commit (build.ts). */
function applyBuildInfo(): void {
  const file = new URL('../../build-info.json', import.meta.url);
  if (process.env.PURIFICATION_LAB_COMMIT || !existsSync(file)) return;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { commit?: unknown };
    if (typeof info.commit === 'string' && info.commit !== 'unknown') process.env.PURIFICATION_LAB_COMMIT = info.commit;
  } catch {
    // provenance then says "unknown", which is honest
  }
}

function parentLink(): EngineLink {
  const parentPort = (process as { parentPort?: Parameters<typeof parentPortLink>[0] | null }).parentPort;
  if (parentPort) return engineLink(parentPortLink(parentPort), (port) => mainPortEndpoint(port as MainPortLike));
  return engineLink(ipcLink(process), () => {
    throw new Error('a child-process engine cannot receive ports');
  });
}

function main(): void {
  applyBuildInfo();
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { store: { type: 'string' }, backend: { type: 'string' } } });
  const link = parentLink();
  const backend = typeof values.backend === 'string' ? values.backend : undefined;

  let store: RunStore;
  try {
    if (backend !== undefined && !(backendRequests as readonly string[]).includes(backend)) {
      throw new Error(`--backend "${backend}": expected one of ${backendRequests.join(', ')}`);
    }
    store = RunStore.open(resolveStoreDir({ flag: typeof values.store === 'string' ? values.store : undefined }));
  } catch (error) {
    // Nothing to run: every control call answers why (the main process shows it), until told to stop.
    const reason = toWireError(error).message;
    servePort(link.control, {
      call: async (method) => {
        if (method === 'desktop.shutdown') {
          setTimeout(() => process.exit(0), 100);
          return { interrupted: [] };
        }
        throw new Error(reason);
      },
    });
    link.onDisconnect(() => process.exit(0));
    return;
  }

  // The window is open beside the engine: one core is left to it and the main process.
  const queue = new JobQueue(store, { backend: backend as BackendRequest | undefined, concurrency: defaultJobs({ uiOpen: true }), threads: 'auto' });
  const service = new LabService(store, queue);
  let stopped = false;
  const stop = (code: number) => {
    if (stopped) return;
    stopped = true;
    try {
      store.close();
    } finally {
      process.exit(code);
    }
  };
  servePort(link.control, controlService({ store, service, queue, stopped: () => stop(0) }));
  // Renderer connections get the API contract and the job stream: nothing of the control channel.
  link.onConnection((endpoint) => servePort(endpoint, service));

  // The main process went away without asking (it crashed): checkpoint what runs, then stop.
  const shutdown = () => void queue.shutdown().finally(() => stop(0));
  link.onDisconnect(shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  // Load the compute backend now, so the first run and the About box do not wait for it.
  void queue.backendInfo().catch(() => {});
}

main();
