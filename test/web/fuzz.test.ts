/**
 * The probe of issue 11 as a test: a property-based fuzzer (fast-check) sends over 1,000
 * generated malformed and extreme messages to browser mode's API and its WebSocket, on a real
 * server (`npm run serve` in a child process, the real job queue on wasm), the probe's own
 * findings first (messages.ts's probeFindings), and requires of each answer:
 * - no hang: every message answered within 5 s (the fuzzer gives up then, and fails);
 * - no 5xx;
 * - no accepted invalid input: whatever the project's zod schemas refuse (test/web/fuzz/oracle.ts)
 *   gets a 4xx, and a valid runs.start is accepted (then cancelled at once);
 * then a healthy server: app.info answers and the shrunk quick run finishes.
 *
 * It prints its counts (messages sent, 4xx, 5xx, hangs, accepted invalid). The seed is fixed, so
 * CI runs the same messages each time; on failure the message says how to replay it
 * (`FUZZ_SEED=S FUZZ_PATH=P`, fast-check's seed and path), and `FUZZ_SHRINK=1` shrinks the
 * failing message first. `FUZZ_RUNS=N` changes the count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunDetail } from '../../shared/api.ts';
import { call, send } from './http.ts';
import { fuzzFolders, message, probeFindings, RunIdRef, shrunkQuickInput, type Body, type Message } from './fuzz/messages.ts';
import { bodyLimitBytes, callExpectation, exportNamesValid, experimentAccepted, gateStatus, paramsAccepted, type Gate } from './fuzz/oracle.ts';
import { answerTimeoutMs, httpExchange, rawExchange, socketExchange, type Answer } from './fuzz/transport.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261205);
const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);
const root = new URL('../../', import.meta.url).pathname;

/**
 * The server runs as `npm run serve` does, in its own process: a server whose event loop is
 * blocked (a job computing in it) must not block the fuzzer's clock, or a hang could never be
 * told from a slow answer.
 */
let child: ChildProcess;
let serverOutput = '';
let port: number;
let token: string;
let bearer: Record<string, string>;
let cookie: string;
/** The ids of the runs the server has (fixtures, runs started, minus those deleted). */
const ids: string[] = [];

const counts = { sent: 0, http: 0, socket: 0, answered2xx: 0, answered4xx: 0, answered5xx: 0, answeredOther: 0, socketCloses: 0, hangs: 0, dropped: 0, closedMidUpload: 0, acceptedInvalid: 0, validRefused: 0, runsCancelled: 0 };

