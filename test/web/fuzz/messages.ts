/**
 * What the fuzzer sends: fast-check arbitraries of malformed and extreme messages for browser
 * mode's API (`POST /api/call`, the other /api routes, broken HTTP) and its event stream (the
 * WebSocket upgrade and frames). Each is plain data, so that a failure prints (and replays from
 * fast-check's seed and path) exactly; run ids are references (`RunIdRef`) resolved against the
 * store's runs when sent, so that real ids and their prefixes are sent too.
 *
 * The mix: wrong types, extreme numbers (1e308, -0, 2^53, NaN-ish strings), huge strings, deep
 * nesting, `__proto__`/`constructor` keys, unknown methods and fields, bad ids and prefixes of
 * real ones, oversize bodies, broken JSON, wrong content types, wrong verbs and routes, foreign
 * Host and Origin headers, missing and wrong tokens, and frames the stream does not take.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { apiParams, type ApiMethod } from '../../../shared/api.ts';
import { resolveExperiment, type ExperimentInput } from '../../../shared/config.ts';
import { mergeConfig } from '../../../shared/configPath.ts';
import { claimIds } from '../../../shared/paper.ts';
import { presetByName } from '../../../shared/presets.ts';
import { experimentAccepted, paramsAccepted, type Gate } from './oracle.ts';

/** The shrunk quick run (`--preset quick --set task.trainSize=600 --set train.cleanEpochs=3 --set train.adversarialEpochs=2 --set eval.testSize=200`). */
export const shrunkQuickInput: ExperimentInput = { task: { kind: 'sparse-coding', trainSize: 600 }, train: { cleanEpochs: 3, adversarialEpochs: 2 }, eval: { testSize: 200 } };

/** A run id to be filled in when sent: the store's `index`-th run (modulo), whole or cut to `length` characters. */
export class RunIdRef {
  constructor(
    readonly index: number,
    readonly length: number | null,
  ) {}
  toJSON(): string {
    return `<run ${this.index}${this.length === null ? '' : ` cut to ${this.length}`}>`;
  }
}

export type Body =
  /** A JSON envelope, as JSON.stringify writes it (run id references filled in when sent). */
  | { readonly kind: 'json'; readonly envelope: unknown }
  /** Text that is probably not JSON: broken, cut short, or anything. */
  | { readonly kind: 'text'; readonly text: string }
  /** `{"method":M,"params":{"input":` + `levels` containers + `}}`: deep nesting, built as text. */
  | { readonly kind: 'deep'; readonly method: string; readonly levels: number; readonly bracket: '{' | '[' }
  /** A runs.setNotes body padded to the limit plus `over` bytes (negative: under it). */
  | { readonly kind: 'sized'; readonly over: number; readonly chunked: boolean };

export type Message =
  | { readonly kind: 'call'; readonly gate: Gate; readonly contentType: string | null; readonly body: Body }
  | { readonly kind: 'route'; readonly gate: Gate; readonly verb: string; readonly path: RoutePath }
  | { readonly kind: 'raw'; readonly template: string }
  | { readonly kind: 'socket'; readonly gate: Gate; readonly path: string; readonly frame: Frame | null };

export type RoutePath =
  | { readonly kind: 'fixed'; readonly path: string }
  | { readonly kind: 'export'; readonly run: RunIdRef | string; readonly target: string; readonly format: string };

export type Frame = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'binary'; readonly bytes: number };

// --- values ----------------------------------------------------------------------------------

