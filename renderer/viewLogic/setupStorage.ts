/**
 * The setup form as it was left: the preset, the draft and the run's name and notes, kept in the
 * window's storage on every change so a reload (or a crash of the window) loses nothing typed. A
 * stored value that is not what this version wrote (another shape, an unknown preset) is ignored,
 * never half-applied.
 */
import type { Draft } from './draft.ts';

/** What is used of the window's localStorage (a stand-in in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const setupStorageKey = 'purification-lab.setup.v1';

export interface SavedSetup {
  readonly preset: string;
  readonly draft: Draft;
  readonly runName: string;
  readonly notes: string;
}

export function saveSetup(storage: Pick<KeyValueStorage, 'setItem'>, setup: SavedSetup): void {
  try {
    storage.setItem(setupStorageKey, JSON.stringify(setup));
  } catch {
    // Storage full or refused (a private window): the form still works, it just is not kept.
  }
}

export function loadSetup(storage: Pick<KeyValueStorage, 'getItem'>, presetNames: readonly string[]): SavedSetup | null {
  let value: unknown;
  try {
    value = JSON.parse(storage.getItem(setupStorageKey) ?? 'null');
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const draft = v.draft;
  if (typeof v.preset !== 'string' || !presetNames.includes(v.preset)) return null;
  if (draft === null || typeof draft !== 'object' || Array.isArray(draft)) return null;
  return { preset: v.preset, draft: draft as Draft, runName: typeof v.runName === 'string' ? v.runName : '', notes: typeof v.notes === 'string' ? v.notes : '' };
}
