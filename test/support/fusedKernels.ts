/**
 * The fused kernels on the wasm backend, for a test file that trains on them: registers the
 * file's beforeAll (the backend, then the kernels) and afterAll (the kernel thread pools closed),
 * and returns a holder whose `kernels` are there from the first test on.
 */
import { afterAll, beforeAll } from 'vitest';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { closeKernelThreadPools } from '../../main/engine/kernels/threadPool.ts';
import { useWasm } from './backend.ts';

export function fusedKernelsOnWasm(): { readonly kernels: FusedKernels } {
  let loaded: FusedKernels | null = null;
  beforeAll(async () => {
    await useWasm();
    loaded = await loadFusedKernels();
    if (!loaded) throw new Error('the fused kernels failed to load on the wasm backend');
  });
  afterAll(() => closeKernelThreadPools());
  return {
    get kernels(): FusedKernels {
      if (!loaded) throw new Error('the fused kernels are loaded in beforeAll: read them in a test');
      return loaded;
    },
  };
}
