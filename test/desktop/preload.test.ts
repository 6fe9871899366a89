/**
 * The preload and the desktop client, against the shared contract: the preload exposes exactly
 * the bridge's named functions (and nothing of Electron), every member of LabApi is carried,
 * and a call, an error with its problems, and the job stream go from the desktop client through
 * the preload's bridge and a real MessagePort to a real LabService and back. An engine restart
 * (a new port) keeps the stream and reports the interrupted runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { IpcRendererEvent } from 'electron';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ApiError, type JobStreamMessage, type LabApi } from '../../shared/api.ts';
import type { ExportRunsResult, ImportResult } from '../../main/desktop/engineControl.ts';
import { ipcChannels } from '../../main/desktop/ipc.ts';
import { nodePortEndpoint, servePort, type PortService } from '../../main/desktop/portProtocol.ts';
import { bridgeKey, createLabBridge, exposeLab, type IpcRendererLike } from '../../main/desktop/preloadApi.ts';
import { appOrigin } from '../../main/desktop/security.ts';
import type { JobControl, LabService as LabServiceType } from '../../main/lab/service.ts';
import { LabService } from '../../main/lab/service.ts';
import type { JobUpdate } from '../../main/lab/jobs.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { createDesktopClient, labApiTransport } from '../../renderer/api/desktopClient.ts';
import { desktopBridgeFunctions, desktopOrigin, type DesktopBridge, type ExportSummary, type ImportSummary, type ShellEvent } from '../../shared/desktopBridge.ts';

const electronMock = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  sent: [] as string[],
}));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => electronMock.exposed.set(key, api) },
  ipcRenderer: { on: () => undefined, send: (channel: string) => electronMock.sent.push(channel), invoke: async () => ({ ok: true, result: null }) },
}));

// The engine's results are what the page's types say they are.
const importSummary: ImportSummary = {} as ImportResult;
const exportSummary: ExportSummary = {} as ExportRunsResult;
void importSummary;
void exportSummary;

/** An ipcRenderer stand-in wired to a "main process" the test drives. */
function fakeRenderer(onConnect: () => void) {
  const listeners = new Map<string, ((event: IpcRendererEvent, ...args: unknown[]) => void)[]>();
  const invoked: { channel: string; args: unknown[] }[] = [];
  const ipc: IpcRendererLike = {
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void) {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
      return ipc as never;
    },
    send(channel: string) {
      if (channel === ipcChannels.connect) onConnect();
    },
    async invoke(channel: string, ...args: unknown[]) {
      invoked.push({ channel, args });
      return { ok: true, result: null };
    },
  };
  const emit = (channel: string, event: Partial<IpcRendererEvent>, ...args: unknown[]) => {
    for (const l of listeners.get(channel) ?? []) l(event as IpcRendererEvent, ...args);
  };
  return { ipc, emit, invoked };
}

const until = async (predicate: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the preload against the contract', () => {
  it('exposes exactly the bridge functions, as window.lab', () => {
    const exposed = new Map<string, unknown>();
    const { ipc } = fakeRenderer(() => {});
    exposeLab({ exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) }, ipc);
    expect([...exposed.keys()]).toEqual([bridgeKey]);
    const lab = exposed.get('lab') as Record<string, unknown>;
    expect(Object.keys(lab).sort()).toEqual([...desktopBridgeFunctions].sort());
    expect(Object.values(lab).every((v) => typeof v === 'function')).toBe(true);
  });

  it('carries every member of LabApi: the transport ones over the bridge', () => {
    const bridge = createLabBridge(fakeRenderer(() => {}).ipc);
    const members = Object.keys(labApiTransport) as (keyof LabApi)[];
    expect(members.sort()).toEqual(['call', 'exportUrl', 'subscribe']);
    for (const member of members) {
      if (labApiTransport[member] === 'bridge') expect(typeof (bridge as unknown as Record<string, unknown>)[member], member).toBe('function');
    }
    const client = createDesktopClient(bridge);
    for (const member of members) expect(typeof client[member], member).toBe('function');
    expect(desktopOrigin).toBe(appOrigin);
    expect(client.exportUrl('20260101-000000-abcd', 'accuracy-over-training', 'svg')).toBe('app://lab/api/export/20260101-000000-abcd/accuracy-over-training.svg');
    expect(client.exportUrl('20260101-000000-abcd', 'metrics', 'csv')).toBe('app://lab/api/export/20260101-000000-abcd/metrics.csv');
  });

  it('preload.ts passes the real contextBridge and ipcRenderer, and asks for a port', async () => {
    await import('../../main/desktop/preload.ts');
    const lab = electronMock.exposed.get('lab') as Record<string, unknown>;
    expect(Object.keys(lab).sort()).toEqual([...desktopBridgeFunctions].sort());
    expect(electronMock.sent).toEqual([ipcChannels.connect]);
  });
});

