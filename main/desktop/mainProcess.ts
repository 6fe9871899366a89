/**
 * The Electron main process: app lifecycle, one window, the native menus and dialogs, and the
 * broker between the window and the engine. It does no compute and never opens the run store:
 * the engine process does (engineProcess.ts), and a crash there never takes the window down.
 *
 *   electron out/app/main/desktop/mainProcess.js [--store DIR] [--backend NAME]     (npm start does this)
 *
 * Every piece of policy lives in a module that is tested without Electron (security.ts,
 * protocol.ts, ipc.ts, engineSupervisor.ts, notices.ts, menu.ts, windowState.ts); this file
 * only wires them to Electron's objects.
 */
import { spawn } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  MessageChannelMain,
  protocol,
  screen,
  session,
  shell,
  utilityProcess,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MessageBoxOptions,
  type MessagePortMain,
  type WebContents,
} from 'electron';
import { z } from 'zod';
import type { ShellEvent } from '../../shared/desktopBridge.ts';
import type { AppInfo } from '../../shared/api.ts';
import { nodeEngine, utilityEngine } from './engineChildren.ts';
import { EngineSupervisor, type EngineChild, type EngineEvent } from './engineSupervisor.ts';
import { ipcChannels, ipcHandler, isAllowedSender, registerIpc } from './ipc.ts';
import { aboutText, menuTemplate } from './menu.ts';
import { crashNotice, failureNotice, shellEventFor, type Notice } from './notices.ts';
import { desktopPaths, engineMode } from './paths.ts';
import { mainPortEndpoint } from './portProtocol.ts';
import { createProtocolHandler } from './protocol.ts';
import { appScheme, guardWebContents, hardenSession, privilegedSchemes, productName, startUrl, windowOptions } from './security.ts';
import { placeWindow, trackWindowState, windowStateStore } from './windowState.ts';

const paths = desktopPaths(import.meta.url);
const development = !app.isPackaged;
const mode = engineMode(process.env, app.isPackaged);
const log = (line: string) => process.stderr.write(`[desktop] ${line}\n`);
const { values: flags } = parseArgs({ args: process.argv.slice(app.isPackaged ? 1 : 2), strict: false, options: { store: { type: 'string' }, backend: { type: 'string' } } });

/** Run ids as the store makes them (shared/api.ts accepts the same). */
const runId = z.string().regex(/^[0-9a-z-]{4,40}$/);

// Before the app is ready: the privileged scheme, the name (it names the user data folder), the
// sandbox for every renderer.
protocol.registerSchemesAsPrivileged(privilegedSchemes);
app.setName(productName);
app.enableSandbox();