/** Numbers at the edges of what JSON and JavaScript can hold, and of int32. */
const extremeNumber = fc.constantFrom(1e308, -1e308, -0, 0, -1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 31, 2 ** 31 - 1, 2 ** 32, 5e-324, 1e-300, 0.5, 1e15, 1e20);
/** Strings a careless client sends where a number belongs. */
const numberishString = fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e308', '1e999', '-0', '0x1F', '', ' ', 'null', 'true', '١٢٣', '10', '0.3');
const specialKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'kind', 'valueOf');
const key = fc.oneof(specialKey, fc.string({ maxLength: 12 }));
/** Long strings (up to 200 kB), of one repeated random character or a few random ones. */
const hugeString = fc.tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.string({ minLength: 1, maxLength: 3 })).map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));
const leaf = fc.oneof(extremeNumber, numberishString, fc.boolean(), fc.constant(null), fc.integer(), fc.double(), fc.string({ maxLength: 20 }));
/** Any small JSON-ish value, a few levels at most, with odd keys. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(fc.tuple(key, leaf), { maxLength: 3 }).map((entries) => Object.fromEntries(entries)) },
  { weight: 1, arbitrary: fc.constantFrom({}, [], [[]], [{}]) },
);
/** An object whose own keys include a dangerous one (Object.fromEntries makes it an own key, as JSON.parse does). */
const withSpecialKey = (base: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(base, specialKey, anyValue).map(([object, k, v]) => Object.fromEntries([...Object.entries(object), [k, v]]));

// --- experiments -----------------------------------------------------------------------------

/** Every leaf of a resolved experiment: the fields a mutation may change. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}
const shrunkQuick = resolveExperiment(mergeConfig(presetByName('quick').config, shrunkQuickInput));
const fieldPaths = [...leafPaths(shrunkQuick), ['task', 'noize'], ['zzz'], ['eval', 'attacks', '0', 'eps'], ['train', '__proto__'], ['constructor']];

/** Values a field could plausibly take (so some mutations stay valid and their runs start). */
const plausible = fc.oneof(
  fc.integer({ min: 0, max: 12 }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.boolean(),
  fc.constantFrom('l2', 'linf', 'pgd', 'fgm', 'sgd', 'adam', 'relu', 'clean', 'adversarial', 'fine-tune', 'exact', 'bernoulli', 'two-layer', 'sparse-coding', 'mnist'),
  fc.constant(null),
);
const mutation = fc.record({ path: fc.constantFrom(...fieldPaths), value: fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: anyValue }) });

/** A value of the field's own type, often extreme: what passes a schema without bounds. */
function sameType(base: unknown): fc.Arbitrary<unknown> {
  if (typeof base === 'number') return fc.oneof(extremeNumber, fc.integer({ min: 0, max: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  if (typeof base === 'boolean') return fc.boolean();
  if (typeof base === 'string') return fc.oneof(fc.constant(base), fc.string({ maxLength: 12 }));
  return anyValue;
}
function valueAtPath(root: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, k) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined), root);
}
const typedMutation = fc.constantFrom(...leafPaths(shrunkQuick)).chain((path) => sameType(valueAtPath(shrunkQuick, path)).map((value) => ({ path, value })));

function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(node, k) ? node[k] : undefined;
    const child = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : {};
    Object.defineProperty(node, k, { value: child, enumerable: true, writable: true, configurable: true });
    node = child;
  }
  Object.defineProperty(node, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

/** A dangerous key (`__proto__`, `constructor`, …) set at the root or in a section of the experiment. */
const specialKeyMutation = fc.record({
  path: fc.tuple(fc.constantFrom([], ['task'], ['model'], ['train'], ['train', 'attack'], ['eval']), specialKey).map(([section, k]) => [...section, k]),
  value: fc.oneof(anyValue, fc.constantFrom({ seed: 3 }, { kind: 'sparse-coding' }, { d: 8 })),
});

/** An experiment input: the shrunk quick run with up to three fields changed, or anything. */
const experimentInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 1,
    arbitrary: specialKeyMutation.map((m) => {
      const input = structuredClone(shrunkQuickInput) as Record<string, unknown>;
      setPath(input, m.path, m.value);
      return input;
    }),
  },
  {
    weight: 6,
    arbitrary: fc.array(typedMutation, { maxLength: 2 }).map((mutations) => {
      const input = structuredClone(shrunkQuickInput) as Record<string, unknown>;
      for (const m of mutations) setPath(input, m.path, m.value);
      return input;
    }),
  },
  {
    weight: 8,
    arbitrary: fc.array(mutation, { maxLength: 3 }).map((mutations) => {
      const input = structuredClone(shrunkQuickInput) as Record<string, unknown>;
      for (const m of mutations) setPath(input, m.path, m.value);
      return input;
    }),
  },
  { weight: 1, arbitrary: fc.array(fc.tuple(key, anyValue), { maxLength: 3 }).map((entries) => Object.fromEntries(entries)) },
  { weight: 1, arbitrary: anyValue },
);
const preset = fc.oneof(
  { weight: 8, arbitrary: fc.constant('quick') },
  { weight: 3, arbitrary: fc.constantFrom('flagship', 'linear', 'scratch', 'mnist-mlp', 'cifar-cnn') },
  { weight: 2, arbitrary: fc.constantFrom('fastest', '', 'QUICK', '__proto__', 'constructor', 'toString', 'x'.repeat(41)) },
  { weight: 1, arbitrary: anyValue },
);

