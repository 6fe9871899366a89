/**
 * The preload of the main window (bundled by build.ts into out/desktop/preload.cjs: a sandboxed
 * preload can require only electron and a few built-ins, not the project's files). It exposes
 * `window.lab`, the named functions of preloadApi.ts, and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeLab } from './preloadApi.ts';

exposeLab(contextBridge, ipcRenderer);
