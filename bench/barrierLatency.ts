/**
 * What one barrier of the kernel thread pool costs, measured on its own mechanism: the caller
 * writes a generation, `Atomics.notify`s a worker parked in `Atomics.wait`, and waits in turn
 * until the worker has bumped a done counter (kernels/threadPool.ts does exactly this, once per
 * phase). With no work in the phase, the round trip is pure signalling: the futex wake-up of
 * the parked thread and the caller's own wake-up.
 *
 * A threaded training step has two phases (samples, then neurons), so it pays two round trips
 * that a one-thread step does not. Set against the step's own time (bench/threadScaling.ts) this
 * says how much of the lost speed-up at small sizes is signalling rather than arithmetic.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  if (Atomics.load(ctrl, 2) < 0) break;
  Atomics.add(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}
`;

/** Median microseconds of one empty barrier (notify a parked worker, wait for its done). */
export async function barrierRoundTripMicros(rounds = 20000): Promise<{ median: number; p90: number }> {
  const shared = new SharedArrayBuffer(16);
  const ctrl = new Int32Array(shared);
  const worker = new Worker(WORKER, { eval: true, workerData: shared });
  const micros: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const done = Atomics.load(ctrl, 1);
      const t0 = performance.now();
      Atomics.add(ctrl, 0, 1);
      Atomics.notify(ctrl, 0);
      while (Atomics.load(ctrl, 1) === done) Atomics.wait(ctrl, 1, done);
      micros.push((performance.now() - t0) * 1000);
    }
  } finally {
    Atomics.store(ctrl, 2, -1);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    await worker.terminate();
  }
  micros.sort((a, b) => a - b);
  const at = (q: number) => micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] as number;
  return { median: at(0.5), p90: at(0.9) };
}

export async function printBarrierLatency(): Promise<void> {
  const { median, p90 } = await barrierRoundTripMicros();
  console.log(`\nOne empty barrier of the kernel thread pool (Atomics notify -> parked worker -> done): median ${median.toFixed(1)} µs, p90 ${p90.toFixed(1)} µs`);
  console.log(`  a threaded training step pays 2 of them (samples phase, neurons phase): ~${(2 * median).toFixed(0)} µs a step that one thread does not`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printBarrierLatency();