// --- params ----------------------------------------------------------------------------------

const runId: fc.Arbitrary<unknown> = fc.oneof(
  // Whole ids, and prefixes: the date alone (many runs), then longer ones (often one run).
  { weight: 4, arbitrary: fc.record({ index: fc.nat(), length: fc.constantFrom(null, null, 4, 8, 17, 19, 19) }).map((r) => new RunIdRef(r.index, r.length)) },
  { weight: 2, arbitrary: fc.constantFrom('19990101-000000-0000', '2026', 'abc', 'ABCD-0000', '', '....', '../..', '%25', `20260101-000000-abcd-${'x'.repeat(30)}`, ' 2026', '2026\n', '20260101_000000') },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-z-]{4,40}$/) },
  { weight: 1, arbitrary: anyValue },
);
const runName = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\t\n', '\u00a0', 'x'.repeat(200), 'x'.repeat(201)) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: anyValue },
);
const notes = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom('', 'x'.repeat(10_000), 'x'.repeat(10_001)) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: anyValue },
);
const status = fc.oneof(fc.constantFrom('queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled', 'done', '', 'FINISHED'), anyValue);
const count = fc.oneof(fc.integer({ min: 0, max: 12 }), extremeNumber, numberishString, anyValue);
const paper = {
  preset,
  input: experimentInput,
  seeds: count,
  ranks: fc.oneof(fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), extremeNumber), { maxLength: 10 }), anyValue),
};
const optional = { requiredKeys: [] as never[] };

const sweepGrid = fc.oneof(fc.constant([{ path: 'train.attack.eps', values: [0.1, 0.2] }]), fc.array(fc.record({ path: fc.oneof(fc.constantFrom('seed', 'task.d', 'no.such', ''), anyValue), values: fc.oneof(fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), extremeNumber), { maxLength: 3 }), anyValue) }), { maxLength: 3 }), anyValue);
const slurmResources = fc.oneof(fc.constant({}), fc.record({ partition: fc.oneof(fc.constantFrom('short', 'a b', 'x\n#SBATCH --uid=0'), anyValue), time: fc.oneof(fc.constantFrom('1:00:00', 'soon'), anyValue), mem: fc.oneof(fc.constantFrom('4G', 'lots'), anyValue) }, optional), anyValue);
/** Job folders: valid ones only inside this temporary folder (the server writes there), and relative, empty or odd paths. */
export const fuzzFolders = mkdtempSync(join(tmpdir(), 'purification-lab-fuzz-slurm-'));
const slurmFolder = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/).map((name) => join(fuzzFolders, name)), fc.constant(fuzzFolders), fc.constantFrom('relative/dir', '', '/', '..'), anyValue);

