/**
 * Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security),
 * one test per item, run against the shell's own functions with stand-ins for Electron's
 * objects (the runtime cannot be downloaded here). The numbers are the checklist's.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import type { Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import config from '../../electron.config.ts';
import { ipcChannels, isAllowedSender } from '../../main/desktop/ipc.ts';
import { exposeLab, type IpcRendererLike } from '../../main/desktop/preloadApi.ts';
import { createProtocolHandler } from '../../main/desktop/protocol.ts';
import {
  appOrigin,
  contentSecurityPolicy,
  guardWebContents,
  hardenSession,
  isAllowedRequestUrl,
  privilegedSchemes,
  startUrl,
  windowOptions,
} from '../../main/desktop/security.ts';
import { desktopBridgeFunctions } from '../../shared/desktopBridge.ts';

const root = new URL('../../', import.meta.url);
const desktopSources = readdirSync(new URL('main/desktop/', root))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(new URL(`main/desktop/${f}`, root), 'utf8') }));
/** The code of a source file without its comments (so a comment naming an API is not a use of it). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

const prefs = windowOptions({ preload: '/app/out/desktop/preload.cjs', placement: { width: 1200, height: 800 } }).webPreferences!;

/** A session stand-in that records what hardenSession installs. */
function fakeSession() {
  const installed: Record<string, unknown> = {};
  const events = new EventEmitter();
  const session = {
    setPermissionRequestHandler: (h: unknown) => (installed.request = h),
    setPermissionCheckHandler: (h: unknown) => (installed.check = h),
    setDevicePermissionHandler: (h: unknown) => (installed.device = h),
    setDisplayMediaRequestHandler: (h: unknown) => (installed.displayMedia = h),
    webRequest: { onBeforeRequest: (h: unknown) => (installed.beforeRequest = h) },
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
  };
  hardenSession(session as unknown as Session);
  return { installed, events };
}

/** A web contents stand-in: events, and the window-open handler. */
function fakeContents() {
  const contents = new EventEmitter() as EventEmitter & { openHandler?: (details: { url: string }) => { action: string } };
  (contents as unknown as { setWindowOpenHandler: (h: never) => void }).setWindowOpenHandler = (h) => (contents.openHandler = h);
  guardWebContents(contents as unknown as WebContents);
  const event = (url: string) => {
    let prevented = false;
    return { url, preventDefault: () => (prevented = true), get prevented() {
      return prevented;
    } };
  };
  return { contents, event };
}

