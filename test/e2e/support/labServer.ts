/**
 * The real browser-mode server as a child process, on a fresh store: `node --import tsx
 * main/web/serve.ts --no-open --port 0 --store DIR`, which prints its tokened URL. The server
 * builds the renderer itself when renderer/dist is older than its sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverEntry = join(projectRoot, 'main/web/serve.ts');

export interface LabServer {
  /** `http://127.0.0.1:PORT/?token=T` */
  readonly url: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly token: string;
  readonly store: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Wait for the server's entry file (another engineer may still be writing it). */
export async function waitForServerEntry(timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(serverEntry)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return true;
}

export async function startLabServer(options: { store?: string; timeoutMs?: number } = {}): Promise<LabServer> {
  const store = options.store ?? mkdtempSync(join(tmpdir(), 'purification-lab-e2e-store-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', serverEntry, '--no-open', '--port', '0', '--store', store], {
    cwd: projectRoot,
    env: { ...process.env, PURIFICATION_LAB_STORE: store },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no URL within ${options.timeoutMs ?? 120_000} ms:\n${log}`)), options.timeoutMs ?? 120_000);
    const check = () => {
      const match = /Purification Lab: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before printing its URL:\n${log}`));
    });
  });
  // A server that dies under a running suite says how, with what it printed.
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`e2e: the lab server exited unexpectedly (code ${code}, signal ${signal}):\n${log}`);
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    store,
    output: () => log,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.store) rmSync(store, { recursive: true, force: true });
    },
  };
}