describe('desktop client -> preload bridge -> MessagePort -> LabService', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-preload-'));
  const store = RunStore.open(dir);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A job queue stand-in whose updates the test emits. */
  const updates = new Set<(u: JobUpdate) => void>();
  const queue: JobControl = {
    submit: () => {
      throw new Error('not in this test');
    },
    resume: () => {
      throw new Error('not in this test');
    },
    cancel: () => false,
    subscribe: (l) => {
      updates.add(l);
      return () => updates.delete(l);
    },
    backendInfo: async () => ({ name: 'cpu', device: 'cpu', label: 'cpu', skipped: [], forced: false, details: {}, fusedKernels: false }),
    active: [],
  };
  const service: LabServiceType = new LabService(store, queue, { flushIntervalMs: 10, measureThroughput: false });

  /** One "engine": a MessageChannel whose first port the service is served on. */
  const engine = (svc: PortService) => {
    const channel = new MessageChannel();
    servePort(nodePortEndpoint(channel.port1), svc);
    return channel.port2;
  };

  it('calls, errors with problems, the stream, and a restart', async () => {
    let connects = 0;
    const renderer = fakeRenderer(() => {
      connects++;
    });
    const navigations: string[] = [];
    const location = {
      current: '#/runs/20260101-000000-abcd',
      get hash() {
        return this.current;
      },
      set hash(value: string) {
        navigations.push(value);
        this.current = value;
      },
    };
    const bridge: DesktopBridge = createLabBridge(renderer.ipc, { location });
    const client = createDesktopClient(bridge, { warn: () => {} });
    expect(connects).toBe(1);
    expect(client.streamState()).toBe('connecting');

    // The main process answers the connect request with a port, and says the engine is ready.
    renderer.emit(ipcChannels.port, { ports: [engine(service)] as never });
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'engine', state: 'ready', interrupted: [] } satisfies ShellEvent);
    expect(client.streamState()).toBe('open');

    expect(await client.call('runs.list', {})).toEqual([]);
    const notFound = await client.call('runs.get', { id: 'abcd-0000' }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ApiError);
    expect((notFound as ApiError).problems[0]?.path).toBe('id');
    const invalid = await client.call('runs.list', { bogus: 1 } as never).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect((invalid as ApiError).problems).toEqual([{ path: 'bogus', message: 'unknown field' }]);

    const stream: JobStreamMessage[] = [];
    client.subscribe((m) => stream.push(m));
    await until(() => updates.size > 0);
    await new Promise((r) => setTimeout(r, 20));
    for (const u of updates) u({ kind: 'status', runId: '20260101-000000-abcd', status: 'running' });
    await until(() => stream.length === 1);
    expect(stream[0]).toEqual({ type: 'status', runId: '20260101-000000-abcd', status: 'running' });

    // The engine crashes and comes back on a new port: the page hears it and keeps its stream.
    let reconnected = 0;
    client.onReconnect(() => reconnected++);
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'engine', state: 'restarting', message: 'The compute engine stopped unexpectedly (exit code 1).' } satisfies ShellEvent);
    expect(client.streamState()).toBe('reconnecting');
    const service2 = new LabService(store, queue, { flushIntervalMs: 10, measureThroughput: false });
    renderer.emit(ipcChannels.port, { ports: [engine(service2)] as never });
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'engine', state: 'ready', interrupted: ['20260101-000000-abcd'] } satisfies ShellEvent);
    expect(client.streamState()).toBe('open');
    expect(reconnected).toBe(1);
    expect(stream.at(-1)).toEqual({ type: 'status', runId: '20260101-000000-abcd', status: 'interrupted', error: 'The compute engine stopped unexpectedly (exit code 1).' });
    expect(await client.call('runs.list', { status: 'interrupted' })).toEqual([]);
    const before = stream.length;
    await new Promise((r) => setTimeout(r, 20));
    for (const u of updates) u({ kind: 'status', runId: '20260101-000000-abcd', status: 'queued' });
    await until(() => stream.length > before);

    // The native menu's commands, carried out by the preload (the page hears them too).
    const heard: ShellEvent[] = [];
    client.desktop.onShellEvent((e) => heard.push(e));
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'menu', command: 'compare' } satisfies ShellEvent);
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'menu', command: 'new-experiment' } satisfies ShellEvent);
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'menu', command: 'open-run', runId: '20260101-000000-beef' } satisfies ShellEvent);
    expect(navigations).toEqual(['#/compare?runs=20260101-000000-abcd', '#/setup', '#/runs/20260101-000000-beef']);
    expect(heard.filter((e) => e.type === 'menu')).toHaveLength(3);
    location.current = '#/compare?runs=aaaa-1111,bbbb-2222';
    renderer.emit(ipcChannels.shellEvent, {}, { type: 'menu', command: 'export' } satisfies ShellEvent);
    await until(() => renderer.invoked.length === 1);
    expect(renderer.invoked[0]).toEqual({ channel: ipcChannels.exportRuns, args: [['aaaa-1111', 'bbbb-2222']] });
    service2.close();
  });

  it('carries the Paper page’s methods: a plan crosses the port whole, and a bad field is named', async () => {
    const renderer = fakeRenderer(() => {});
    const client = createDesktopClient(createLabBridge(renderer.ipc), { warn: () => {} });
    renderer.emit(ipcChannels.port, { ports: [engine(service)] as never });
    const params = { preset: 'quick', seeds: 2, ranks: [1, 2], input: { task: { kind: 'sparse-coding', d: 24 }, model: { kind: 'two-layer', width: 16 } } };
    const plan = await client.call('paper.plan', params);
    expect(plan.items).toHaveLength(2 * 4 + 2);
    expect(plan.items.every((i) => i.status === 'missing')).toBe(true);
    expect(plan.config).toMatchObject({ task: { d: 24 }, model: { width: 16 } });
    const figures = await client.call('paper.figures', params);
    expect(figures.claims.map((c) => c.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    const tooMany = await client.call('paper.plan', { ...params, seeds: 11 }).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(ApiError);
    expect((tooMany as ApiError).problems[0]?.path).toBe('seeds');
    const pending = await client.call('paper.export', { ...params, claim: 'C1', format: 'svg' }).catch((e: unknown) => e);
    expect((pending as ApiError).problems[0]?.path).toBe('claim');
  });

  it('a call made before the engine connects waits for it; one made when it never does answers an error', async () => {
    const renderer = fakeRenderer(() => {});
    const bridge = createLabBridge(renderer.ipc, { connectTimeoutMs: 100 });
    const early = bridge.call('runs.list', {});
    renderer.emit(ipcChannels.port, { ports: [engine(service)] as never });
    expect(await early).toEqual({ ok: true, result: [] });
    const lonely = createLabBridge(fakeRenderer(() => {}).ipc, { connectTimeoutMs: 50 });
    expect(await lonely.call('runs.list', {})).toMatchObject({ ok: false, error: { message: expect.stringMatching(/did not connect/) } });
  });
});