/** Params for each method as a caller would shape them, their fields often wrong. */
const paramsShapes: { readonly [M in ApiMethod]: fc.Arbitrary<Record<string, unknown>> } = {
  'app.info': fc.constant({}),
  'config.validate': fc.record({ input: experimentInput, preset }, { requiredKeys: ['input'] }),
  'runs.start': fc.record({ input: experimentInput, preset, name: runName, notes }, { requiredKeys: ['input'] }),
  'runs.list': fc.record({ status, text: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('%', '_', "'", '\\'), anyValue), sweepId: fc.oneof(fc.string({ maxLength: 10 }), anyValue) }, optional),
  'runs.get': fc.record({ id: runId }),
  'runs.cancel': fc.record({ id: runId }),
  'runs.resume': fc.record({ id: runId }),
  'runs.delete': fc.record({ ids: fc.oneof(fc.array(runId, { maxLength: 3 }), anyValue) }),
  'runs.rename': fc.record({ id: runId, name: runName }),
  'runs.setNotes': fc.record({ id: runId, notes }),
  'paper.plan': fc.record(paper, optional),
  'paper.start': fc.record(paper, optional),
  'paper.cancel': fc.record(paper, optional),
  'paper.figures': fc.record(paper, optional),
  'jobs.settings': fc.constant({}),
  // Valid counts stay small (each is a worker with its own tfjs): the edges are 0, 1, 2 and the bad shapes.
  'jobs.set': fc.record({ jobs: fc.oneof(fc.integer({ min: 0, max: 2 }), extremeNumber, numberishString, anyValue) }),
  'paper.export': fc.record(
    { ...paper, claim: fc.oneof(fc.constantFrom(...claimIds, 'summary', 'C9', ''), anyValue), format: fc.oneof(fc.constantFrom('svg', 'png', 'pdf', 'csv', 'txt', 'html', 'gif', ''), anyValue) },
    { requiredKeys: ['claim', 'format'] },
  ),
  'files.list': fc.constant({}),
  // The fuzz store has no files: names (odd ones too) are refused as not found, never read as paths.
  'files.evaluate': fc.record(
    { weights: fc.oneof(fc.constantFrom('20260101-000000-model.npz', '../model.npz', '/etc/passwd', ''), anyValue), data: fc.oneof(fc.constantFrom('test.npz', '..', ''), anyValue), input: experimentInput },
    { requiredKeys: ['weights', 'data'] },
  ),
  'sweeps.start': fc.record(
    {
      preset,
      input: experimentInput,
      grid: fc.oneof(fc.constant([{ path: 'train.attack.eps', values: [0.1, 0.2] }]), fc.array(fc.record({ path: fc.oneof(fc.constantFrom('seed', 'task.d', 'no.such', ''), anyValue), values: fc.oneof(fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), extremeNumber), { maxLength: 3 }), anyValue) }), { maxLength: 2 }), anyValue),
      seeds: count,
      name: runName,
    },
    { requiredKeys: ['input', 'grid', 'seeds'] },
  ),
  'sweeps.list': fc.constant({}),
  'sweeps.slurmScript': fc.record({ preset, input: experimentInput, grid: sweepGrid, seeds: count, resources: slurmResources }, { requiredKeys: ['input', 'grid', 'seeds', 'resources'] }),
  // Never submit: a fuzzed sweep must not reach a real cluster's sbatch.
  'slurm.write': fc.record({ preset, input: experimentInput, grid: sweepGrid, seeds: count, resources: slurmResources, folder: slurmFolder, submit: fc.oneof(fc.constant(false), fc.constantFrom('yes', 1, null)) }, { requiredKeys: ['input', 'grid', 'seeds', 'resources', 'folder', 'submit'] }),
  'slurm.folders': fc.constant({}),
  'slurm.status': fc.record({ folder: slurmFolder }),
  'slurm.import': fc.record({ folder: slurmFolder }),
};

/** What JSON makes of a value (what the server will see). */
function roundTrip(value: unknown): Record<string, unknown> | null {
  return JSON.parse(JSON.stringify(value) ?? 'null') as Record<string, unknown> | null;
}

const anyMethod = fc.constantFrom(...(Object.keys(apiParams) as ApiMethod[]));
/**
 * Every method; the two that take an experiment more often (their input is the richest surface,
 * and valid runs.start calls start runs), and runs.delete (the one that destroys).
 */
