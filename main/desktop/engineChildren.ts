/**
 * The two ways the desktop app runs its engine (see engineProcess.ts for the other end):
 *
 * - `utilityEngine`: an Electron utilityProcess (the packaged app). Renderer connections are
 *   transferred MessagePortMains: the renderer talks to the engine directly, the main process
 *   only brokers the hand-over.
 * - `nodeEngine`: a child process of the system Node (development). node_modules' better-sqlite3
 *   is compiled for the system Node's ABI, which the CLI and the tests need; an Electron process
 *   (main or utility) cannot load it. The child has no MessagePort to receive, so the main
 *   process relays each renderer channel over the IPC pipe (advanced serialization: structured
 *   clone, as a port would).
 *
 * Electron's modules are passed in (`fork`, the port type), never imported here, so the Node
 * variant is tested for real with node:child_process and node:worker_threads ports.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { ForkOptions, MessagePortMain, UtilityProcess } from 'electron';
import { controlChannel, isLinkMessage, VirtualChannel } from './engineLink.ts';
import type { EngineChild, EngineExit } from './engineSupervisor.ts';
import type { Endpoint } from './portProtocol.ts';

/** The last lines of a stream, for a crash report. */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly keep = 12) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((line) => line.trim().length > 0));
    if (this.lines.length > this.keep) this.lines = this.lines.slice(-this.keep);
  }

  text(): string {
    return [...this.lines, ...(this.partial.trim() ? [this.partial] : [])].slice(-this.keep).join('\n');
  }
}

function teeStderr(stream: NodeJS.ReadableStream | null | undefined, tail: TailBuffer, echo: (chunk: string) => void): void {
  if (!stream) return;
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string | Buffer) => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    tail.push(text);
    echo(text);
  });
}

export interface UtilityEngineOptions {
  readonly fork: (modulePath: string, args?: string[], options?: ForkOptions) => UtilityProcess;
  readonly entry: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly echo?: (chunk: string) => void;
}

/** The packaged app's engine: `utilityProcess.fork(engineProcess.js)`. */
export function utilityEngine(options: UtilityEngineOptions): EngineChild<MessagePortMain> {
  const child = options.fork(options.entry, [...options.args], {
    serviceName: 'Purification Lab engine',
    stdio: ['ignore', 'inherit', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
  });
  const tail = new TailBuffer();
  teeStderr(child.stderr, tail, options.echo ?? ((chunk) => process.stderr.write(chunk)));
  let fatal = '';
  child.on('error', (type, location) => {
    fatal = `${type} at ${location}`;
  });
  const control = new VirtualChannel((data) => child.postMessage({ ch: controlChannel, data }));
  child.on('message', (message: unknown) => {
    if (isLinkMessage(message) && message.ch === controlChannel && 'data' in message) control.deliver(message.data);
  });
  let nextChannel = 1;
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  child.on('exit', (code) => {
    control.ended();
    const detail = [fatal, tail.text()].filter(Boolean).join('\n');
    for (const listener of exitListeners) listener({ code, signal: null, ...(detail ? { detail } : {}) });
  });
  return {
    get pid() {
      return child.pid;
    },
    control,
    connect(port) {
      child.postMessage({ ch: nextChannel++, open: true }, [port]);
    },
    kill: () => void child.kill(),
    onExit: (listener) => void exitListeners.push(listener),
  };
}

export interface NodeEngineOptions<P> {
  readonly spawn: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
  /** The system Node (the launcher passes its own process.execPath in PURIFICATION_LAB_NODE). */
  readonly node: string;
  readonly entry: string;
  readonly args: readonly string[];
  /** Node options before the entry (['--import', 'tsx'] to run the TypeScript source). */
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A renderer connection as an endpoint (mainPortEndpoint for a MessagePortMain). */
  readonly toEndpoint: (port: P) => Endpoint;
  readonly echo?: (chunk: string) => void;
}

/** The development engine: a child of the system Node, with renderer channels relayed over IPC. */
export function nodeEngine<P>(options: NodeEngineOptions<P>): EngineChild<P> {
  const child = options.spawn(options.node, [...(options.execArgv ?? []), options.entry, ...options.args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
    // Its own process group: a Ctrl-C in the terminal reaches the app, which then stops the
    // engine in order (checkpoint first), instead of killing the engine behind the app's back.
    detached: process.platform !== 'win32',
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const tail = new TailBuffer();
  teeStderr(child.stderr, tail, options.echo ?? ((chunk) => process.stderr.write(chunk)));
  const send = (message: unknown) => {
    if (!child.connected) return;
    try {
      child.send(message as Parameters<ChildProcess['send']>[0]);
    } catch {
      // the pipe closed: the exit handler reports it
    }
  };
  const control = new VirtualChannel((data) => send({ ch: controlChannel, data }));
  const relays = new Map<number, { endpoint: Endpoint; stop: () => void }>();
  child.on('message', (message: unknown) => {
    if (!isLinkMessage(message)) return;
    if (message.ch === controlChannel) {
      if ('data' in message) control.deliver(message.data);
      return;
    }
    const relay = relays.get(message.ch);
    if (!relay) return;
    if (message.close) {
      relay.stop();
      relay.endpoint.close?.();
    } else if ('data' in message) {
      try {
        relay.endpoint.postMessage(message.data);
      } catch {
        // the renderer's port is gone
      }
    }
  });
  let nextChannel = 1;
  let exited = false;
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
    if (exited) return;
    exited = true;
    control.ended();
    for (const relay of relays.values()) {
      relay.stop();
      relay.endpoint.close?.();
    }
    relays.clear();
    const detail = tail.text();
    for (const listener of exitListeners) listener({ code, signal, ...(detail ? { detail } : {}) });
  };
  child.on('exit', onExit);
  child.on('error', (error) => {
    tail.push(`${error.message}\n`);
    onExit(null, null);
  });
  return {
    get pid() {
      return child.pid;
    },
    control,
    connect(port) {
      const ch = nextChannel++;
      const endpoint = options.toEndpoint(port);
      const stopMessages = endpoint.onMessage((data) => send({ ch, data }));
      const stopClose = endpoint.onClose?.(() => {
        send({ ch, close: true });
        relays.get(ch)?.stop();
      });
      relays.set(ch, {
        endpoint,
        stop: () => {
          stopMessages();
          stopClose?.();
          relays.delete(ch);
        },
      });
      send({ ch, open: true });
    },
    kill: () => void child.kill('SIGKILL'),
    onExit: (listener) => void exitListeners.push(listener),
  };
}
