/**
 * How big and how deep one API request may be, checked before anything parses or walks it
 * recursively. An experiment config is a few kB and five levels deep; a request far past that is
 * a client's mistake (or an attack), and must get a 4xx naming where it went wrong, not a stack
 * overflow in a recursive merge or serialiser (a 20,000-deep object overflows V8's stack in
 * JSON.stringify, structured clone and any recursive walk).
 *
 * Both checks are themselves iterative, with an explicit stack, so that no input can overflow
 * them: `jsonTextProblem` scans the raw JSON text of an HTTP body before JSON.parse, and
 * `jsonValueProblem` walks an already-built value (the desktop transport's structured clones,
 * and any in-process caller) before the contract's schemas see it.
 *
 * Depth counts containers: `{}` and `[]` are one level, `{"a":{}}` two, a scalar none. A
 * request's envelope (`{ method, params }` over HTTP, the port's call message on the desktop)
 * is the first level, so `params` may nest `maxRequestNesting - 1` levels itself.
 */

/** The most bytes one request may carry (a config is a few kB). */
export const maxRequestBytes = 1024 * 1024;
/** The most levels of objects and arrays one request may nest, its envelope included. */
export const maxRequestNesting = 32;

export interface RequestProblem {
  /** Where the limit was crossed: a dotted path (`params.input.task`), or `(body)`. */
  readonly path: string;
  readonly message: string;
}

/** A path segment as a reader sees it: keys cut short, so a megabyte-long key cannot flood the answer. */
function segment(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}

const joinPath = (segments: readonly string[]): string => segments.join('.') || '(body)';

const tooDeep = (segments: readonly string[], limit: number): RequestProblem => ({
  path: joinPath(segments),
  message: `nested deeper than ${limit} levels of objects and arrays (the limit of one request)`,
});

/**
 * The first place where the JSON `text` nests deeper than `limit` containers, or null. One pass
 * over the characters, tracking strings (and their escapes, so a quoted `{` does not count) and
 * the key or index being read at each open level, for the path. It does not validate the JSON:
 * JSON.parse does that afterwards, on text known to be shallow enough.
 */
export function jsonTextProblem(text: string, limit = maxRequestNesting): RequestProblem | null {
  // Per open container: the key (objects) or index (arrays) of the member being read.
  const keys: string[] = [];
  const isArray: boolean[] = [];
  let expectingKey = false;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped, whatever it is
      else if (c === 0x22) {
        inString = false;
        const top = keys.length - 1;
        if (expectingKey && top >= 0 && !isArray[top]) {
          keys[top] = segment(text.slice(stringStart, i));
          expectingKey = false;
        }
      }
      continue;
    }
    switch (c) {
      case 0x22: // "
        inString = true;
        stringStart = i + 1;
        break;
      case 0x7b: // {
      case 0x5b: // [
        if (keys.length >= limit) return tooDeep(keys, limit);
        keys.push(c === 0x5b ? '0' : '');
        isArray.push(c === 0x5b);
        expectingKey = c === 0x7b;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        keys.pop();
        isArray.pop();
        expectingKey = false;
        break;
      case 0x2c: {
        // , : the next member of the innermost container
        const top = keys.length - 1;
        if (top < 0) break;
        if (isArray[top]) keys[top] = String(Number(keys[top]) + 1);
        else expectingKey = true;
        break;
      }
    }
  }
  return null;
}

/** What JSON can carry: plain objects and arrays, strings, numbers, booleans and null. */
function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ? `a ${value.constructor.name}` : 'an object';
  return `a ${typeof value}`;
}

/** One value still to visit: where it sits, for the path (built only when something is wrong). */
interface Visit {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Visit | null;
  readonly key: string;
}

function pathOf(visit: Visit, root: string): string {
  const segments: string[] = [];
  for (let at: Visit | null = visit; at; at = at.parent) if (at.parent) segments.push(segment(at.key));
  segments.reverse();
  return [root, ...segments].filter((s) => s !== '').join('.') || '(params)';
}

/**
 * The first problem of `value` as a request part, or null: nesting deeper than `limit` levels
 * (counting `startDepth` levels already around it: 1 for params inside their envelope), more
 * than `maxBytes` of JSON, or something JSON cannot carry (a Map, a Date, a function, a symbol,
 * a bigint, a non-finite number). Paths start at `root` (`params`). The walk stops at the first
 * problem, so its work is bounded by `maxBytes` whatever the value.
 */
export function jsonValueProblem(
  value: unknown,
  options: { readonly limit?: number; readonly startDepth?: number; readonly maxBytes?: number; readonly root?: string } = {},
): RequestProblem | null {
  const limit = options.limit ?? maxRequestNesting;
  const maxBytes = options.maxBytes ?? maxRequestBytes;
  const root = options.root ?? '';
  // An estimate of the JSON size from below: each string counts its characters and quotes,
  // each number its digits, each key its characters, quotes and colon.
  let bytes = 0;
  const stack: Visit[] = [{ value, depth: options.startDepth ?? 0, parent: null, key: '' }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const v = visit.value;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path: pathOf(visit, root), message: `${String(v)} is not a number JSON can carry (expected a finite number)` };
      bytes += String(v).length;
    } else if (typeof v === 'boolean' || v === null || v === undefined) bytes += 4;
    else if (typeof v === 'object') {
      if (!Array.isArray(v) && !isPlainObject(v)) return { path: pathOf(visit, root), message: `expected JSON data (an object, array, string, number, boolean or null), got ${kindOf(v)}` };
      const depth = visit.depth + 1;
      if (depth > limit) return { path: pathOf(visit, root), message: tooDeep([], limit).message };
      // The separators and brackets count before the members are queued, so a huge array is
      // refused without queueing its members.
      const keys = Array.isArray(v) ? null : Object.keys(v);
      bytes += 2 + (keys ? keys.reduce((sum, key) => sum + key.length + 4, 0) : (v as unknown[]).length);
      if (bytes > maxBytes) break;
      if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: visit, key: String(i) });
      else for (const key of keys!.reverse()) stack.push({ value: (v as Record<string, unknown>)[key], depth, parent: visit, key });
    } else return { path: pathOf(visit, root), message: `expected JSON data (an object, array, string, number, boolean or null), got ${kindOf(v)}` };
    if (bytes > maxBytes) break;
  }
  return bytes > maxBytes ? { path: root || '(params)', message: `over the limit of ${maxBytes} bytes of one request` } : null;
}