const knownMethod = fc.oneof(
  { weight: 10, arbitrary: anyMethod },
  { weight: 6, arbitrary: fc.constant('runs.start' as const) },
  { weight: 2, arbitrary: fc.constant('config.validate' as const) },
  { weight: 1, arbitrary: fc.constant('runs.delete' as const) },
);
const unknownMethod = fc.oneof(fc.constantFrom('runs.explode', 'RUNS.LIST', '', 'app.info ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'desktop.hello', 'runs'), fc.string({ maxLength: 20 }), anyValue);

/** Params for `method`: its shape (often), the shape with one field changed, added or dropped, or anything. */
function paramsFor(method: ApiMethod): fc.Arbitrary<unknown> {
  const shape = paramsShapes[method];
  const params = fc.oneof(
    { weight: 10, arbitrary: shape },
    { weight: 2, arbitrary: withSpecialKey(shape) },
    { weight: 2, arbitrary: fc.tuple(shape, key, anyValue).map(([p, k, v]) => ({ ...p, [k]: v })) },
    { weight: 1, arbitrary: shape.map((p) => Object.fromEntries(Object.entries(p).slice(1))) },
    { weight: 1, arbitrary: anyValue },
  );
  // paper.start with valid params queues a whole paper's runs and trains its baselines: the
  // fuzzer sends it only params the contract refuses (test/lab/paper.test.ts covers the valid path).
  return method === 'paper.start' ? params.filter((p) => !paperStartValid(roundTrip(p))) : params;
}

function paperStartValid(params: Record<string, unknown> | null): boolean {
  const p = params ?? {};
  return paramsAccepted('paper.start', p) && experimentAccepted(p.input ?? {}, p.preset ?? 'flagship');
}

const envelope: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 20, arbitrary: knownMethod.chain((method) => paramsFor(method).map((params) => ({ method, params }))) },
  { weight: 2, arbitrary: fc.tuple(unknownMethod, anyValue).map(([method, params]) => ({ method, params })) },
  { weight: 1, arbitrary: knownMethod.map((method) => ({ method })) },
  { weight: 1, arbitrary: anyValue.map((params) => ({ params })) },
  { weight: 1, arbitrary: fc.tuple(knownMethod, key, anyValue).map(([method, k, v]) => Object.fromEntries([['method', method], ['params', {}], [k, v]])) },
  { weight: 1, arbitrary: anyValue },
);

// --- bodies, gates, routes, frames ------------------------------------------------------------

const brokenText = fc.oneof(
  // A valid envelope cut short or with a byte changed.
  fc.tuple(envelope, fc.nat(), fc.constantFrom('', '}', ',', '"', '\\', '\u0000', 'ÿ')).map(([e, at, insert]) => {
    const text = JSON.stringify(e) ?? '';
    const cut = text.length === 0 ? 0 : at % text.length;
    return text.slice(0, cut) + insert + text.slice(cut + 1);
  }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', ' ', 'null', '[]', '"x"', '{"method":"app.info","params":{}}garbage', '{"method":"app.info","params":{},}', "{'method':'app.info'}", 'NaN', '\ufeff{"method":"app.info","params":{}}', '{"method":"app.info","params":{"a":1e999}}'),
);

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 30, arbitrary: envelope.map((e) => ({ kind: 'json' as const, envelope: e })) },
  { weight: 3, arbitrary: brokenText.map((text) => ({ kind: 'text' as const, text })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      method: fc.constantFrom('config.validate', 'runs.start', 'paper.plan', 'runs.list'),
      levels: fc.oneof(fc.integer({ min: 20, max: 40 }), fc.constantFrom(100, 1000, 20_000)),
      bracket: fc.constantFrom('{' as const, '[' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sized' as const), over: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: -500, max: 0 })), chunked: fc.boolean() }) },
);

const gate: fc.Arbitrary<Gate> = fc.record({
  auth: fc.oneof({ weight: 30, arbitrary: fc.constant('bearer' as const) }, { weight: 3, arbitrary: fc.constant('cookie' as const) }, { weight: 3, arbitrary: fc.constantFrom('none' as const, 'wrong-token' as const, 'query-token' as const, 'lowercase-bearer' as const) }),
  host: fc.oneof({ weight: 30, arbitrary: fc.constant('own' as const) }, { weight: 3, arbitrary: fc.constantFrom('localhost' as const, 'foreign' as const, 'other-port' as const) }),
  origin: fc.oneof({ weight: 30, arbitrary: fc.constant('none' as const) }, { weight: 3, arbitrary: fc.constantFrom('own' as const, 'foreign' as const, 'null' as const) }),
});

const contentType = fc.oneof(
  { weight: 30, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('application/json; charset=utf-8', 'Application/JSON', 'application/json;', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json', ''),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

const routePath: fc.Arbitrary<RoutePath> = fc.oneof(
  fc.constantFrom('/api/call', '/api/call/', '/api/', '/api/nothing', '/api/events', '/api/export', '/api/export/', '/api/call?method=app.info').map((path) => ({ kind: 'fixed' as const, path })),
  fc.record({
    kind: fc.constant('export' as const),
    run: fc.oneof(fc.record({ index: fc.nat(), length: fc.constantFrom(null, null, 17) }).map((r) => new RunIdRef(r.index, r.length)), fc.constantFrom('19990101-000000-0000', 'ABC', '..', '%2e%2e', '%E0%A4%A', 'x'.repeat(41))),
    target: fc.constantFrom('metrics', 'accuracy-over-training', 'neuron-images', 'no-such-figure', '..', '%2F', '%E0%A4%A'),
    format: fc.constantFrom('csv', 'svg', 'png', 'pdf', 'gif', 'CSV', 'svg.svg'),
  }),
);

/** Broken HTTP, with `HOST` and `TOKEN` filled in when sent. */
const rawTemplates = [
  'GARBAGE\r\n\r\n',
  'POST /api/call HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer TOKEN\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n',
  'POST /api/call HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer TOKEN\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /api/call HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer TOKEN\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
  'POST /api/call HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer TOKEN\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  `GET / HTTP/1.1\r\nHost: HOST\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
  'GET /api/events?token=TOKEN HTTP/1.1\r\nHost: HOST\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  'GET /api/events?token=TOKEN HTTP/1.1\r\nHost: HOST\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n',
  'GET /api/events?token=TOKEN HTTP/1.1\r\nHost: HOST\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  'GET /api/events HTTP/1.1\r\nHost: HOST\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  'GET /api/events?token=TOKEN HTTP/1.1\r\nHost: evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
];
const raw = fc.oneof(fc.constantFrom(...rawTemplates), fc.string({ maxLength: 40 }).map((s) => `{${s.replace(/[\r\n]/g, '')}\r\n\r\n`));

const frame: fc.Arbitrary<Frame | null> = fc.oneof(
  fc.constant(null),
  fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('{"method":"runs.list","params":{}}', '{"type":"subscribe"}', ''), hugeString).map((text) => ({ kind: 'text' as const, text })),
  fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 4097, max: 2_000_000 })).map((bytes) => ({ kind: 'binary' as const, bytes })),
);

/** One message of any kind, weighted towards API calls (the surface with the most to get wrong). */
export const message: fc.Arbitrary<Message> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('call' as const), gate, contentType, body }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('route' as const), gate, verb: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST'), path: routePath }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('raw' as const), template: raw }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('socket' as const),
      gate,
      path: fc.oneof({ weight: 10, arbitrary: fc.constant('/api/events') }, { weight: 1, arbitrary: fc.constantFrom('/api/events/', '/api/call', '/ws', '/', '/api/events%00') }),
      frame,
    }),
  },
);

