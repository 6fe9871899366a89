/**
 * The engine's wire protocol over a real Node MessageChannel (structured clone, as Electron's
 * ports do): calls and their results, errors with the fields they name, the job stream while
 * subscribed, and what happens when the other side misbehaves or goes away. Also the parent
 * link's channels (engineLink.ts): the control channel, relayed channels and transferred ports.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type JobStreamMessage } from '../../shared/api.ts';
import { engineLink, type ParentLink } from '../../main/desktop/engineLink.ts';
import { connectPort, nodePortEndpoint, servePort, toWireError, type PortService } from '../../main/desktop/portProtocol.ts';

const ports: MessageChannel[] = [];
afterEach(() => {
  for (const channel of ports.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

function channel() {
  const c = new MessageChannel();
  ports.push(c);
  return { server: nodePortEndpoint(c.port1), client: nodePortEndpoint(c.port2), raw: c };
}

/** A stand-in service: echoes, fails like the LabService does, and streams on demand. */
function fakeService() {
  const listeners = new Set<(m: JobStreamMessage) => void>();
  const service: PortService & { emit(m: JobStreamMessage): void; listeners: Set<unknown> } = {
    listeners,
    async call(method, params) {
      if (method === 'echo') return { method, params };
      if (method === 'bytes') return new Uint8Array([1, 2, 3]);
      if (method === 'invalid') throw new ApiError('Invalid params for invalid: name: expected string', [{ path: 'name', message: 'expected string' }]);
      if (method === 'function') return () => 1; // cannot be cloned
      if (method === 'slow') return new Promise(() => {});
      throw new Error(`Unknown method "${method}"`);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(m) {
      for (const l of listeners) l(m);
    },
  };
  return service;
}

const until = async (predicate: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('port protocol', () => {
  it('round-trips calls: params and results are structured-cloned, typed arrays included', async () => {
    const { server, client } = channel();
    servePort(server, fakeService());
    const c = connectPort(client);
    expect(await c.request('echo', { a: [1, 2], b: 'x' })).toEqual({ ok: true, result: { method: 'echo', params: { a: [1, 2], b: 'x' } } });
    const bytes = await c.request<Uint8Array>('bytes', {});
    expect(bytes.ok && [...bytes.result]).toEqual([1, 2, 3]);
    // Many at once come back to the right caller.
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => c.request('echo', { n })));
    expect(answers.map((a) => (a.ok ? (a.result as { params: { n: number } }).params.n : -1))).toEqual([1, 2, 3, 4, 5]);
  });

  it('carries errors with the fields they name, and never rejects', async () => {
    const { server, client } = channel();
    servePort(server, fakeService());
    const c = connectPort(client);
    expect(await c.request('invalid', {})).toEqual({ ok: false, error: { message: 'Invalid params for invalid: name: expected string', problems: [{ path: 'name', message: 'expected string' }] } });
    expect(await c.request('nope', {})).toEqual({ ok: false, error: { message: 'Unknown method "nope"' } });
    // A result that cannot cross the port still gets an answer.
    const uncloneable = await c.request('function', {});
    expect(uncloneable.ok).toBe(false);
    // A method name that is not an identifier is refused before the service sees it.
    expect(await c.request('../../etc', {})).toMatchObject({ ok: false, error: { message: expect.stringContaining('Not a method name') } });
    expect(toWireError('plain')).toEqual({ message: 'plain' });
  });

  it('forwards the job stream only while subscribed', async () => {
    const { server, client } = channel();
    const service = fakeService();
    servePort(server, service);
    const c = connectPort(client);
    const got: JobStreamMessage[] = [];
    const stop = c.subscribe((m) => got.push(m));
    await until(() => service.listeners.size === 1);
    service.emit({ type: 'status', runId: 'r1', status: 'running' });
    service.emit({ type: 'events', runId: 'r1', events: [{ type: 'warning', message: 'x' } as never] });
    await until(() => got.length === 2);
    expect(got[0]).toEqual({ type: 'status', runId: 'r1', status: 'running' });
    stop();
    await until(() => service.listeners.size === 0);
    service.emit({ type: 'status', runId: 'r1', status: 'finished' });
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toHaveLength(2);
  });

  it('drops messages outside the protocol, and settles pending calls when closed', async () => {
    const { server, client, raw } = channel();
    const dropped: string[] = [];
    servePort(server, fakeService(), { onDropped: (reason) => dropped.push(reason) });
    raw.port2.postMessage('not an object');
    raw.port2.postMessage({ type: 'call', id: -1, method: 'echo' });
    raw.port2.postMessage({ type: 'evil' });
    await until(() => dropped.length === 3);
    const c = connectPort(client);
    const pending = c.request('slow', {});
    c.close('The engine restarted');
    expect(await pending).toEqual({ ok: false, error: { message: 'The engine restarted' } });
    expect(await c.request('echo', {})).toEqual({ ok: false, error: { message: 'The engine restarted' } });
  });

  it('times out a call when asked to', async () => {
    const { server, client } = channel();
    servePort(server, fakeService());
    const answer = await connectPort(client).request('slow', {}, { timeoutMs: 50 });
    expect(answer.ok).toBe(false);
  });
});

describe('the engine link (parent link with channels)', () => {
  /** A parent link whose other end is driven by the test. */
  function fakeParent() {
    const sent: unknown[] = [];
    let deliver: (message: unknown, ports: readonly unknown[]) => void = () => {};
    let disconnect = () => {};
    const link: ParentLink = {
      post: (m) => sent.push(m),
      onMessage: (l) => (deliver = l),
      onDisconnect: (l) => (disconnect = l),
    };
    return { link, sent, deliver: (m: unknown, p: readonly unknown[] = []) => deliver(m, p), disconnect: () => disconnect() };
  }

  it('serves the control channel and relayed renderer channels over one link', async () => {
    const parent = fakeParent();
    const link = engineLink(parent.link, () => {
      throw new Error('no ports here');
    });
    servePort(link.control, fakeService());
    link.onConnection((endpoint) => servePort(endpoint, fakeService()));
    parent.deliver({ ch: 0, data: { type: 'call', id: 1, method: 'echo', params: 1 } });
    parent.deliver({ ch: 3, open: true });
    parent.deliver({ ch: 3, data: { type: 'call', id: 7, method: 'echo', params: 2 } });
    parent.deliver({ ch: 9, data: { type: 'call', id: 8, method: 'echo', params: 3 } }); // never opened: ignored
    parent.deliver({ nonsense: true });
    await until(() => parent.sent.length === 2);
    expect(parent.sent).toContainEqual({ ch: 0, data: { type: 'result', id: 1, ok: true, result: { method: 'echo', params: 1 } } });
    expect(parent.sent).toContainEqual({ ch: 3, data: { type: 'result', id: 7, ok: true, result: { method: 'echo', params: 2 } } });
  });

  it('serves a transferred port directly', async () => {
    const parent = fakeParent();
    const link = engineLink(parent.link, (port) => nodePortEndpoint(port as MessageChannel['port1']));
    link.onConnection((endpoint) => servePort(endpoint, fakeService()));
    const c = new MessageChannel();
    ports.push(c);
    parent.deliver({ ch: 1, open: true }, [c.port1]);
    expect(await connectPort(nodePortEndpoint(c.port2)).request('echo', 'direct')).toEqual({ ok: true, result: { method: 'echo', params: 'direct' } });
    expect(parent.sent).toEqual([]); // nothing went through the parent link
  });
});
