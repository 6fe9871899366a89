// The renderer's build (browser mode and, later, the desktop window): Vue 3 single-file
// components bundled into renderer/dist. `base: './'` keeps every asset URL relative, so the same
// bundle loads from the web server's root and from a file:// or custom-protocol page. Vite emits
// only external module scripts (no inline script), which the server's `script-src 'self'` needs.
// The renderer reaches shared/ through relative imports; Node built-ins never enter the bundle
// (lint forbids them in renderer/ and shared/).
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The fonts are files, never data: URIs (a CSP without data: fonts would block them).
    assetsInlineLimit: 0,
    // One ECharts chunk is expected to be large; say so only if it grows well past it.
    chunkSizeWarningLimit: 1600,
    modulePreload: { polyfill: false },
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's sources carry comments Rollup cannot place as annotations; harmless, and not ours.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: { fs: { allow: ['..'] } },
});
