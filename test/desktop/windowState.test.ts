/**
 * The window remembers its size and position, and comes back where it can be seen: on a
 * display that still exists, no larger than it, and at a sensible default the first time.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWindowSize, parseWindowState, placeWindow, trackWindowState, windowStateStore, type Rect } from '../../main/desktop/windowState.ts';

const dir = mkdtempSync(join(tmpdir(), 'pl-window-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const primary: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
const right: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('the window-state store', () => {
  it('remembers what it saved', () => {
    const store = windowStateStore(join(dir, 'nested', 'window-state.json'));
    expect(store.load()).toBeNull();
    store.save({ bounds: { x: 100, y: 80, width: 1300, height: 850 }, maximized: true });
    expect(store.load()).toEqual({ bounds: { x: 100, y: 80, width: 1300, height: 850 }, maximized: true });
    expect(windowStateStore(join(dir, 'nested', 'window-state.json')).load()).toEqual({ bounds: { x: 100, y: 80, width: 1300, height: 850 }, maximized: true });
  });

  it('ignores a file that is not a state', () => {
    const file = join(dir, 'broken.json');
    for (const text of ['{not json', 'null', '{"bounds":{"x":1,"y":2,"width":-5,"height":10}}', '{"bounds":{"x":"1","y":2,"width":5,"height":10}}', '{"bounds":{"x":1e400,"y":2,"width":5,"height":10}}']) {
      writeFileSync(file, text);
      expect(windowStateStore(file).load(), text).toBeNull();
    }
    expect(parseWindowState({ bounds: { x: 1.4, y: 2.6, width: 800.2, height: 600 }, maximized: 'yes' })).toEqual({ bounds: { x: 1, y: 3, width: 800, height: 600 }, maximized: false });
  });
});

describe('placing the window', () => {
  it('opens at the default size, centred, the first time', () => {
    expect(placeWindow(null, [primary], primary)).toEqual({ width: defaultWindowSize.width, height: defaultWindowSize.height, maximized: false });
    // A small screen: the default shrinks to fit.
    const small: Rect = { x: 0, y: 0, width: 1280, height: 720 };
    expect(placeWindow(null, [small], small)).toEqual({ width: 1280, height: 720, maximized: false });
  });

  it('keeps a saved place that is on a display', () => {
    expect(placeWindow({ bounds: { x: 2000, y: 100, width: 1200, height: 800 }, maximized: false }, [primary, right], primary)).toEqual({ x: 2000, y: 100, width: 1200, height: 800, maximized: false });
    expect(placeWindow({ bounds: { x: 10, y: 10, width: 900, height: 700 }, maximized: true }, [primary, right], primary)).toMatchObject({ x: 10, y: 10, maximized: true });
  });

  it('brings back a window whose display is gone', () => {
    const placed = placeWindow({ bounds: { x: 2000, y: 100, width: 1200, height: 800 }, maximized: false }, [primary], primary);
    expect(placed).toEqual({ width: 1200, height: 800, maximized: false }); // centred on the primary display
  });

  it('clamps a window that hangs off its display, and shrinks one larger than it', () => {
    expect(placeWindow({ bounds: { x: 1500, y: -30, width: 1000, height: 700 }, maximized: false }, [primary], primary)).toEqual({ x: 920, y: 0, width: 1000, height: 700, maximized: false });
    expect(placeWindow({ bounds: { x: 0, y: 0, width: 5000, height: 3000 }, maximized: false }, [primary], primary)).toEqual({ x: 0, y: 0, width: 1920, height: 1040, maximized: false });
  });

  it('moves a window whose title bar is off screen, even if its body shows', () => {
    const placed = placeWindow({ bounds: { x: 100, y: -600, width: 1000, height: 800 }, maximized: false }, [primary], primary);
    expect(placed).toEqual({ width: 1000, height: 800, maximized: false });
  });
});

describe('tracking the window', () => {
  it('saves the normal bounds after moves settle, and on close; not in full screen', async () => {
    const window = Object.assign(new EventEmitter(), {
      bounds: { x: 5, y: 6, width: 1000, height: 700 } as Rect,
      maximized: false,
      fullScreen: false,
      getNormalBounds() {
        return this.bounds;
      },
      isMaximized() {
        return this.maximized;
      },
      isFullScreen() {
        return this.fullScreen;
      },
    });
    const file = join(dir, 'tracked.json');
    const store = windowStateStore(file);
    trackWindowState(window, (s) => store.save(s), 20);
    window.bounds = { x: 50, y: 60, width: 1100, height: 720 };
    window.emit('move');
    window.emit('resize');
    await new Promise((r) => setTimeout(r, 60));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ bounds: { x: 50, y: 60, width: 1100, height: 720 }, maximized: false });
    window.maximized = true;
    window.emit('close');
    expect(store.load()).toEqual({ bounds: { x: 50, y: 60, width: 1100, height: 720 }, maximized: true });
    window.fullScreen = true;
    window.bounds = { x: 0, y: 0, width: 1920, height: 1080 };
    window.emit('close');
    expect(store.load()?.bounds.width).toBe(1100);
  });
});
