/**
 * Synchronous waits on Dawn's Node binding (the `webgpu` package).
 *
 * tfjs reads tensors synchronously (`dataSync`) all through the engine: losses at the end of an
 * epoch, the zero-gradient rows of an attack, accuracies. WebGPU itself only maps a buffer
 * asynchronously, and tfjs-backend-webgpu's `readSync` goes through an OffscreenCanvas, which
 * Node does not have. What makes a synchronous read possible in Node is how dawn.node completes
 * asynchronous work: whenever something is pending it schedules one call of Dawn's
 * `ProcessEvents` through the global `setImmediate`, and that call resolves whatever has finished
 * (a buffer becomes `mapped`) and schedules the next one while work is still pending.
 *
 * So this module keeps every native callback that dawn.node hands to `setImmediate` in a queue
 * of its own (it still runs from the event loop as before, once), and `waitFor` runs the queued
 * callbacks itself until the condition holds: the same event processing, driven without
 * returning to the event loop. Only native functions are kept (dawn.node's are; JavaScript
 * callbacks pass straight through), so the rest of the process is untouched.
 */

type Immediate = (...args: unknown[]) => void;

const queued: Immediate[] = [];
let installed = false;

function isNative(fn: unknown): fn is Immediate {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** Route dawn.node's scheduled event processing through the queue. Call before `create`. */
export function captureDawnEvents(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.setImmediate;
  const capturing = ((callback: unknown, ...args: unknown[]) => {
    if (!isNative(callback)) return (original as (...a: unknown[]) => NodeJS.Immediate)(callback, ...args);
    const run: Immediate = () => callback(...args);
    queued.push(run);
    return original(() => {
      // Runs from the event loop unless waitFor already ran it.
      const at = queued.indexOf(run);
      if (at >= 0) {
        queued.splice(at, 1);
        run();
      }
    });
  }) as typeof setImmediate;
  Object.assign(capturing, original);
  globalThis.setImmediate = capturing;
}

/**
 * Run dawn.node's event processing until `done()` holds. Throws, naming `what`, when nothing is
 * scheduled while `done()` is still false (the binding changed how it completes work, or the
 * device was lost), instead of spinning for ever.
 */
export function waitFor(done: () => boolean, what: string): void {
  if (!installed) throw new Error(`waitFor(${what}): captureDawnEvents() was not called before the WebGPU instance was created`);
  while (!done()) {
    const next = queued.shift();
    if (!next) throw new Error(`${what}: the WebGPU binding scheduled no event processing, so the wait cannot complete (was the device lost?)`);
    next();
  }
}
