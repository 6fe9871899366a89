/**
 * The native menus (File: New experiment, Open run folder…, Import weights / data…, Export…;
 * View: Compare; Help: About) call their actions, on every platform; the About box names the
 * versions and the backend in use.
 */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { aboutText, backendLine, menuTemplate, type MenuActions } from '../../main/desktop/menu.ts';

function actions() {
  const called: string[] = [];
  const a: MenuActions = {
    newExperiment: () => called.push('newExperiment'),
    openRunFolder: () => called.push('openRunFolder'),
    importFile: () => called.push('importFile'),
    exportRuns: () => called.push('exportRuns'),
    compare: () => called.push('compare'),
    paper: () => called.push('paper'),
    about: () => called.push('about'),
  };
  return { a, called };
}

const submenu = (menu: MenuItemConstructorOptions[], label: string) => (menu.find((m) => m.label?.replace('&', '') === label)?.submenu ?? []) as MenuItemConstructorOptions[];
const click = (item: MenuItemConstructorOptions | undefined) => (item?.click as (() => void) | undefined)?.();

describe('the native menus', () => {
  for (const platform of ['linux', 'win32', 'darwin'] as const) {
    it(`has File, View and Help with their items (${platform})`, () => {
      const { a, called } = actions();
      const menu = menuTemplate(a, { platform, development: false });
      const file = submenu(menu, 'File');
      expect(file.filter((i) => i.label).map((i) => i.label)).toEqual(['New experiment', 'Open run folder…', 'Import weights / data…', 'Export…']);
      for (const item of file) click(item);
      expect(called).toEqual(['newExperiment', 'openRunFolder', 'importFile', 'exportRuns']);
      const view = submenu(menu, 'View');
      click(view.find((i) => i.label === 'Compare'));
      click(view.find((i) => i.label === 'Paper'));
      const help = submenu(menu, 'Help');
      expect(help.map((i) => i.label)).toEqual(['About Purification Lab']);
      click(help[0]);
      expect(called.slice(-3)).toEqual(['compare', 'paper', 'about']);
      expect(view.some((i) => i.role === 'toggleDevTools')).toBe(false);
      if (platform === 'darwin') expect(menu[0]!.label).toBe('Purification Lab');
      else expect(file.some((i) => i.role === 'quit')).toBe(true);
    });
  }

  it('offers reload and developer tools only in development', () => {
    const view = submenu(menuTemplate(actions().a, { platform: 'linux', development: true }), 'View');
    expect(view.map((i) => i.role).filter(Boolean)).toContain('toggleDevTools');
  });

  it('gives each item its own accelerator', () => {
    const menu = menuTemplate(actions().a, { platform: 'linux', development: false });
    const accelerators = menu.flatMap((m) => (m.submenu as MenuItemConstructorOptions[]).map((i) => i.accelerator).filter(Boolean));
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });
});

describe('the About box', () => {
  it('names the versions and the backend in use', () => {
    const text = aboutText({
      version: '0.1.0',
      codeVersion: '0.1.0+abc123',
      versions: { electron: '45.5.0', chrome: '142.0.0.0', node: '22.20.0', v8: '14.2' },
      backend: { name: 'wasm', device: 'cpu', label: 'wasm (SIMD)', skipped: [], forced: false, details: {}, fusedKernels: true },
      store: '/home/u/.local/share/purification-lab',
      engine: 'Electron utility process',
    });
    expect(text.message).toBe('Purification Lab 0.1.0');
    expect(text.detail).toContain('Compute backend in use: wasm (SIMD); fused SIMD kernels on');
    expect(text.detail).toContain('Electron 45.5.0 · Chromium 142.0.0.0 · Node 22.20.0 · V8 14.2');
    expect(text.detail).toContain('Run store: /home/u/.local/share/purification-lab');
    expect(text.detail).toContain('Code version: 0.1.0+abc123');
  });

  it('names the fused WGSL kernels on webgpu, and the adapter through the label', () => {
    const label = 'webgpu on NVIDIA H200 (nvidia hopper)';
    expect(backendLine({ name: 'webgpu', device: 'gpu', label, skipped: [], forced: false, details: {}, fusedKernels: true })).toBe(`${label}; fused WGSL kernels on`);
    expect(backendLine({ name: 'webgpu', device: 'gpu', label, skipped: [], forced: false, details: {}, fusedKernels: false })).toBe(`${label}; fused WGSL kernels off`);
  });

  it('says why the backend is not known when the engine is down', () => {
    expect(backendLine({ unavailable: 'The compute engine is not running' })).toBe('not known (The compute engine is not running)');
    expect(backendLine({ name: 'tensorflow', device: 'gpu', label: 'tensorflow (GPU)', skipped: [], forced: true, details: {}, fusedKernels: false })).toBe('tensorflow (GPU) (forced)');
  });
});
