/**
 * Dotted paths into the experiment tree, for `--set train.attack.eps=0.2` and sweeps.
 * A path is checked against the schema itself, and a wrong one names the closest valid path.
 */
import type { z } from 'zod';
import { ConfigError, experimentSchema, prototypeKeyError, prototypeKeyPaths } from './config.ts';

type AnySchema = z.core.$ZodType;

/** Strip defaults, prefaults, nullables and optionals down to the schema that holds the shape. */
function unwrap(schema: AnySchema): AnySchema {
  let node = schema;
  for (;;) {
    const def = node._zod.def as { innerType?: AnySchema };
    if (def.innerType) node = def.innerType;
    else return node;
  }
}

/** The child schemas reachable by `key` (several when a discriminated union has several options). */
function children(schema: AnySchema, key: string): AnySchema[] {
  const node = unwrap(schema);
  const def = node._zod.def as { type: string; shape?: Record<string, AnySchema>; options?: AnySchema[]; element?: AnySchema };
  if (def.type === 'object' && def.shape) return def.shape[key] ? [def.shape[key]] : [];
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => children(o, key));
  if (def.type === 'array' && def.element && /^\d+$/.test(key)) return [def.element];
  return [];
}

/** Every dotted path of the tree (array elements as `name.0.field`). */
export function allConfigPaths(schema: AnySchema = experimentSchema, prefix = ''): string[] {
  const node = unwrap(schema);
  const def = node._zod.def as { type: string; shape?: Record<string, AnySchema>; options?: AnySchema[]; element?: AnySchema };
  const out = new Set<string>();
  if (def.type === 'object' && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      for (const p of allConfigPaths(child, path)) out.add(p);
    }
  } else if (def.type === 'union' && def.options) {
    for (const option of def.options) for (const p of allConfigPaths(option, prefix)) out.add(p);
  } else if (def.type === 'array' && def.element) {
    for (const p of allConfigPaths(def.element, `${prefix}.0`)) out.add(p);
  }
  return [...out];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The valid path closest to `path` by edit distance (ties: the shorter). */
export function closestConfigPath(path: string): string {
  const candidates = allConfigPaths().map((p) => p.replace(/\.0(?=\.|$)/g, '.0'));
  const last = path.split('.').pop() ?? path;
  let best = candidates[0]!;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    // A path whose last segment matches exactly is almost always what was meant.
    const tail = candidate.split('.').pop() ?? candidate;
    const score = editDistance(path, candidate) - (tail === last ? 0.5 : 0);
    if (score < bestScore || (score === bestScore && candidate.length < best.length)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** True when `path` names a field of the schema. */
export function isConfigPath(path: string): boolean {
  let frontier: AnySchema[] = [experimentSchema];
  for (const key of path.split('.')) {
    frontier = frontier.flatMap((s) => children(s, key));
    if (frontier.length === 0) return false;
  }
  return true;
}

/** Parse the text after `=`: JSON when it is JSON (numbers, booleans, null, arrays), else a string. */
export function parseConfigValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Set `path` to `value` in a (partial) user config, creating objects on the way; returns a new
 * object. Throws an error naming the closest valid path when `path` is not in the schema.
 */
export function setConfigPath<T extends object>(config: T, path: string, value: unknown): T {
  if (!isConfigPath(path)) {
    const message = `Unknown config path "${path}": did you mean "${closestConfigPath(path)}"?`;
    throw new ConfigError(message, [{ path, message: `unknown path; did you mean "${closestConfigPath(path)}"?` }]);
  }
  const root: Record<string, unknown> = structuredClone(config) as Record<string, unknown>;
  const keys = path.split('.');
  let node: Record<string, unknown> = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  // A new kind of a discriminated part (task, model, an attack) starts that part afresh: the
  // old kind's fields mean nothing to the new one.
  if (last === 'kind' && 'kind' in node && node.kind !== value) for (const key of Object.keys(node)) delete node[key];
  node[last] = value;
  return root as T;
}

/**
 * Deep-merge `over` onto `base` (objects merge, everything else, arrays included, replaces). An
 * object of another `kind` (a task, a model of a different kind) replaces, never merges: the
 * base kind's fields would be unknown to it.
 */
export function mergeConfig<T extends object>(base: T, over: object): T {
  // Assigning a "__proto__" key below would set the prototype and lose the key: refuse it by name.
  const prototypeKeys = prototypeKeyPaths(over);
  if (prototypeKeys.length > 0) throw prototypeKeyError(prototypeKeys, 'config');
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const otherKind = (a: object, b: object) => 'kind' in a && 'kind' in b && (a as { kind: unknown }).kind !== (b as { kind: unknown }).kind;
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current) && !otherKind(current, value)) {
      out[key] = mergeConfig(current as object, value as object);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out as T;
}

/** The value at a dotted path (undefined when absent). */
export function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