function run(): void {
  let window: BrowserWindow | null = null;
  let rendererConnected = false;
  let lastCrash: (EngineEvent & { type: 'crashed' }) | null = null;
  let lastEngineEvent: ShellEvent | null = null;
  let storeDir: string | null = null;
  let quitting = false;

  const sendShell = (event: ShellEvent) => {
    if (window && !window.isDestroyed()) window.webContents.send(ipcChannels.shellEvent, event);
  };

  const startEngine = (): EngineChild<MessagePortMain> => {
    const args = [...(typeof flags.store === 'string' ? ['--store', flags.store] : []), ...(typeof flags.backend === 'string' ? ['--backend', flags.backend] : [])];
    if (mode === 'utility') return utilityEngine({ fork: (...a) => utilityProcess.fork(...a), entry: paths.engineEntry, args });
    return nodeEngine<MessagePortMain>({
      spawn,
      node: process.env.PURIFICATION_LAB_NODE || 'node',
      entry: paths.engineEntry,
      args,
      cwd: paths.root,
      toEndpoint: (port) => mainPortEndpoint(port),
    });
  };

  const showNotice = async (notice: Pick<Notice, 'message' | 'detail' | 'buttons'> & { type: MessageBoxOptions['type'] }): Promise<number> => {
    const options: MessageBoxOptions = {
      type: notice.type,
      title: productName,
      message: notice.message,
      detail: notice.detail,
      buttons: [...notice.buttons],
      defaultId: 0,
      cancelId: notice.buttons.length - 1,
      noLink: true,
    };
    const { response } = window && !window.isDestroyed() ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
    return response;
  };

  const connectRenderer = (contents: WebContents) => {
    const { port1, port2 } = new MessageChannelMain();
    supervisor.connect(port1);
    contents.postMessage(ipcChannels.port, null, [port2]);
    if (lastEngineEvent) contents.send(ipcChannels.shellEvent, lastEngineEvent);
  };

  const onEngineEvent = (event: EngineEvent) => {
    log(`engine: ${event.type}${event.type === 'crashed' ? ` (${event.message})` : event.type === 'failed' ? ` (${event.message})` : ''}`);
    const shellEvent = shellEventFor(event);
    if (shellEvent) {
      lastEngineEvent = shellEvent;
      sendShell(shellEvent);
    }
    if (event.type === 'ready') {
      storeDir = event.store;
      if (event.restarted && rendererConnected && window && !window.isDestroyed()) connectRenderer(window.webContents);
      if (event.restarted && lastCrash) {
        const notice = crashNotice(lastCrash, event.interrupted);
        lastCrash = null;
        void showNotice(notice).then(async (choice) => {
          if (choice !== 0) return;
          for (const id of notice.resumeIds) {
            const answer = await supervisor.call('runs.resume', { id });
            if (!answer.ok) await showNotice({ type: 'error', message: `Run ${id} could not be resumed.`, detail: answer.error.message, buttons: ['OK'] });
          }
        });
      }
    } else if (event.type === 'crashed') {
      lastCrash = event;
    } else if (event.type === 'failed' && !quitting) {
      void showNotice(failureNotice(event.message)).then((choice) => {
        if (choice === 0) supervisor.retry();
      });
    }
  };

  const supervisor = new EngineSupervisor<MessagePortMain>({ start: startEngine, onEvent: onEngineEvent });

  // --- what the window and the menus ask for ---

  const required = <T>(answer: { ok: true; result: T } | { ok: false; error: { message: string } }): T => {
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.result;
  };

  const openRunFolder = async (id: string) => {
    const { folder } = required(await supervisor.call('desktop.runFolder', { id }));
    const problem = await shell.openPath(folder);
    if (problem) throw new Error(`Cannot show ${folder}: ${problem}`);
    return null;
  };

  const importFlow = async () => {
    const options = {
      title: 'Import weights or a dataset',
      properties: ['openFile' as const],
      filters: [
        { name: 'Weights or datasets (safetensors, npz)', extensions: ['safetensors', 'npz'] },
        { name: 'All files', extensions: ['*'] },
      ],
    };
    const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    const path = choice.filePaths[0];
    if (choice.canceled || !path) return null;
    const answer = await supervisor.call('desktop.importFile', { path });
    if (!answer.ok) {
      await showNotice({ type: 'error', message: `${basename(path)} was not imported.`, detail: answer.error.message, buttons: ['OK'] });
      return required(answer);
    }
    const imported = answer.result;
    await showNotice({
      type: 'info',
      message: `Imported ${imported.kind === 'weights' ? 'weights' : 'a dataset'}: ${basename(path)}`,
      detail: `${imported.summary}\n\nCopied to ${imported.file}\nEvaluate it with: npm run lab -- eval --weights FILE --data FILE`,
      buttons: ['OK'],
    });
    return imported;
  };

  const exportFlow = async (ids: readonly string[]) => {
    const what = ids.length === 0 ? 'every run' : ids.length === 1 ? `run ${ids[0]}` : `${ids.length} runs`;
    const options = { title: `Export ${what}: choose a folder`, buttonLabel: 'Export here', properties: ['openDirectory' as const, 'createDirectory' as const] };
    const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    const dir = choice.filePaths[0];
    if (choice.canceled || !dir) return null;
    const answer = await supervisor.call('desktop.exportRuns', { ids: [...ids], dir });
    if (!answer.ok) {
      await showNotice({ type: 'error', message: `The export of ${what} failed.`, detail: answer.error.message, buttons: ['OK'] });
      return required(answer);
    }
    const result = answer.result;
    const response = await showNotice({
      type: 'info',
      message: `Exported ${what}: ${result.files.length} files.`,
      detail: `Into ${result.dir} (figures as SVG, PNG and PDF, metrics as CSV, weights as safetensors; one folder per run).${result.skipped.length ? `\n\nNot exported:\n${result.skipped.slice(0, 8).join('\n')}` : ''}`,
      buttons: ['Show folder', 'OK'],
    });
    if (response === 0) void shell.openPath(result.dir);
    return result;
  };

  const openRunFolderMenu = async () => {
    const runsDir = storeDir ? join(storeDir, 'runs') : undefined;
    const options = { title: 'Open a run folder', properties: ['openDirectory' as const], ...(runsDir ? { defaultPath: runsDir } : {}) };
    const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    const folder = choice.filePaths[0];
    if (choice.canceled || !folder) return;
    const id = basename(folder);
    if (!runsDir || resolve(dirname(folder)) !== resolve(runsDir) || !runId.safeParse(id).success) {
      await showNotice({ type: 'info', message: 'That folder is not a run of this store.', detail: `Runs are the folders in ${runsDir ?? 'the store'}; this one is ${folder}.`, buttons: ['OK'] });
      return;
    }
    const answer = await supervisor.call('desktop.runFolder', { id });
    if (!answer.ok) {
      await showNotice({ type: 'info', message: `${id} is not in the run store.`, detail: answer.error.message, buttons: ['OK'] });
      return;
    }
    sendShell({ type: 'menu', command: 'open-run', runId: answer.result.id });
  };

  const about = async () => {
    const answer = await supervisor.call<AppInfo>('app.info', {}, 5000);
    const text = aboutText({
      version: app.getVersion(),
      codeVersion: answer.ok ? answer.result.codeVersion : null,
      versions: process.versions,
      backend: answer.ok ? answer.result.backend : { unavailable: answer.error.message },
      store: answer.ok ? answer.result.store : storeDir,
      engine: mode === 'utility' ? 'Electron utility process' : `system Node child process (development; ${process.env.PURIFICATION_LAB_NODE || 'node'})`,
    });
    await showNotice({ type: 'info', message: text.message, detail: text.detail, buttons: ['OK'] });
  };

  const report = (what: string) => (error: unknown) => void showNotice({ type: 'error', message: `${what} failed.`, detail: error instanceof Error ? error.message : String(error), buttons: ['OK'] });

  // --- IPC: the sender check first, then the arguments ---

  const trusted = (event: IpcMainEvent | IpcMainInvokeEvent) => window !== null && !window.isDestroyed() && event.sender === window.webContents && isAllowedSender(event.senderFrame);
  registerIpc(
    ipcMain,
    trusted,
    {
      on: {
        [ipcChannels.connect]: ipcHandler(z.tuple([]), (_args, event) => {
          rendererConnected = true;
          connectRenderer(event.sender);
        }),
      },
      handle: {
        [ipcChannels.openRunFolder]: ipcHandler(z.tuple([runId]), ([id]) => openRunFolder(id)),
        [ipcChannels.importFile]: ipcHandler(z.tuple([]), () => importFlow()),
        [ipcChannels.exportRuns]: ipcHandler(z.tuple([z.array(runId).max(1000)]), ([ids]) => exportFlow(ids)),
      },
    },
    log,
  );

  // --- the window ---

  const createWindow = () => {
    const stateStore = windowStateStore(join(app.getPath('userData'), 'window-state.json'));
    const placement = placeWindow(
      stateStore.load(),
      screen.getAllDisplays().map((display) => display.workArea),
      screen.getPrimaryDisplay().workArea,
    );
    const win = new BrowserWindow(windowOptions({ preload: paths.preload, placement }));
    window = win;
    if (placement.maximized) win.maximize();
    trackWindowState(win, (state) => stateStore.save(state));
    win.once('ready-to-show', () => win.show());
    // A page that never paints (a load error) must not leave an invisible window behind.
    setTimeout(() => {
      if (!win.isDestroyed() && !win.isVisible()) win.show();
    }, 8000);
    win.webContents.on('did-fail-load', (_event, code, description, url) => log(`could not load ${url}: ${description} (${code})`));
    win.webContents.on('render-process-gone', (_event, details) => {
      if (details.reason === 'clean-exit' || quitting) return;
      log(`the window's renderer stopped (${details.reason}); reloading`);
      rendererConnected = false;
      win.reload();
    });
    win.on('closed', () => {
      if (window === win) window = null;
      rendererConnected = false;
    });
    void win.loadURL(startUrl);
  };

  // --- lifecycle ---

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, log));
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!window && app.isReady()) createWindow();
  });
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    void (async () => {
      const running = supervisor.activeRuns;
      if (running.length > 0) {
        const choice = await showNotice({
          type: 'question',
          message: `${running.length === 1 ? `Run ${running[0]} is` : `${running.length} runs are`} training.`,
          detail: 'Quitting checkpoints the training at the end of the current epoch and marks it interrupted; resume it later from the runs list.',
          buttons: ['Quit', 'Cancel'],
        });
        if (choice !== 0) return;
      }
      quitting = true;
      await supervisor.stop();
      app.quit();
    })();
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession, log);
    protocol.handle(
      appScheme,
      createProtocolHandler({
        root: paths.renderer,
        exportFile: async (id, target, format) => {
          const answer = await supervisor.call('desktop.exportFile', { runId: id, target, format });
          return answer.ok ? answer.result : { kind: 'unavailable', message: answer.error.message };
        },
      }),
    );
    const command = (name: 'new-experiment' | 'compare' | 'export' | 'paper') => () => sendShell({ type: 'menu', command: name });
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(
          {
            newExperiment: command('new-experiment'),
            compare: command('compare'),
            paper: command('paper'),
            exportRuns: () => (rendererConnected ? command('export')() : void exportFlow([]).catch(report('The export'))),
            openRunFolder: () => void openRunFolderMenu().catch(report('Opening the run folder')),
            importFile: () => void importFlow().catch(() => {}),
            about: () => void about().catch(report('About')),
          },
          { platform: process.platform, development },
        ),
      ),
    );
    log(`engine: ${mode === 'utility' ? 'utility process' : 'system Node child process'} running ${paths.engineEntry}`);
    supervisor.start();
    createWindow();
  });
}

if (app.requestSingleInstanceLock()) run();
else app.exit(0);
