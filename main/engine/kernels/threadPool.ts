/**
 * A pool of T kernel threads over one shared WebAssembly.Memory: the calling thread is thread 0
 * and T - 1 worker_threads are the others, each with its own instance of ./threaded.wasm
 * importing the same memory. `run(phase, chunk, args)` runs the exported phase
 * `phase(tid, chunk, ...args)` on every thread at once and returns when all have finished (the
 * barrier): the phases of ./assembly/threaded.ts split their rows by `tid` and write disjoint
 * bytes, so no locks are needed inside a phase.
 *
 * Signalling is Atomics on a small SharedArrayBuffer: the caller writes the phase and its
 * arguments, bumps a generation counter and notifies; each worker, parked in Atomics.wait on that
 * counter, runs its part, bumps a done counter and notifies; the caller runs part 0 itself, then
 * waits until done reaches T - 1. Node allows Atomics.wait on the main thread, and jobs run in
 * worker_threads already (nested workers are fine). A trap in a worker's part is reported back
 * and rethrown by `run`, naming the phase.
 *
 * Memory: `alloc` hands out 16-byte-aligned regions of the shared memory (first fit, then growth;
 * `free` returns them), so a trainer's weights stay put while the attack sessions of its epoch
 * come and go. Views are made per use (`f32`), since growing the memory replaces its buffer.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { inspectWasm, WA, type WasmModule } from './wasmBinary.ts';

/** Location of the compiled threaded kernels (committed; rebuild with `npm run build:threadKernels`). */
export const THREADED_WASM_URL = new URL('./threaded.wasm', import.meta.url);

/** The phases (and kernels) the threaded wasm must export. */
export const THREADED_PHASES = [
  'twoLayerTrainSamples', 'twoLayerTrainUpdate', 'twoLayerInputGradient', 'mlpTrainSamples', 'mlpTrainUpdate', 'mlpInputGradient',
  'stackedTrainStep', 'stackedInputGradient',
] as const;
export type ThreadedPhase = (typeof THREADED_PHASES)[number];
/** Plain kernels of the same binary, which `call` runs on the calling thread alone. */
export const THREADED_KERNELS = ['matMulNT', 'matMulNN', 'thresholdFromRowNorms', 'thresholdFromNorms', 'transposeInto'] as const;
export type ThreadedKernel = (typeof THREADED_KERNELS)[number];

/** The memory's maximum in 64 KiB pages (1 GiB); must not exceed the build's --maximumMemory. */
const MAX_PAGES = 16384;
const PAGE = 65536;
const MAX_ARGS = 32;
// control words (Int32Array over the control buffer)
const GEN = 0;
const DONE = 1;
const PHASE = 2;
const ARGC = 3;
const FAILED = 4;
const CHUNK = 5;
const ARGS_BYTE_OFFSET = 64;

/** The worker's whole program (eval'd, so the desktop bundle needs no extra file). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, tid, phases } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control, 0, 16);
const args = new Float64Array(control, ${ARGS_BYTE_OFFSET}, ${MAX_ARGS});
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${GEN}, seen);
  seen = Atomics.load(ctrl, ${GEN});
  const phase = Atomics.load(ctrl, ${PHASE});
  if (phase < 0) break;
  try {
    exports[phases[phase]](tid, ctrl[${CHUNK}], ...args.subarray(0, ctrl[${ARGC}]));
  } catch {
    Atomics.store(ctrl, ${FAILED}, tid);
  }
  Atomics.add(ctrl, ${DONE}, 1);
  Atomics.notify(ctrl, ${DONE});
}
`;

interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}

let compiled: WasmModule | null = null;

function threadedModule(): WasmModule {
  if (compiled) return compiled;
  const { report, mod } = inspectWasm(readFileSync(THREADED_WASM_URL), [...THREADED_PHASES, ...THREADED_KERNELS]);
  if (!report.safe) throw new Error(`threaded.wasm violates the no-owned-memory contract: ${report.problems.join('; ')}`);
  compiled = mod;
  return mod;
}

/** A region of the pool's memory. */
export interface Region {
  readonly offset: number;
  readonly bytes: number;
}

