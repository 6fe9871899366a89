/**
 * The native menus, and the About box's text. Pure: the template is data whose `click`s call the
 * actions passed in, so the menu is tested without Electron and mainProcess.ts builds it with
 * Menu.buildFromTemplate.
 *
 *   File:  New experiment, Open run folder…, Import weights / data…, Export…, (Quit)
 *   Edit:  the standard roles (copy and paste in the experiment form)
 *   View:  Compare, Paper, zoom, full screen (and reload, developer tools in development)
 *   Help:  About, with the versions and the compute backend in use
 * On macOS the application menu comes first (About, Hide, Quit) and a Window menu is added.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { BackendInfo } from '../../shared/events.ts';
import { productName } from './security.ts';

export interface MenuActions {
  newExperiment(): void;
  openRunFolder(): void;
  importFile(): void;
  exportRuns(): void;
  compare(): void;
  paper(): void;
  about(): void;
}

export interface MenuContext {
  readonly platform: NodeJS.Platform;
  /** Reload and developer tools are offered only in development. */
  readonly development: boolean;
}

export function menuTemplate(actions: MenuActions, context: MenuContext): MenuItemConstructorOptions[] {
  const mac = context.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${productName}`, click: () => actions.about() };
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'New experiment', accelerator: 'CmdOrCtrl+N', click: () => actions.newExperiment() },
      { label: 'Open run folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.openRunFolder() },
      { type: 'separator' },
      { label: 'Import weights / data…', accelerator: 'CmdOrCtrl+I', click: () => actions.importFile() },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportRuns() },
      ...(mac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
    ],
  };
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { label: 'Compare', accelerator: 'CmdOrCtrl+K', click: () => actions.compare() },
      { label: 'Paper', accelerator: 'CmdOrCtrl+P', click: () => actions.paper() },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(context.development ? [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }] : []),
    ],
  };
  const help: MenuItemConstructorOptions = { label: '&Help', role: 'help', submenu: [about] };
  if (!mac) return [file, edit, view, help];
  return [
    {
      label: productName,
      submenu: [about, { type: 'separator' }, { role: 'services' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    },
    file,
    edit,
    view,
    { role: 'windowMenu' },
    help,
  ];
}

export interface AboutInfo {
  readonly version: string;
  readonly codeVersion: string | null;
  readonly versions: { readonly electron?: string | undefined; readonly chrome?: string | undefined; readonly node?: string | undefined; readonly v8?: string | undefined };
  /** The engine's backend, or why it is not known (the engine is not running). */
  readonly backend: BackendInfo | { readonly unavailable: string };
  readonly store: string | null;
  /** How the engine runs: 'utility process' or 'system Node child process (development)'. */
  readonly engine: string;
}

/** The backend in one line: "wasm (CPU), fused SIMD kernels on". */
export function backendLine(backend: AboutInfo['backend']): string {
  if ('unavailable' in backend) return `not known (${backend.unavailable})`;
  const parts = [`${backend.label}${backend.forced ? ' (forced)' : ''}`];
  if (backend.name === 'wasm') parts.push(`fused SIMD kernels ${backend.fusedKernels ? 'on' : 'off'}`);
  if (backend.name === 'webgpu') parts.push(`fused WGSL kernels ${backend.fusedKernels ? 'on' : 'off'}`);
  if (backend.note) parts.push(backend.note);
  return parts.join('; ');
}

/** The About box: a title line and the details. */
export function aboutText(info: AboutInfo): { message: string; detail: string } {
  const v = info.versions;
  return {
    message: `${productName} ${info.version}`,
    detail: [
      `Code version: ${info.codeVersion ?? 'unknown'}`,
      `Compute backend in use: ${backendLine(info.backend)}`,
      `Engine: ${info.engine}`,
      `Run store: ${info.store ?? 'not open'}`,
      '',
      `Electron ${v.electron ?? '?'} · Chromium ${v.chrome ?? '?'} · Node ${v.node ?? '?'} · V8 ${v.v8 ?? '?'}`,
    ].join('\n'),
  };
}
