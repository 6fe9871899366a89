/**
 * IPC between the window and the main process: the channel names, the sender check every
 * handler runs first, and the argument check that follows it.
 *
 * The renderer's API traffic does not use IPC at all (it goes over the MessagePort the main
 * process hands over on `lab:connect`); IPC carries only the shell's own requests (a port, a
 * folder to show, the native import and export dialogs) and the shell's events.
 *
 * Every handler first asks `isAllowedSender`: the message must come from the main frame (not a
 * subframe) of our own window's web contents, showing a page of our own origin (app://lab).
 * Anything else is refused and logged, whatever it asks.
 */
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import type { z } from 'zod';
import { appOrigin, isAppUrl } from './security.ts';

export const ipcChannels = {
  /** renderer -> main (send): give me a port to the engine. */
  connect: 'lab:connect',
  /** main -> renderer (postMessage with one port): the port. */
  port: 'lab:port',
  /** main -> renderer (send): engine state, menu commands. */
  shellEvent: 'lab:shell-event',
  /** renderer -> main (invoke): show a run's folder in the file manager. */
  openRunFolder: 'lab:open-run-folder',
  /** renderer -> main (invoke): the native open dialog, then the engine checks and imports the file. */
  importFile: 'lab:import-file',
  /** renderer -> main (invoke): the native folder dialog, then the engine writes the exports. */
  exportRuns: 'lab:export-runs',
} as const;

/** What of a frame the check reads (WebFrameMain has all of it). */
export type FrameLike = Pick<WebFrameMain, 'url' | 'origin' | 'parent' | 'detached'>;

/**
 * Whether an IPC message may be acted on: sent by a live main frame (no parent) of the expected
 * web contents, whose document is ours by URL and by origin.
 */
export function isAllowedSender(frame: FrameLike | null | undefined, expected: { origin?: string } = {}): boolean {
  if (!frame) return false; // the frame navigated away or was destroyed
  if (frame.detached) return false;
  if (frame.parent !== null) return false; // a subframe, whatever its origin
  // Both the frame's origin (as Chromium computed it) and its URL must be ours. (Node's URL
  // gives every non-web scheme the opaque origin "null", so the URL is checked by scheme and host.)
  if (frame.origin !== (expected.origin ?? appOrigin)) return false;
  return isAppUrl(frame.url);
}

type Event = IpcMainEvent | IpcMainInvokeEvent;

export interface IpcHandler {
  /** The arguments after the event, as one tuple. */
  readonly args: z.ZodType;
  readonly run: (args: unknown, event: Event) => unknown;
}

/** A handler whose `run` receives the arguments as the schema outputs them. */
export function ipcHandler<S extends z.ZodType>(args: S, run: (args: z.output<S>, event: Event) => unknown): IpcHandler {
  return { args, run: run as (args: unknown, event: Event) => unknown };
}

/** The answer of an invoke handler: the shape the preload hands to the page unchanged. */
export type IpcAnswer = { ok: true; result: unknown } | { ok: false; error: { message: string } };

export interface IpcRegistration {
  /** renderer -> main `send` channels. */
  readonly on?: Readonly<Record<string, IpcHandler>>;
  /** renderer -> main `invoke` channels. */
  readonly handle?: Readonly<Record<string, IpcHandler>>;
}

/**
 * Register handlers behind the sender check (`trusted(event)`, normally: isAllowedSender on
 * event.senderFrame, and event.sender is our window's web contents) and the argument schema.
 * Returns the function that removes them.
 */
export function registerIpc(ipcMain: Pick<IpcMain, 'on' | 'removeListener' | 'handle' | 'removeHandler'>, trusted: (event: Event) => boolean, handlers: IpcRegistration, log: (line: string) => void = () => {}): () => void {
  const removers: (() => void)[] = [];
  for (const [channel, handler] of Object.entries(handlers.on ?? {})) {
    const listener = (event: IpcMainEvent, ...args: unknown[]) => {
      if (!trusted(event)) return log(`refused ${channel} from ${event.senderFrame?.url ?? 'a frame that is gone'}`);
      const parsed = handler.args.safeParse(args);
      if (!parsed.success) return log(`refused ${channel}: bad arguments`);
      void Promise.resolve()
        .then(() => handler.run(parsed.data, event))
        .catch((error: unknown) => log(`${channel} failed: ${(error as Error).message}`));
    };
    ipcMain.on(channel, listener);
    removers.push(() => ipcMain.removeListener(channel, listener));
  }
  for (const [channel, handler] of Object.entries(handlers.handle ?? {})) {
    ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<IpcAnswer> => {
      if (!trusted(event)) {
        log(`refused ${channel} from ${event.senderFrame?.url ?? 'a frame that is gone'}`);
        throw new Error(`${channel}: refused (not sent by the app's own window)`);
      }
      const parsed = handler.args.safeParse(args);
      if (!parsed.success) return { ok: false, error: { message: `${channel}: bad arguments (${parsed.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ')})` } };
      try {
        return { ok: true, result: await handler.run(parsed.data, event) };
      } catch (error) {
        return { ok: false, error: { message: error instanceof Error ? error.message : String(error) } };
      }
    });
    removers.push(() => ipcMain.removeHandler(channel));
  }
  return () => {
    for (const remove of removers) remove();
  };
}
