/**
 * The GPU programs that tfjs-backend-webgpu itself runs (its ops: transposes, fills, the
 * evaluation's matMuls), counted by shader while a function runs. The fused WGSL kernels count
 * their own dispatches (GpuKernels.dispatches); this counts the rest, so a step's dispatches are
 * both. Every tfjs webgpu op that reaches the GPU goes through the backend's `runWebGPUProgram`
 * (4.22), which is wrapped for the duration; ops answered on the host (no program) are not counted.
 */
import * as tf from '@tensorflow/tfjs-core';

interface ProgramRunner {
  runWebGPUProgram(program: { shaderKey: string }, ...rest: unknown[]): unknown;
}

/** `run`'s result and the tfjs programs it ran, by shader family (the key up to its first '_'). */
export async function webgpuPrograms<T>(run: () => T | Promise<T>): Promise<{ result: T; programs: Record<string, number> }> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`counting webgpu programs needs the webgpu backend (active: ${tf.getBackend()})`);
  const backend = tf.backend() as unknown as ProgramRunner;
  const programs: Record<string, number> = {};
  const own = Object.getPrototypeOf(backend) as ProgramRunner;
  backend.runWebGPUProgram = function (program, ...rest) {
    const family = program.shaderKey.split('_')[0]!;
    programs[family] = (programs[family] ?? 0) + 1;
    return own.runWebGPUProgram.call(this, program, ...rest);
  };
  try {
    return { result: await run(), programs };
  } finally {
    // back to the prototype's method
    delete (backend as Partial<ProgramRunner>).runWebGPUProgram;
  }
}

/** The programs' total. */
export const programCount = (programs: Record<string, number>): number => Object.values(programs).reduce((s, n) => s + n, 0);