beforeAll(async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'lab-fuzz-store-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'main/web/serve.ts', '--no-open', '--no-build', '--port', '0', '--store', storeDir, '--backend', 'wasm'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (serverOutput += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (serverOutput += c.toString()));
  const url = await new Promise<RegExpExecArray>((resolve, reject) => {
    const look = () => {
      const found = /Purification Lab: http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})\n/.exec(serverOutput);
      if (found) resolve(found);
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before printing its URL:\n${serverOutput}`)));
  });
  port = Number(url[1]);
  token = url[2]!;
  bearer = { Authorization: `Bearer ${token}` };
  const opened = await send(port, { path: `/?token=${token}` });
  cookie = String(opened.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  // Warm: app.info waits for the throughput measurement the server starts with.
  expect((await call(port, 'app.info', {}, bearer)).status).toBe(200);
  // Runs to aim real ids and their prefixes at, cancelled.
  for (let i = 0; i < 3; i++) {
    const started = await call(port, 'runs.start', { input: shrunkQuickInput, preset: 'quick', name: `fixture ${i}` }, bearer);
    const id = (started.envelope.result as { id: string }).id;
    expect((await call(port, 'runs.cancel', { id }, bearer)).status).toBe(200);
    ids.unshift(id);
  }
});

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(fuzzFolders, { recursive: true, force: true });
});

// --- sending -----------------------------------------------------------------------------------

function resolveId(ref: RunIdRef): string {
  if (ids.length === 0) return '19990101-000000-0000';
  const id = ids[ref.index % ids.length]!;
  return ref.length === null ? id : id.slice(0, ref.length);
}

/** The value with run id references filled in; own keys kept as they are (`__proto__` included). */
function fill(value: unknown): unknown {
  if (value instanceof RunIdRef) return resolveId(value);
  if (Array.isArray(value)) return value.map(fill);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
  return value;
}

function gateHeaders(gate: Gate): Record<string, string> {
  const hosts = { own: `127.0.0.1:${port}`, localhost: `localhost:${port}`, foreign: `evil.example:${port}`, 'other-port': `127.0.0.1:${port + 1}` };
  const headers: Record<string, string> = { Host: hosts[gate.host] };
  if (gate.origin !== 'none') headers.Origin = { own: `http://127.0.0.1:${port}`, foreign: 'http://evil.example', null: 'null' }[gate.origin];
  if (gate.auth === 'bearer') headers.Authorization = `Bearer ${token}`;
  if (gate.auth === 'lowercase-bearer') headers.Authorization = `bearer ${token}`;
  if (gate.auth === 'wrong-token') headers.Authorization = `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  if (gate.auth === 'cookie') headers.Cookie = cookie;
  return headers;
}
const tokenQuery = (gate: Gate) => (gate.auth === 'query-token' ? `?token=${token}` : '');

function bodyText(body: Body): string {
  switch (body.kind) {
    case 'json':
      return JSON.stringify(fill(body.envelope)) ?? '';
    case 'text':
      return body.text;
    case 'deep': {
      const [open, close] = body.bracket === '{' ? ['{"a":', '}'] : ['[', ']'];
      return `{"method":${JSON.stringify(body.method)},"params":{"input":${open.repeat(body.levels)}1${close.repeat(body.levels)}}}`;
    }
    case 'sized': {
      const frame = '{"method":"runs.setNotes","params":{"id":"20260101-000000-abcd","notes":""}}';
      return frame.replace('"notes":""', `"notes":"${'x'.repeat(bodyLimitBytes + body.over - frame.length)}"`);
    }
  }
}

/** What the fuzzer tallies and fails on: the first broken rule, or null. */
function tally(answer: Answer): number | null {
  counts.sent++;
  counts.http++;
  if (answer.kind === 'hang') {
    counts.hangs++;
    return null;
  }
  if (answer.kind === 'dropped') {
    counts.dropped++;
    return null;
  }
  const s = answer.status;
  if (s >= 200 && s < 300) counts.answered2xx++;
  else if (s >= 400 && s < 500) counts.answered4xx++;
  else if (s >= 500) counts.answered5xx++;
  else counts.answeredOther++;
  return s;
}

function unanswered(answer: Answer): string | null {
  if (answer.kind === 'hang') return `no answer within ${answerTimeoutMs / 1000} s (a hang)`;
  if (answer.kind === 'dropped') return `no answer: ${answer.reason}`;
  if (answer.status >= 500) return `a ${answer.status}: ${answer.text.slice(0, 300)}`;
  return null;
}

const acceptedInvalid = (why: string) => {
  counts.acceptedInvalid++;
  return `accepted invalid input (${why})`;
};

/** A call the fuzzer makes itself (cancelling what it started), judged like the rest. */
async function followUp(method: string, params: unknown): Promise<{ status: number; result: unknown } | string> {
  const answer = await httpExchange(port, { method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', Host: `127.0.0.1:${port}`, ...bearer }, body: JSON.stringify({ method, params }) });
  tally(answer);
  const broken = unanswered(answer);
  if (broken) return `${method} ${JSON.stringify(params)}: ${broken}`;
  const a = answer as Answer & { kind: 'answered' };
  return { status: a.status, result: (JSON.parse(a.text) as { result?: unknown }).result };
}

async function cancelStarted(id: string): Promise<string | null> {
  const cancelled = await followUp('runs.cancel', { id });
  if (typeof cancelled === 'string') return cancelled;
  if (cancelled.status !== 200) return `runs.cancel of the run it started (${id}) answered ${cancelled.status}`;
  counts.runsCancelled++;
  return null;
}

/** Judge an answer that reached the service: the method's own rules. */
async function judgeService(method: string, params: unknown, status: number, text: string): Promise<string | null> {
  const p = (params ?? {}) as Record<string, unknown>;
  if (!paramsAccepted(method as never, params)) return status >= 200 && status < 300 ? acceptedInvalid(`${method} params the schema refuses`) : status === 400 ? null : `expected 400 for params the schema refuses, got ${status}`;
  const result = status === 200 ? (JSON.parse(text) as { result: unknown }).result : null;
  switch (method) {
    case 'app.info':
    case 'runs.list':
      return status === 200 ? null : `expected 200, got ${status}: ${text.slice(0, 300)}`;
    case 'config.validate': {
      if (status !== 200) return `expected 200, got ${status}: ${text.slice(0, 300)}`;
      const expected = experimentAccepted(p.input, p.preset);
      const ok = (result as { ok: boolean }).ok;
      if (ok && !expected) return acceptedInvalid('config.validate said ok to an experiment the schema refuses');
      if (!ok && expected) {
        counts.validRefused++;
        return `config.validate refused an experiment the schema accepts: ${JSON.stringify((result as { problems: unknown }).problems).slice(0, 300)}`;
      }
      return null;
    }
    case 'runs.start': {
      const expected = experimentAccepted(p.input, p.preset);
      if (status === 200) {
        ids.unshift((result as { id: string }).id);
        const why = expected ? null : acceptedInvalid('runs.start of an experiment the schema refuses');
        return (await cancelStarted((result as { id: string }).id)) ?? why;
      }
      if (expected) {
        counts.validRefused++;
        return `runs.start refused an experiment the schema accepts (${status}): ${text.slice(0, 300)}`;
      }
      return null;
    }
    case 'runs.resume':
      return status === 200 ? cancelStarted((result as { id: string }).id) : null;
    case 'sweeps.start': {
      if (status !== 200) return null;
      // A sweep started: cancel each of its runs, as a started run is cancelled above.
      for (const id of (result as { runIds: string[] }).runIds) {
        ids.unshift(id);
        const why = await cancelStarted(id);
        if (why) return why;
      }
      return null;
    }
    case 'runs.delete': {
      if (status !== 200) return null;
      const sent = p.ids as string[];
      for (const id of (result as { deleted: string[] }).deleted) if (ids.includes(id)) ids.splice(ids.indexOf(id), 1);
      const byPrefix = (result as { deleted: string[] }).deleted.filter((id) => !sent.includes(id));
      return byPrefix.length > 0 ? acceptedInvalid(`runs.delete deleted ${byPrefix.join(', ')} given only a prefix (${sent.join(', ')}): the API takes whole ids`) : null;
    }
    case 'paper.plan':
    case 'paper.start':
    case 'paper.cancel':
    case 'paper.figures':
    case 'paper.export':
      return status === 200 && !experimentAccepted(p.input ?? {}, p.preset ?? 'flagship') ? acceptedInvalid(`${method} of an experiment the schema refuses`) : null;
    default:
      return null;
  }
}

/**
 * A request the server refuses before reading its body (the gate, a body over the limit, not JSON)
 * is answered while a client with a large body is still sending it; when the server then stops
 * reading (a 413 closes the connection; a busy machine can let the rest lag behind the answer),
 * the client's next write can fail with EPIPE or ECONNRESET before it reads the answer. That is a
 * refusal the client could not read, not a lost answer to a request the server took: counted
 * apart, and only for such requests with a body of 64 kB or more. The server's health is checked
 * after the last message.
 */
function closedMidUpload(answer: Answer, refusedUnread: boolean, bodyBytes: number): boolean {
  const closed = refusedUnread && bodyBytes >= 64 * 1024 && answer.kind === 'dropped' && /EPIPE|ECONNRESET/.test(answer.reason);
  if (closed) counts.closedMidUpload++;
  return closed;
}

async function exchangeCall(m: Message & { kind: 'call' }): Promise<string | null> {
  const text = bodyText(m.body);
  const headers = { ...gateHeaders(m.gate), ...(m.contentType === null ? {} : { 'Content-Type': m.contentType }), ...(m.body.kind === 'sized' && m.body.chunked ? { 'Transfer-Encoding': 'chunked' } : {}) };
  const answer = await httpExchange(port, { method: 'POST', path: `/api/call${tokenQuery(m.gate)}`, headers, body: text });
  const gated = gateStatus(m.gate, 'header');
  const early = callExpectation(m.contentType, text);
  const refusedUnread = gated !== null || (early.kind === 'refused' && (early.status === 413 || early.status === 415));
  if (closedMidUpload(answer, refusedUnread, Buffer.byteLength(text))) return null;
  const status = tally(answer);
  const broken = unanswered(answer);
  if (broken || status === null) return broken;
  if (gated) return status === gated ? null : status < 300 ? acceptedInvalid(`expected ${gated} from the gate`) : `expected ${gated} from the gate, got ${status}`;
  const expectation = early;
  if (expectation.kind === 'refused') return status === expectation.status ? null : status < 300 ? acceptedInvalid(expectation.why) : `expected ${expectation.status} (${expectation.why}), got ${status}`;
  return judgeService(expectation.method, expectation.params, status, (answer as Answer & { kind: 'answered' }).text);
}

async function exchangeRoute(m: Message & { kind: 'route' }): Promise<string | null> {
  let path: string;
  let expected: number | 'export';
  const readOnly = m.verb === 'GET' || m.verb === 'HEAD';
  const tokened = m.gate.auth === 'bearer' || m.gate.auth === 'cookie';
  if (m.path.kind === 'fixed') {
    path = m.path.path;
    const bare = path.split('?')[0];
    if (bare === '/api/call') expected = m.verb !== 'POST' ? 405 : tokened ? 415 : 401;
    else if (bare === '/api/events') expected = 426;
    else if (bare === '/api/export/') expected = !readOnly ? 405 : tokened || m.gate.auth === 'query-token' ? 404 : 401;
    else expected = 404;
  } else {
    const run = m.path.run instanceof RunIdRef ? resolveId(m.path.run) : m.path.run;
    path = `/api/export/${run}/${m.path.target}.${m.path.format}`;
    expected = !readOnly ? 405 : tokened || m.gate.auth === 'query-token' ? 'export' : 401;
  }
  const answer = await httpExchange(port, { method: m.verb, path: `${path}${tokenQuery(m.gate)}`, headers: gateHeaders(m.gate) });
  const status = tally(answer);
  const broken = unanswered(answer);
  if (broken || status === null) return broken;
  const gated = gateStatus(m.gate, 'header') === 403 ? 403 : null;
  if (gated) return status === 403 ? null : `expected 403 from the gate, got ${status}`;
  if (expected !== 'export') return status === expected ? null : `expected ${expected}, got ${status}`;
  if (status !== 200) return status >= 400 ? null : `expected 200 or a 4xx, got ${status}`;
  if (m.path.kind !== 'export') return null;
  let names: [string, string];
  try {
    names = [decodeURIComponent(path.split('/')[3]!), decodeURIComponent(m.path.target)];
  } catch {
    return acceptedInvalid('an export path that is not valid percent-encoding');
  }
  return exportNamesValid(names[0], names[1], m.path.format) ? null : acceptedInvalid(`an export of ${path}`);
}

async function exchangeRaw(m: Message & { kind: 'raw' }): Promise<string | null> {
  const bytes = m.template.replaceAll('HOST', `127.0.0.1:${port}`).replaceAll('TOKEN', token);
  const answer = await rawExchange(port, bytes);
  const status = tally(answer);
  const broken = unanswered(answer);
  if (broken || status === null) return broken;
  if (status === 101 || (status >= 200 && status < 300)) return acceptedInvalid(`broken HTTP answered ${status}`);
  return status >= 400 ? null : `expected a 4xx for broken HTTP, got ${status}`;
}

async function exchangeSocket(m: Message & { kind: 'socket' }): Promise<string | null> {
  const frame = m.frame === null ? null : m.frame.kind === 'text' ? m.frame.text : Buffer.alloc(m.frame.bytes, 7);
  const headers = gateHeaders(m.gate);
  const answer = await socketExchange(`ws://127.0.0.1:${port}${m.path}${tokenQuery(m.gate)}`, headers, frame);
  counts.sent += frame === null ? 1 : 2;
  counts.socket += frame === null ? 1 : 2;
  if (answer.kind === 'hang') {
    counts.hangs++;
    return `no answer to ${answer.stage} within ${answerTimeoutMs / 1000} s (a hang)`;
  }
  if (answer.kind === 'dropped') {
    counts.dropped++;
    return `no answer: ${answer.reason}`;
  }
  const gated = gateStatus(m.gate, 'header-or-query');
  const expected = gated === 403 ? 403 : m.path !== '/api/events' ? 404 : gated;
  if (answer.kind === 'refused') {
    if (answer.status >= 500) counts.answered5xx++;
    else counts.answered4xx++;
    return answer.status === expected ? null : `expected ${expected ?? 'the upgrade'}, got ${answer.status}`;
  }
  if (expected !== null) return acceptedInvalid(`a WebSocket upgrade that should get ${expected}`);
  if (frame === null) return null;
  counts.socketCloses++;
  const wanted = Buffer.byteLength(frame) > 4096 ? 1009 : 1003;
  // A frame over the limit: ws sends its 1009 and ends the connection while a large frame is still
  // arriving, so the client may see the connection end (1006) before it reads the close frame.
  if (wanted === 1009 && answer.closeCode === 1006 && Buffer.byteLength(frame) >= 64 * 1024) {
    counts.closedMidUpload++;
    return null;
  }
  return answer.closeCode === wanted ? null : `expected the stream to close with ${wanted} after a frame of ${Buffer.byteLength(frame)} bytes, got ${answer.closeCode}`;
}

function exchange(m: Message): Promise<string | null> {
  switch (m.kind) {
    case 'call':
      return exchangeCall(m);
    case 'route':
      return exchangeRoute(m);
    case 'raw':
      return exchangeRaw(m);
    case 'socket':
      return exchangeSocket(m);
  }
}

/** A message as a failure report shows it: long strings cut, references shown as such. */
function describe(m: unknown): string {
  return JSON.stringify(m, (_key, value: unknown) => (typeof value === 'string' && value.length > 120 ? `${value.slice(0, 60)}…(${value.length} characters)` : value));
}

it(`answers ${numRuns}+ fuzzed messages with no hang, no 5xx and no accepted invalid input, and stays healthy`, async () => {
  const started = performance.now();
  const details = await fc.check(
    fc.asyncProperty(message, async (m) => {
      const failure = await exchange(m);
      if (failure) throw new Error(failure);
    }),
    { seed, numRuns, examples: probeFindings.map((m) => [m] as [Message]), endOnFailure: process.env.FUZZ_SHRINK !== '1', ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) },
  );
  const seconds = (performance.now() - started) / 1000;
  const c = counts;
  console.log(
    `API fuzzer (seed ${seed}): ${c.sent} messages sent (${c.http} HTTP, ${c.socket} WebSocket) in ${seconds.toFixed(0)} s: ` +
      `2xx ${c.answered2xx}, 4xx ${c.answered4xx}, 5xx ${c.answered5xx}, WebSocket closes 1003/1009 ${c.socketCloses}, hangs ${c.hangs}, dropped ${c.dropped}, closed mid-upload ${c.closedMidUpload}, ` +
      `accepted invalid ${c.acceptedInvalid}, valid refused ${c.validRefused}; runs started then cancelled ${c.runsCancelled}`,
  );
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `The API fuzzer failed after ${details.numRuns} messages: ${error}\n  message: ${describe(details.counterexample?.[0])}\n` +
        `  the server's last words: ${serverOutput.slice(-1500)}\n` +
        `  replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run test/web/fuzz.test.ts (fast-check seed ${details.seed}, path ${details.counterexamplePath})`,
    );
  }
  expect(c.sent).toBeGreaterThanOrEqual(numRuns);
  expect({ answered5xx: c.answered5xx, hangs: c.hangs, dropped: c.dropped, acceptedInvalid: c.acceptedInvalid, validRefused: c.validRefused }).toEqual({ answered5xx: 0, hangs: 0, dropped: 0, acceptedInvalid: 0, validRefused: 0 });

  // Healthy afterwards: app.info answers, and the shrunk quick run finishes.
  const info = await call(port, 'app.info', {}, bearer);
  expect(info.status).toBe(200);
  expect((info.envelope.result as { backend: { name: string } }).backend.name).toBe('wasm');
  const run = await call(port, 'runs.start', { input: shrunkQuickInput, preset: 'quick', name: 'after the fuzzer' }, bearer);
  expect(run.status).toBe(200);
  const id = (run.envelope.result as { id: string }).id;
  let detail: RunDetail;
  for (;;) {
    detail = (await call(port, 'runs.get', { id }, bearer)).envelope.result as RunDetail;
    if (!['queued', 'running'].includes(detail.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(detail).toMatchObject({ status: 'finished', error: null, name: 'after the fuzzer' });
  expect(detail.config).toMatchObject({ task: { trainSize: 600 }, train: { cleanEpochs: 3, adversarialEpochs: 2 }, eval: { testSize: 200 } });
  // Its record is whole: an evaluation after each phase on the 200 test samples, every epoch's metrics.
  expect(detail.summary?.final.testSize).toBe(200);
  expect(detail.result.evaluations).toHaveLength(2);
  expect(detail.result.metrics).toHaveLength(6);
}, 600_000);
