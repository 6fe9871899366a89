/**
 * The desktop app's security settings, following Electron's security checklist
 * (https://www.electronjs.org/docs/latest/tutorial/security), as pure functions over what they
 * configure, so that each item is tested without the Electron runtime:
 *
 *   1  only secure content          every request that is not app://lab is cancelled
 *   2  no Node in the renderer      nodeIntegration (and in workers and subframes) off
 *   3  context isolation           on
 *   4  process sandbox             on (and app.enableSandbox() for every renderer)
 *   5  permission requests         all denied, and all permission checks answer no
 *   6  webSecurity                 on
 *   7  Content-Security-Policy     on every response of the app:// protocol (protocol.ts)
 *   8  allowRunningInsecureContent off
 *   9  experimentalFeatures        off
 *   10 enableBlinkFeatures         never set
 *   11 <webview> allowpopups       no webviews at all (webviewTag off)
 *   12 <webview> options           will-attach-webview is refused
 *   13 navigation                  only within app://lab
 *   14 new windows                 window.open is denied
 *   15 shell.openExternal          never called with content from the page
 *   16 a current Electron          45
 *   17 IPC sender validation       ipc.ts
 *   18 no file://                  the renderer is served from the privileged app:// scheme
 *   19 fuses                       set in electron.config.ts
 *   20 no Electron API exposed     the preload exposes named functions only (preloadApi.ts)
 */
import type { BrowserWindowConstructorOptions, CustomScheme, Session, WebContents } from 'electron';

export const appScheme = 'app';
export const appHost = 'lab';
/** The renderer's origin. Nothing else is ever loaded. */
export const appOrigin = `${appScheme}://${appHost}`;
export const startUrl = `${appOrigin}/index.html`;
export const productName = 'Purification Lab';

/**
 * The app:// scheme: standard (a real origin, relative URLs), secure (like https), fetch
 * allowed. Not bypassCSP, not corsEnabled for other origins, no service workers.
 */
export const privilegedSchemes: CustomScheme[] = [
  {
    scheme: appScheme,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true, bypassCSP: false, allowServiceWorkers: false, corsEnabled: false, stream: false },
  },
];

/**
 * The Content-Security-Policy of every page and file the app serves: scripts only from the app
 * itself (no inline script, no eval), nothing from any other origin, no plugins, no framing,
 * no forms, no <base>. Inline style attributes stay allowed: Vue and ECharts set them.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "manifest-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Headers on every app:// response. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), payment=()',
  };
}

/** Whether a URL is the app's own (scheme and host exactly; no userinfo, no port). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${appScheme}:` && parsed.host.toLowerCase() === appHost && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/**
 * What the session lets the renderer fetch: the app's own files, and the data:, blob: and
 * devtools URLs that never leave the machine. No http(s), no ws, no file://.
 */
export function isAllowedRequestUrl(url: string): boolean {
  if (isAppUrl(url)) return true;
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  return scheme === 'data:' || scheme === 'blob:' || scheme === 'devtools:';
}

export interface WindowPlacement {
  readonly x?: number;
  readonly y?: number;
  readonly width: number;
  readonly height: number;
}

/** The main window: hidden until it has painted, and every web preference at its safe value. */
export function windowOptions(input: { preload: string; placement: WindowPlacement }): BrowserWindowConstructorOptions {
  const { placement } = input;
  return {
    ...(placement.x !== undefined && placement.y !== undefined ? { x: placement.x, y: placement.y } : { center: true }),
    width: placement.width,
    height: placement.height,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: productName,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: true,
    },
  };
}

/** The session: every permission request denied and every check answered no; foreign requests cancelled; downloads only of our own files. */
export function hardenSession(session: Session, log: (line: string) => void = () => {}): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`denied a permission request: ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.setDisplayMediaRequestHandler((_request, callback) => callback(null));
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequestUrl(details.url);
    if (!allowed) log(`cancelled a request to ${details.url}`);
    callback({ cancel: !allowed });
  });
  // Exports are downloads of app:// URLs (and blobs the page made): Electron shows the save dialog.
  session.on('will-download', (event, item) => {
    const url = item.getURL();
    if (!isAppUrl(url) && !url.startsWith(`blob:${appOrigin}/`)) {
      log(`refused a download of ${url}`);
      event.preventDefault();
    }
  });
}

/**
 * Guards for every web contents the app creates (app.on('web-contents-created')): navigation
 * only within app://lab, no new windows, no webviews. Links to elsewhere are not opened
 * anywhere: the app has no reason to send the user to a web page.
 */
export function guardWebContents(contents: WebContents, log: (line: string) => void = () => {}): void {
  const refuseForeign = (event: { preventDefault(): void; url: string }, what: string) => {
    if (isAppUrl(event.url)) return;
    log(`refused ${what} to ${event.url}`);
    event.preventDefault();
  };
  contents.on('will-navigate', (event) => refuseForeign(event, 'a navigation'));
  contents.on('will-frame-navigate', (event) => refuseForeign(event, 'a frame navigation'));
  contents.on('will-redirect', (event) => refuseForeign(event, 'a redirect'));
  contents.setWindowOpenHandler((details) => {
    log(`refused to open a window for ${details.url}`);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => {
    log('refused to attach a webview');
    event.preventDefault();
  });
}
