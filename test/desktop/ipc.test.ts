/**
 * IPC sender validation: a handler acts only for the main frame of our own window showing our
 * own origin; subframes, other origins, file:// pages, detached or vanished frames and other
 * web contents are refused before the handler runs, and arguments are checked after.
 */
import { EventEmitter } from 'node:events';
import type { IpcMain } from 'electron';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ipcHandler, isAllowedSender, registerIpc, type FrameLike } from '../../main/desktop/ipc.ts';
import { appOrigin, startUrl } from '../../main/desktop/security.ts';

const frame = (overrides: Partial<{ url: string; origin: string; parent: unknown; detached: boolean }> = {}): FrameLike =>
  ({ url: startUrl, origin: appOrigin, parent: null, detached: false, ...overrides }) as unknown as FrameLike;

describe('isAllowedSender', () => {
  it('accepts the main frame of our page, whatever its route', () => {
    expect(isAllowedSender(frame())).toBe(true);
    expect(isAllowedSender(frame({ url: `${appOrigin}/index.html#/runs/abc` }))).toBe(true);
  });

  it('refuses subframes, even of our own origin', () => {
    expect(isAllowedSender(frame({ parent: frame() }))).toBe(false);
  });

  it('refuses other origins, by URL or by origin', () => {
    expect(isAllowedSender(frame({ url: 'https://example.com/', origin: 'https://example.com' }))).toBe(false);
    expect(isAllowedSender(frame({ url: 'file:///home/user/index.html', origin: 'file://' }))).toBe(false);
    expect(isAllowedSender(frame({ url: 'app://other/index.html', origin: 'app://other' }))).toBe(false);
    expect(isAllowedSender(frame({ url: 'https://example.com/', origin: appOrigin }))).toBe(false); // URL and origin disagree
    expect(isAllowedSender(frame({ url: startUrl, origin: 'null' }))).toBe(false); // an opaque origin (a sandboxed iframe, data:)
    expect(isAllowedSender(frame({ url: 'app://lab.evil/index.html', origin: 'app://lab.evil' }))).toBe(false);
  });

  it('refuses frames that are gone', () => {
    expect(isAllowedSender(null)).toBe(false);
    expect(isAllowedSender(undefined)).toBe(false);
    expect(isAllowedSender(frame({ detached: true }))).toBe(false);
  });
});

/** An ipcMain stand-in: records the handlers, and dispatches as Electron would. */
function fakeIpcMain() {
  const events = new EventEmitter();
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
  const ipc = {
    on: (channel: string, listener: (...args: unknown[]) => void) => events.on(channel, listener),
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => events.removeListener(channel, listener),
    handle: (channel: string, handler: (event: unknown, ...args: unknown[]) => Promise<unknown>) => handlers.set(channel, handler),
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  return { ipc: ipc as unknown as Pick<IpcMain, 'on' | 'removeListener' | 'handle' | 'removeHandler'>, events, handlers };
}

describe('registerIpc', () => {
  const ours = { id: 1 };
  const theirs = { id: 2 };
  const trusted = (event: { sender?: unknown; senderFrame?: FrameLike | null }) => event.sender === ours && isAllowedSender(event.senderFrame);

  function setup() {
    const { ipc, events, handlers } = fakeIpcMain();
    const calls: unknown[] = [];
    const log: string[] = [];
    const remove = registerIpc(
      ipc,
      trusted as never,
      {
        on: { 'lab:connect': ipcHandler(z.tuple([]), () => void calls.push('connect')) },
        handle: {
          'lab:open-run-folder': ipcHandler(z.tuple([z.string().regex(/^[0-9a-z-]{4,40}$/)]), ([id]) => {
            calls.push(id);
            return { opened: id };
          }),
        },
      },
      (line) => log.push(line),
    );
    return { events, handlers, calls, log, remove };
  }

  it('runs the handler for our own main frame, with checked arguments', async () => {
    const { events, handlers, calls } = setup();
    events.emit('lab:connect', { sender: ours, senderFrame: frame() });
    expect(await handlers.get('lab:open-run-folder')!({ sender: ours, senderFrame: frame() }, '20260101-000000-abcd')).toEqual({ ok: true, result: { opened: '20260101-000000-abcd' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['20260101-000000-abcd', 'connect']);
  });

  it('refuses other senders before the handler runs', async () => {
    const { events, handlers, calls, log } = setup();
    const refused = [
      { sender: ours, senderFrame: frame({ parent: frame() }) },
      { sender: ours, senderFrame: frame({ url: 'https://evil.example/', origin: 'https://evil.example' }) },
      { sender: ours, senderFrame: null },
      { sender: theirs, senderFrame: frame() },
    ];
    for (const event of refused) {
      events.emit('lab:connect', event);
      await expect(handlers.get('lab:open-run-folder')!(event, '20260101-000000-abcd')).rejects.toThrow(/refused/);
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual([]);
    expect(log.filter((l) => l.startsWith('refused'))).toHaveLength(8);
  });

  it('refuses bad arguments with an answer, not a crash', async () => {
    const { handlers, calls } = setup();
    for (const args of [[], ['../../etc'], [42], ['20260101-000000-abcd', 'extra']]) {
      const answer = (await handlers.get('lab:open-run-folder')!({ sender: ours, senderFrame: frame() }, ...args)) as { ok: boolean };
      expect(answer.ok, JSON.stringify(args)).toBe(false);
    }
    expect(calls).toEqual([]);
  });

  it('removes what it registered', () => {
    const { events, handlers, remove } = setup();
    remove();
    expect(events.listenerCount('lab:connect')).toBe(0);
    expect(handlers.size).toBe(0);
  });
});
