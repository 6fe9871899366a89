/**
 * The renderer's entry: one LabApi for the whole app (browser mode: HTTP + WebSocket to the
 * server that served this page), Pinia for state, and the app.
 */
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { createBrowserClient } from './api/browserClient.ts';
import { labApiKey, type LabConnection } from './api/labApi.ts';
import type { LabApi } from '../shared/api.ts';
import App from './App.vue';
import './styles/fonts.css';
import './styles/theme.css';
import './styles/base.css';

// The desktop shell will expose its own LabApi on window through its preload; browser mode has none.
const desktop = (window as unknown as { purificationLab?: LabApi & Partial<LabConnection> }).purificationLab;
const api = desktop ?? createBrowserClient();

const app = createApp(App);
app.provide(labApiKey, api);
app.use(createPinia());
app.mount('#app');