describe('Electron security checklist', () => {
  it('1. only secure content: every request that is not app://lab is cancelled', () => {
    const { installed } = fakeSession();
    const decide = (url: string) => {
      let cancel: boolean | undefined;
      (installed.beforeRequest as (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void)({ url }, (r) => (cancel = r.cancel));
      return cancel;
    };
    for (const url of ['http://example.com/x.js', 'https://cdn.example.com/lib.js', 'ws://127.0.0.1:9/', 'file:///etc/passwd', 'ftp://x/y', 'app://evil/index.html', 'app://lab.evil/x']) expect(decide(url), url).toBe(true);
    for (const url of [startUrl, `${appOrigin}/assets/index-1.js`, 'data:image/png;base64,AA==', `blob:${appOrigin}/uuid`]) expect(decide(url), url).toBe(false);
    expect(isAllowedRequestUrl('APP://LAB/index.html')).toBe(true);
  });

  it('2. no Node.js integration for the page, its workers or its frames', () => {
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('3. context isolation is on', () => {
    expect(prefs.contextIsolation).toBe(true);
  });

  it('4. the renderer is sandboxed (the window, and app.enableSandbox() for every renderer)', () => {
    expect(prefs.sandbox).toBe(true);
    const main = code(desktopSources.find((s) => s.file === 'mainProcess.ts')!.text);
    expect(main).toMatch(/app\.enableSandbox\(\)/);
  });

  it('5. permission requests are denied, and permission checks answer no', () => {
    const { installed } = fakeSession();
    const request = installed.request as (wc: unknown, permission: string, cb: (granted: boolean) => void, details: unknown) => void;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen', 'pointerLock', 'hid', 'serial', 'unknown']) {
      let granted: boolean | undefined;
      request({}, permission, (g) => (granted = g), {});
      expect(granted, permission).toBe(false);
    }
    expect((installed.check as (...a: unknown[]) => boolean)(null, 'media', appOrigin, {})).toBe(false);
    expect((installed.device as (...a: unknown[]) => boolean)({ deviceType: 'usb', origin: appOrigin })).toBe(false);
    let streams: unknown = 'not called';
    (installed.displayMedia as (r: unknown, cb: (s: unknown) => void) => void)({}, (s) => (streams = s));
    expect(streams).toBeNull();
  });

  it('6. webSecurity is not disabled', () => {
    expect(prefs.webSecurity).toBe(true);
  });

  it('7. a Content-Security-Policy is on every response of the app:// protocol', async () => {
    expect(contentSecurityPolicy).toMatch(/default-src 'none'/);
    expect(contentSecurityPolicy).toMatch(/script-src 'self'(;|$)/);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(contentSecurityPolicy).toMatch(/object-src 'none'/);
    expect(contentSecurityPolicy).toMatch(/frame-ancestors 'none'/);
    const handler = createProtocolHandler({
      root: '/nonexistent-root',
      exportFile: async () => ({ kind: 'missing', message: 'no such run' }),
      readFile: async (path) => {
        if (path.endsWith('index.html')) return new TextEncoder().encode('<!doctype html>');
        throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      },
    });
    for (const url of [startUrl, `${appOrigin}/missing.js`, `${appOrigin}/../etc/passwd`, `${appOrigin}/api/export/abcd-1234/accuracy-over-training.svg`]) {
      const response = await handler(new Request(url));
      expect(response.headers.get('content-security-policy'), url).toBe(contentSecurityPolicy);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('8. insecure content is never allowed to run', () => {
    expect(prefs.allowRunningInsecureContent).toBe(false);
  });

  it('9. experimental features are off', () => {
    expect(prefs.experimentalFeatures).toBe(false);
  });

  it('10. no Blink features are enabled', () => {
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    for (const { file, text } of desktopSources) expect(code(text), file).not.toMatch(/enableBlinkFeatures/);
  });

  it('11. <webview> (and so its allowpopups) is unavailable', () => {
    expect(prefs.webviewTag).toBe(false);
  });

  it('12. attaching a <webview> is refused', () => {
    const { contents, event } = fakeContents();
    const attach = event('');
    contents.emit('will-attach-webview', attach, {}, {});
    expect(attach.prevented).toBe(true);
  });

  it('13. navigation stays within app://lab', () => {
    const { contents, event } = fakeContents();
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      const away = event('https://example.com/');
      contents.emit(name, away);
      expect(away.prevented, name).toBe(true);
      const file = event('file:///etc/passwd');
      contents.emit(name, file);
      expect(file.prevented, name).toBe(true);
      const home = event(`${appOrigin}/index.html#/runs`);
      contents.emit(name, home);
      expect(home.prevented, name).toBe(false);
    }
  });

  it('14. new windows are denied', () => {
    const { contents } = fakeContents();
    for (const url of ['https://example.com/', `${appOrigin}/index.html`, 'about:blank']) expect(contents.openHandler!({ url })).toEqual({ action: 'deny' });
  });

  it('15. shell.openExternal is never called (links go nowhere; folders open with openPath)', () => {
    for (const { file, text } of desktopSources) expect(code(text), file).not.toMatch(/openExternal/);
  });

  it('16. Electron is current: 45', () => {
    const installed = JSON.parse(readFileSync(new URL('node_modules/electron/package.json', root), 'utf8')) as { version: string };
    expect(Number(installed.version.split('.')[0])).toBeGreaterThanOrEqual(45);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.electron).toMatch(/^\^?4[5-9]\.|^\^?[5-9]\d\./);
  });

  it('17. IPC senders are validated: only the main frame of our own page', () => {
    const frame = (url: string, origin: string, parent: unknown = null) => ({ url, origin, parent, detached: false }) as never;
    expect(isAllowedSender(frame(startUrl, appOrigin))).toBe(true);
    expect(isAllowedSender(frame('https://example.com/', 'https://example.com'))).toBe(false);
    expect(isAllowedSender(frame(startUrl, appOrigin, frame(startUrl, appOrigin)))).toBe(false);
    expect(isAllowedSender(null)).toBe(false);
  });

  it('18. no file://: the page is served from the privileged app:// scheme', () => {
    expect(new URL(startUrl).protocol).toBe('app:');
    const privileges = privilegedSchemes.find((s) => s.scheme === 'app')!.privileges!;
    expect(privileges).toMatchObject({ standard: true, secure: true });
    expect(privileges.bypassCSP).toBe(false);
    for (const { file, text } of desktopSources) expect(code(text), file).not.toMatch(/loadFile\(|['"`]file:\/\//);
  });

  it('19. the fuses are set: no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect; only app.asar, checked', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('20. no Electron API reaches the page: the preload exposes named functions only', () => {
    const ipc: IpcRendererLike = { on: () => ipc as never, send: () => {}, invoke: async () => ({ ok: true, result: null }) };
    const exposed: Record<string, unknown> = {};
    exposeLab({ exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api) }, ipc);
    const lab = exposed.lab as Record<string, unknown>;
    expect(Object.keys(exposed)).toEqual(['lab']);
    expect(Object.keys(lab).sort()).toEqual([...desktopBridgeFunctions].sort());
    for (const value of Object.values(lab)) {
      expect(typeof value).toBe('function');
      expect(value).not.toBe(ipc);
    }
    expect(Object.values(ipcChannels).every((c) => c.startsWith('lab:'))).toBe(true);
  });
});
