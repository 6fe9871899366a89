/**
 * The main window's size and position, remembered between sessions (in the app's user data
 * folder, window-state.json), and placed back where it can be seen: a window saved on a monitor
 * that is gone comes back on the primary display, and one larger than the screen shrinks to fit.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface WindowState {
  /** The normal (not maximized, not full-screen) bounds. */
  readonly bounds: Rect;
  readonly maximized: boolean;
}

export const defaultWindowSize = { width: 1400, height: 900 } as const;
export const minimumWindowSize = { width: 760, height: 520 } as const;
/** At least this much of the title bar must be on a screen for a position to be kept. */
const minimumVisible = { width: 120, height: 40 };

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A stored state, or null when the file is missing or not one (never throws). */
export function parseWindowState(value: unknown): WindowState | null {
  if (typeof value !== 'object' || value === null) return null;
  const { bounds, maximized } = value as { bounds?: Partial<Rect>; maximized?: unknown };
  if (!bounds || !finite(bounds.x) || !finite(bounds.y) || !finite(bounds.width) || !finite(bounds.height)) return null;
  if (bounds.width <= 0 || bounds.height <= 0) return null;
  return { bounds: { x: Math.round(bounds.x), y: Math.round(bounds.y), width: Math.round(bounds.width), height: Math.round(bounds.height) }, maximized: maximized === true };
}

export interface WindowStateStore {
  load(): WindowState | null;
  save(state: WindowState): void;
}

/** Read and write the state file (written whole through a rename, so a crash never leaves half a file). */
export function windowStateStore(file: string): WindowStateStore {
  return {
    load() {
      try {
        return parseWindowState(JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        return null;
      }
    },
    save(state) {
      mkdirSync(dirname(file), { recursive: true });
      const temporary = `${file}.tmp-${process.pid}`;
      writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n');
      renameSync(temporary, file);
    },
  };
}

const overlap = (a: Rect, b: Rect) => ({
  width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
  height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
});

const clamp = (value: number, low: number, high: number) => Math.min(Math.max(value, low), Math.max(low, high));

/**
 * Where to open the window: the saved bounds if enough of the window would be visible on one of
 * the displays' work areas (kept whole on that display, shrunk to fit it), else the default
 * size centred on the primary display. `x`/`y` undefined means "let the window centre itself".
 */
export function placeWindow(saved: WindowState | null, workAreas: readonly Rect[], primary: Rect): { x?: number; y?: number; width: number; height: number; maximized: boolean } {
  const fit = (size: { width: number; height: number }, area: Rect) => ({
    width: clamp(size.width, Math.min(minimumWindowSize.width, area.width), area.width),
    height: clamp(size.height, Math.min(minimumWindowSize.height, area.height), area.height),
  });
  if (!saved) return { ...fit(defaultWindowSize, primary), maximized: false };
  // The display showing most of the window's top strip (its title bar) is where it belongs.
  const titleBar: Rect = { ...saved.bounds, height: Math.min(saved.bounds.height, minimumVisible.height) };
  let best: Rect | null = null;
  let bestArea = 0;
  for (const area of workAreas) {
    const o = overlap(titleBar, area);
    if (o.width >= Math.min(minimumVisible.width, saved.bounds.width) && o.height > 0 && o.width * o.height > bestArea) {
      best = area;
      bestArea = o.width * o.height;
    }
  }
  if (!best) return { ...fit(saved.bounds, primary), maximized: saved.maximized };
  const size = fit(saved.bounds, best);
  return {
    x: clamp(saved.bounds.x, best.x, best.x + best.width - size.width),
    y: clamp(saved.bounds.y, best.y, best.y + best.height - size.height),
    ...size,
    maximized: saved.maximized,
  };
}

/** What of a BrowserWindow the tracker uses. */
export interface TrackedWindow {
  getNormalBounds(): Rect;
  isMaximized(): boolean;
  isFullScreen(): boolean;
  on(event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'close', listener: () => void): unknown;
}

/** Save the window's state a moment after it stops moving or resizing, and when it closes. */
export function trackWindowState(window: TrackedWindow, save: (state: WindowState) => void, debounceMs = 400): { flush(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (window.isFullScreen()) return; // full screen is a mode, not a place
    try {
      save({ bounds: window.getNormalBounds(), maximized: window.isMaximized() });
    } catch {
      // the user data folder is not writable: the window still works, it just forgets
    }
  };
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };
  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) window.on(event, later);
  window.on('close', flush);
  return { flush };
}
