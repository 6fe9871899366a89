/**
 * What the contract says each fuzzed message must get, independent of the server's code paths:
 * the project's own zod schemas (shared/api.ts's params, shared/config.ts's experiment over a
 * preset, as runs.start lays it) decide what is valid, plus the two rules the issue adds beyond
 * the schema: no `__proto__` key anywhere in an experiment (item 8), and runs.delete takes whole
 * ids only (item 10). The transport rules (Host and Origin, token, verb, content type, 1 MB,
 * 32 levels) come from the server's documented contract (main/web/server.ts, apiCall.ts,
 * eventSocket.ts).
 */
import { apiParams, apiRequestSchema, figureNames, type ApiMethod } from '../../../shared/api.ts';
import { resolveExperiment } from '../../../shared/config.ts';
import { mergeConfig } from '../../../shared/configPath.ts';
import { presets } from '../../../shared/presets.ts';

/** How a message presents itself to the gate: its token, its Host header, its Origin header. */
export interface Gate {
  readonly auth: 'bearer' | 'cookie' | 'none' | 'wrong-token' | 'query-token' | 'lowercase-bearer';
  readonly host: 'own' | 'localhost' | 'foreign' | 'other-port';
  readonly origin: 'none' | 'own' | 'foreign' | 'null';
}

/** The limits the contract states (checked here with their own arithmetic, not the server's functions). */
export const bodyLimitBytes = 1024 * 1024;
export const nestingLimit = 32;

/** Whether `params` pass the method's params schema (as the service applies it: missing params are `{}`). */
export function paramsAccepted(method: ApiMethod, params: unknown): boolean {
  return apiParams[method].safeParse(params ?? {}).success;
}

/** An own `__proto__` key anywhere in `value` (JSON.parse makes them; a merge drops them silently). */
function hasProtoKey(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Object.hasOwn(v, '__proto__')) return true;
    stack.push(...Object.values(v));
  }
  return false;
}

/** Whether the experiment schema accepts `input` laid over `preset` (over nothing without one), as runs.start assembles it. */
export function experimentAccepted(input: unknown, preset: unknown): boolean {
  if (hasProtoKey(input)) return false;
  let assembled = input;
  if (preset !== undefined) {
    const base = presets.find((p) => p.name === preset);
    if (!base || input === null || typeof input !== 'object') return false;
    assembled = mergeConfig(base.config, input);
  }
  try {
    resolveExperiment(assembled);
    return true;
  } catch {
    return false;
  }
}

/** Levels of objects and arrays in a parsed value (iterative: values may be deep). */
export function nestingOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The status the gate answers before anything else, or null when it lets the request through. */
export function gateStatus(gate: Gate, tokenWhere: 'header' | 'header-or-query'): 403 | 401 | null {
  if (gate.host === 'foreign' || gate.host === 'other-port' || gate.origin === 'foreign' || gate.origin === 'null') return 403;
  const tokened = gate.auth === 'bearer' || gate.auth === 'cookie' || (gate.auth === 'query-token' && tokenWhere === 'header-or-query');
  return tokened ? null : 401;
}

/** What a body must get at the transport, before the service: a status, or 'service' when it reaches the service. */
export type CallExpectation =
  | { readonly kind: 'refused'; readonly status: number; readonly why: string }
  | { readonly kind: 'service'; readonly method: ApiMethod; readonly params: unknown };

export function callExpectation(contentType: string | null, bodyText: string): CallExpectation {
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) return { kind: 'refused', status: 415, why: 'not JSON by its Content-Type' };
  if (Buffer.byteLength(bodyText) > bodyLimitBytes) return { kind: 'refused', status: 413, why: 'over 1 MB' };
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { kind: 'refused', status: 400, why: 'not JSON' };
  }
  if (nestingOf(body) > nestingLimit) return { kind: 'refused', status: 400, why: `nested ${nestingOf(body)} levels` };
  const envelope = apiRequestSchema.safeParse(body);
  if (!envelope.success) return { kind: 'refused', status: 400, why: 'not an envelope { method, params }' };
  return { kind: 'service', method: envelope.data.method, params: envelope.data.params };
}

/** Whether an export path names what exists in the contract (a run id, a figure or metrics, a format it exports as). */
export function exportNamesValid(runId: string, target: string, format: string): boolean {
  if (!apiParams['runs.get'].shape.id.safeParse(runId).success) return false;
  if (target === 'metrics') return format === 'csv';
  return (figureNames as readonly string[]).includes(target) && ['svg', 'png', 'pdf'].includes(format);
}
