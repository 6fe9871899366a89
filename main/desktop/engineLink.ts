/**
 * How the engine process talks to the main process: one parent link, several channels.
 *
 *   { ch: 0, data }          the control channel (main <-> engine): desktop.* calls and the API
 *   { ch: n, open: true }    main -> engine: a renderer connection. In the utility process the
 *                            message carries one end of a MessageChannelMain (ports[0]) and the
 *                            renderer talks to the engine directly over it; over a child
 *                            process's IPC pipe (development, see engineChildren.ts) there is no
 *                            port to hand over, so the main process relays it as { ch: n, data }
 *   { ch: n, data }          relayed renderer traffic (child process only)
 *   { ch: n, close: true }   either side: that connection is gone
 *
 * Pure apart from the two adapters at the bottom, which take the process object they wrap.
 */
import type { Endpoint } from './portProtocol.ts';

/** The raw link to the parent: Electron's parentPort, or Node's process IPC. */
export interface ParentLink {
  post(message: unknown): void;
  onMessage(listener: (message: unknown, ports: readonly unknown[]) => void): void;
  onDisconnect(listener: () => void): void;
}

export interface LinkMessage {
  readonly ch: number;
  readonly data?: unknown;
  readonly open?: true;
  readonly close?: true;
}

export const controlChannel = 0;

export function isLinkMessage(message: unknown): message is LinkMessage {
  return typeof message === 'object' && message !== null && Number.isSafeInteger((message as { ch?: unknown }).ch) && (message as { ch: number }).ch >= 0;
}

/** Listeners and close listeners of one virtual channel. */
export class VirtualChannel implements Endpoint {
  private readonly listeners = new Set<(message: unknown) => void>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly send: (message: unknown) => void) {}

  postMessage(message: unknown): void {
    if (this.closed) throw new Error('the channel is closed');
    this.send(message);
  }

  onMessage(listener: (message: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  deliver(message: unknown): void {
    if (this.closed) return;
    for (const listener of [...this.listeners]) listener(message);
  }

  /** The other side went away. */
  ended(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of [...this.closeListeners]) listener();
    this.listeners.clear();
    this.closeListeners.clear();
  }

  close(): void {
    this.ended();
  }
}

export interface EngineLink {
  /** The control channel to the main process. */
  readonly control: Endpoint;
  /** A renderer connected (a transferred port, or a relayed channel). */
  onConnection(listener: (endpoint: Endpoint) => void): void;
  /** The main process went away. */
  onDisconnect(listener: () => void): void;
}

/**
 * The engine's side of the parent link. `portEndpoint` wraps a transferred port (a
 * MessagePortMain in the utility process); channels without a port are relayed over the link.
 */
export function engineLink(parent: ParentLink, portEndpoint: (port: unknown) => Endpoint): EngineLink {
  const control = new VirtualChannel((data) => parent.post({ ch: controlChannel, data }));
  const relayed = new Map<number, VirtualChannel>();
  const connectionListeners = new Set<(endpoint: Endpoint) => void>();
  const pendingConnections: Endpoint[] = [];

  const connected = (endpoint: Endpoint) => {
    if (connectionListeners.size === 0) pendingConnections.push(endpoint);
    for (const listener of connectionListeners) listener(endpoint);
  };

  parent.onMessage((message, ports) => {
    if (!isLinkMessage(message)) return;
    const { ch } = message;
    if (ch === controlChannel) {
      if ('data' in message) control.deliver(message.data);
      return;
    }
    if (message.open) {
      const port = ports[0];
      if (port !== undefined) {
        connected(portEndpoint(port));
      } else {
        const channel = new VirtualChannel((data) => parent.post({ ch, data }));
        channel.onClose(() => relayed.delete(ch));
        relayed.set(ch, channel);
        connected(channel);
      }
      return;
    }
    const channel = relayed.get(ch);
    if (!channel) return;
    if (message.close) channel.ended();
    else if ('data' in message) channel.deliver(message.data);
  });

  return {
    control,
    onConnection(listener) {
      connectionListeners.add(listener);
      for (const endpoint of pendingConnections.splice(0)) listener(endpoint);
    },
    onDisconnect(listener) {
      parent.onDisconnect(() => {
        control.ended();
        for (const channel of relayed.values()) channel.ended();
        listener();
      });
    },
  };
}

/** The utility process's link: Electron's `process.parentPort` (MessageEvent { data, ports }). */
export function parentPortLink(parentPort: {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown; ports: readonly unknown[] }) => void): unknown;
}): ParentLink {
  return {
    post: (message) => parentPort.postMessage(message),
    onMessage: (listener) => void parentPort.on('message', (event) => listener(event.data, event.ports ?? [])),
    // A utility process ends with its parent; there is nothing to wait for.
    onDisconnect: () => {},
  };
}

/** A Node child process's link: `process.send` and 'message' over the IPC pipe (advanced serialization). */
export function ipcLink(proc: {
  send?: (message: unknown) => boolean;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}): ParentLink {
  if (!proc.send) throw new Error('the engine process was started without an IPC channel (spawn it with stdio "ipc")');
  return {
    post: (message) => {
      if (proc.connected !== false) proc.send!(message);
    },
    onMessage: (listener) => void proc.on('message', (message) => listener(message, [])),
    onDisconnect: (listener) => void proc.on('disconnect', listener),
  };
}
