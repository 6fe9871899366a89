/**
 * The experiment being edited: a plain JSON tree (what a config file holds), read and written by
 * dotted path. It may hold values the schema refuses (text typed into a number field, a negative
 * epoch count): those are exactly what the inline validation names, so the draft never hides them.
 */

export type Draft = Record<string, unknown>;

/** The value at a dotted path (undefined when absent). */
export function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A copy of the tree with `path` set to `value` (objects and arrays on the way are created or copied). */
export function withValue(root: Draft, path: string, value: unknown): Draft {
  const keys = path.split('.');
  const copy = (node: unknown, i: number): unknown => {
    const key = keys[i] as string;
    const isIndex = /^\d+$/.test(key);
    const base: Record<string, unknown> | unknown[] =
      Array.isArray(node) ? [...node] : node && typeof node === 'object' ? { ...(node as object) } : isIndex ? [] : {};
    const current = (base as Record<string, unknown>)[key];
    (base as Record<string, unknown>)[key] = i === keys.length - 1 ? value : copy(current, i + 1);
    return base;
  };
  return copy(root, 0) as Draft;
}

/**
 * What a number field's text means: a number when it reads as one; null when empty and the field
 * allows null; otherwise the text itself, so the schema names it ("expected number, received string").
 */
export function numberFromText(text: string, nullable: boolean): unknown {
  const t = text.trim();
  if (t === '') return nullable ? null : t;
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? n : t;
}

/** The text a number field shows for a draft value. */
export function textFromValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/** "0, 0.1, 0.2" → [0, 0.1, 0.2]; a token that is no number stays text, so its index is named. */
export function listFromText(text: string): unknown[] {
  return text
    .split(/[\s,;]+/)
    .filter((t) => t !== '')
    .map((t) => numberFromText(t, false));
}

export function textFromList(value: unknown): string {
  return Array.isArray(value) ? value.map((v) => String(v)).join(', ') : textFromValue(value);
}

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Problems by the path they name. An `unknown fields` problem lists several paths in one
 * ("train.foo, train.bar"): each gets it. A problem about a whole array also shows on the array.
 */
export function problemsByPath(problems: readonly FieldProblem[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of problems) {
    for (const path of p.path.split(/,\s*/)) {
      const list = out.get(path) ?? [];
      list.push(p.message);
      out.set(path, list);
    }
  }
  return out;
}
