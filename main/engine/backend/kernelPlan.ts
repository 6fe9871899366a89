/**
 * Before a run starts, check that the backend has every kernel the experiment's model needs,
 * so a run never crashes mid-way on a missing gradient kernel. A missing kernel that has a
 * substitute made of kernels the backend does have is replaced (and the run says so); any other
 * missing kernel stops the run before it starts, naming the kernel. tfjs-wasm, for example, has
 * no Conv2DBackpropFilter, which a CNN's training needs: its filter gradient is then computed as
 * a forward convolution (./models/convolution.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './chooseBackend.ts';

export interface KernelSubstitute {
  readonly kernel: string;
  /** The replacement, in words. */
  readonly by: string;
  /** The kernels the replacement itself uses. */
  readonly needs: readonly string[];
}

export const kernelSubstitutes: readonly KernelSubstitute[] = [
  { kernel: 'Conv2DBackpropFilter', by: 'a forward convolution with the batch as channels', needs: ['Conv2D', 'Transpose', 'PadV2'] },
];

export interface KernelPlan {
  readonly backend: string;
  readonly substituted: readonly KernelSubstitute[];
}

/**
 * The plan for `kernels` on `backend`: which kernels are substituted. Throws a BackendError naming
 * every kernel that is missing without a usable substitute. `has` is injectable for tests.
 */
export function planKernels(
  kernels: readonly string[],
  backend: string,
  options: { forced?: boolean; has?: (kernel: string) => boolean } = {},
): KernelPlan {
  const has = options.has ?? ((k: string) => tf.getKernel(k, backend) !== undefined);
  const substituted: KernelSubstitute[] = [];
  const missing: string[] = [];
  for (const kernel of kernels) {
    if (has(kernel)) continue;
    const substitute = kernelSubstitutes.find((s) => s.kernel === kernel && s.needs.every(has));
    if (substitute) substituted.push(substitute);
    else missing.push(kernel);
  }
  if (missing.length > 0) {
    const how = options.forced ? 'forced with --backend' : 'chosen automatically';
    throw new BackendError(
      `The ${backend} backend (${how}) lacks the kernel${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that this experiment needs, and nothing can stand in for ${missing.length > 1 ? 'them' : 'it'}: choose another backend with --backend (cpu has every kernel)`,
    );
  }
  return { backend, substituted };
}

/** The plan in words, for the run's warnings. */
export function describePlan(plan: KernelPlan): string | null {
  if (plan.substituted.length === 0) return null;
  return plan.substituted.map((s) => `The ${plan.backend} backend has no ${s.kernel} kernel: computing it by ${s.by} instead.`).join(' ');
}
