/**
 * The renderer's entry: one LabApi for the whole app (browser mode: HTTP + WebSocket to the
 * server that served this page), Pinia for state, and the app.
 */
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { createBrowserClient } from './api/browserClient.ts';
import { createDesktopClient, desktopBridge } from './api/desktopClient.ts';
import { labApiKey, type LabConnection } from './api/labApi.ts';
import type { LabApi } from '../shared/api.ts';
import App from './App.vue';
import './styles/fonts.css';
import './styles/theme.css';
import './styles/base.css';
import './styles/exportMenu.css';

// One contract, two transports: the desktop shell's preload exposes `window.lab` (named
// functions over a MessagePort to the engine); browser mode has none and uses HTTP + WebSocket.
const bridge = desktopBridge();
const api: LabApi & Partial<LabConnection> = bridge ? createDesktopClient(bridge) : createBrowserClient();

const app = createApp(App);
app.provide(labApiKey, api);
app.use(createPinia());
app.mount('#app');