export class KernelThreadPool {
  readonly threads: number;
  private readonly memory: SharedMemory;
  private readonly control = new SharedArrayBuffer(ARGS_BYTE_OFFSET + MAX_ARGS * 8);
  private readonly ctrl = new Int32Array(this.control, 0, 16);
  private readonly args = new Float64Array(this.control, ARGS_BYTE_OFFSET, MAX_ARGS);
  private readonly workers: Worker[] = [];
  private readonly exports: Record<string, (...a: number[]) => unknown>;
  /** Live regions, sorted by offset. */
  private readonly live: Region[] = [];
  private closed = false;
  /**
   * When set (benches), `run` adds here, per phase, the calling thread's milliseconds in its own
   * part and waiting at the barrier for the others: what a phase costs beyond its arithmetic.
   */
  profile: Map<ThreadedPhase, { own: number; wait: number; calls: number }> | null = null;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads ${threads}: expected a positive integer`);
    this.threads = threads;
    const Memory = WA.Memory as unknown as new (d: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
    this.memory = new Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const module = threadedModule();
    this.exports = new WA.Instance(module, { env: { memory: this.memory } }).exports as Record<string, (...a: number[]) => unknown>;
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, control: this.control, tid, phases: THREADED_PHASES },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** A 16-byte-aligned region of `bytes` (first fit between live regions, else at the end, growing the memory). */
  alloc(bytes: number): Region {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let at = 16; // offset 0 stays unused, so no region is the null pointer
    let index = 0;
    for (; index < this.live.length; index++) {
      const r = this.live[index]!;
      if (r.offset - at >= size) break;
      at = r.offset + Math.ceil(r.bytes / 16) * 16;
    }
    const end = at + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`kernel threads: ${end} bytes needed, more than the ${MAX_PAGES * PAGE}-byte shared memory`);
      this.memory.grow(pages);
    }
    const region = { offset: at, bytes: size };
    this.live.splice(index, 0, region);
    return region;
  }

  free(region: Region): void {
    const k = this.live.indexOf(region);
    if (k >= 0) this.live.splice(k, 1);
  }

  /** A float32 view of `region` (or `length` floats from byte `offset`), valid until the memory next grows. */
  f32(region: Region | number, length?: number): Float32Array {
    const offset = typeof region === 'number' ? region : region.offset;
    const n = length ?? (typeof region === 'number' ? 0 : region.bytes / 4);
    return new Float32Array(this.memory.buffer, offset, n);
  }

  /** The same bytes as float64 / int32 (per-thread scalar slots). */
  f64(offset: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, offset, length);
  }
  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  /** Runs the kernel `name(...args)` on the calling thread alone. */
  call(name: ThreadedKernel, args: readonly number[]): void {
    if (this.closed) throw new Error(`kernel threads: ${name} called after the pool was closed`);
    this.exports[name]!(...args);
  }

  /** Runs `phase(tid, chunk, ...args)` on every thread and returns when all are done. */
  run(phase: ThreadedPhase, chunk: number, args: readonly number[]): void {
    if (this.closed) throw new Error(`kernel threads: ${phase} called after the pool was closed`);
    if (args.length > MAX_ARGS) throw new RangeError(`kernel threads: ${phase} has ${args.length} arguments, at most ${MAX_ARGS}`);
    const fn = this.exports[phase]!;
    if (this.threads === 1) {
      fn(0, chunk, ...args);
      return;
    }
    const c = this.ctrl;
    this.args.set(args);
    Atomics.store(c, PHASE, THREADED_PHASES.indexOf(phase));
    Atomics.store(c, ARGC, args.length);
    Atomics.store(c, CHUNK, chunk);
    Atomics.store(c, FAILED, 0);
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let error: unknown = null;
    const t0 = this.profile ? performance.now() : 0;
    try {
      fn(0, chunk, ...args);
    } catch (e) {
      error = e;
    }
    const t1 = this.profile ? performance.now() : 0;
    const others = this.threads - 1;
    for (let done = Atomics.load(c, DONE); done < others; done = Atomics.load(c, DONE)) Atomics.wait(c, DONE, done);
    if (this.profile) {
      const entry = this.profile.get(phase) ?? { own: 0, wait: 0, calls: 0 };
      entry.own += t1 - t0;
      entry.wait += performance.now() - t1;
      entry.calls += 1;
      this.profile.set(phase, entry);
    }
    if (error) throw error;
    const failed = Atomics.load(c, FAILED);
    if (failed !== 0) throw new Error(`kernel threads: ${phase} failed on thread ${failed} (a wasm trap: an argument out of the memory's bounds)`);
  }

  /** Stops the workers (they exit at their next wake-up). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.threads > 1) {
      Atomics.store(this.ctrl, PHASE, -1);
      Atomics.add(this.ctrl, GEN, 1);
      Atomics.notify(this.ctrl, GEN);
    }
  }
}

/**
 * Scratch regions sized for a batch of `rows`, kept while the row count stays and remade when it
 * changes (an attack session sees the same batch size step after step): `of(rows)` the regions,
 * `free()` gives them back. `bytesFor(rows)` names each region and its size in bytes.
 */
export function rowScratch<K extends string>(pool: KernelThreadPool, bytesFor: (rows: number) => Record<K, number>): { of(rows: number): Record<K, Region>; free(): void } {
  let rows = -1;
  let regions: Record<K, Region> | null = null;
  const free = () => {
    if (regions) for (const r of Object.values<Region>(regions)) pool.free(r);
    regions = null;
    rows = -1;
  };
  return {
    of(n) {
      if (regions && rows === n) return regions;
      free();
      const sizes = bytesFor(n);
      regions = Object.fromEntries(Object.entries<number>(sizes).map(([key, bytes]) => [key, pool.alloc(bytes)])) as Record<K, Region>;
      rows = n;
      return regions;
    },
    free,
  };
}

const pools = new Map<number, KernelThreadPool>();

/** This process's pool of `threads` threads, made on first use and kept (its workers do not hold the process open). */
export function kernelThreadPool(threads: number): KernelThreadPool {
  let pool = pools.get(threads);
  if (!pool) {
    pool = new KernelThreadPool(threads);
    pools.set(threads, pool);
  }
  return pool;
}

/** Closes every pool of this process (tests, a worker's shutdown). */
export function closeKernelThreadPools(): void {
  for (const pool of pools.values()) pool.close();
  pools.clear();
}
