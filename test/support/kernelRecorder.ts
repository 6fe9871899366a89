/**
 * The kernels a computation dispatches through tfjs: every op looks its kernel up in the active
 * backend's registry through Engine.runKernel, so a wrapper there sees each name. Not tf.profile,
 * though it awaits an async query: it also records a custom-gradient op under its op scope's name
 * ("logSoftmax__op"), which is no kernel, and it times each kernel through the backend's timer, so
 * tfjs-backend-webgpu ends its compute pass after every program, and the recorded run would not
 * run as runs go.
 */
import * as tf from '@tensorflow/tfjs-core';

type RunKernel = (...args: unknown[]) => unknown;

/** `compute`'s result and the names of the kernels it dispatched, sorted. */
export async function recordKernels<T>(compute: () => Promise<T>): Promise<{ result: T; kernels: string[] }> {
  const engine = tf.engine() as unknown as { runKernel: RunKernel };
  const names = new Set<string>();
  const runKernel = engine.runKernel;
  const own = Object.hasOwn(engine, 'runKernel');
  engine.runKernel = function (this: unknown, ...args: unknown[]) {
    names.add(args[0] as string);
    return runKernel.apply(this, args);
  };
  try {
    return { result: await compute(), kernels: [...names].sort() };
  } finally {
    if (own) engine.runKernel = runKernel;
    else delete (engine as { runKernel?: RunKernel }).runKernel;
  }
}