/** A call with a valid token and Host, `application/json`, and this envelope. */
const plainCall = (envelope: unknown): Message => ({ kind: 'call', gate: { auth: 'bearer', host: 'own', origin: 'none' }, contentType: 'application/json', body: { kind: 'json', envelope } });
const withKey = (object: Record<string, unknown>, k: string, v: unknown) => Object.fromEntries([...Object.entries(object), [k, v]]);

/**
 * The probe's findings (issue 11), sent first in every run whatever the seed: a blank name,
 * 20,000 nested objects, `__proto__` in an experiment, a delete by a prefix, a noise far past
 * what the maths survives, a size past int32.
 */
export const probeFindings: readonly Message[] = [
  plainCall({ method: 'runs.rename', params: { id: new RunIdRef(0, null), name: ' ' } }),
  { kind: 'call', gate: { auth: 'bearer', host: 'own', origin: 'none' }, contentType: 'application/json', body: { kind: 'deep', method: 'config.validate', levels: 20_000, bracket: '{' } },
  { kind: 'call', gate: { auth: 'bearer', host: 'own', origin: 'none' }, contentType: 'application/json', body: { kind: 'deep', method: 'runs.start', levels: 20_000, bracket: '{' } },
  plainCall({ method: 'runs.start', params: { preset: 'quick', input: withKey(structuredClone(shrunkQuickInput) as Record<string, unknown>, '__proto__', { seed: 3 }) } }),
  plainCall({ method: 'config.validate', params: { input: { task: withKey({ kind: 'sparse-coding' }, '__proto__', { d: 8 }) } } }),
  plainCall({ method: 'runs.delete', params: { ids: [new RunIdRef(0, 19)] } }),
  plainCall({ method: 'runs.start', params: { preset: 'quick', input: { ...shrunkQuickInput, task: { kind: 'sparse-coding', trainSize: 600, noise: 9007199254740992 } } } }),
  plainCall({ method: 'config.validate', params: { preset: 'quick', input: { task: { kind: 'sparse-coding', trainSize: 2147483648 } } } }),
];
