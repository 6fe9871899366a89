/**
 * Backend selection with injected loaders: nothing here can load the native package, so the
 * order, the GPU/CPU report and the skip reasons are checked with fakes that fail, load without
 * a GPU, and load with one.
 */
import { describe, expect, it } from 'vitest';
import { chooseBackend, describeBackend, type BackendLoaders, type LoadedBackend } from '../../main/engine/backend/chooseBackend.ts';

const fail = (reason: string) => async (): Promise<LoadedBackend> => {
  throw new Error(reason);
};
const loads = (loaded: LoadedBackend) => async () => loaded;

function loaders(over: Partial<BackendLoaders>): BackendLoaders {
  return {
    tensorflow: fail('the optional package @tensorflow/tfjs-node-gpu is not installed'),
    wasm: loads({ device: 'cpu', details: { simd: true, threads: false } }),
    cpu: loads({ device: 'cpu' }),
    ...over,
  };
}

describe('automatic choice', () => {
  it('native package fails to load: wasm, with both tensorflow candidates skipped and why', async () => {
    const choice = await chooseBackend({ loaders: loaders({}) });
    expect(choice.name).toBe('wasm');
    expect(choice.skipped.map((s) => s.candidate)).toEqual(['tensorflow (GPU)', 'tensorflow (CPU)']);
    expect(choice.skipped[0]!.reason).toMatch(/not installed/);
    expect(describeBackend(choice)).toMatch(/^backend: wasm \| simd on, threads off \| skipped tensorflow \(GPU\), tensorflow \(CPU\): the optional package/);
  });

  it('native package loads without a usable GPU: tensorflow on the CPU, never claimed as GPU', async () => {
    const note = 'the GPU package loaded, but TensorFlow found no usable GPU (it needs CUDA 11.2 and cuDNN 8.1), so it runs on the CPU';
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'cpu', note }) }) });
    expect(choice).toMatchObject({ name: 'tensorflow', device: 'cpu', label: 'tensorflow (CPU)' });
    expect(choice.skipped).toEqual([{ candidate: 'tensorflow (GPU)', reason: note }]);
    expect(describeBackend(choice)).toContain('tensorflow (CPU)');
    expect(describeBackend(choice)).not.toContain('backend: tensorflow (GPU)');
  });

  it('native package loads with a GPU: tensorflow on the GPU, nothing skipped', async () => {
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'gpu' }) }) });
    expect(choice).toMatchObject({ name: 'tensorflow', device: 'gpu', label: 'tensorflow (GPU)', skipped: [] });
  });

  it('wasm fails too: pure-JS cpu, with every reason', async () => {
    const choice = await chooseBackend({ loaders: loaders({ wasm: fail('no WebAssembly') }) });
    expect(choice.name).toBe('cpu');
    expect(choice.skipped.map((s) => s.reason)).toContain('no WebAssembly');
  });

  it('nothing loads: one error listing every reason', async () => {
    await expect(chooseBackend({ loaders: loaders({ wasm: fail('no WebAssembly'), cpu: fail('broken') }) })).rejects.toThrow(
      /No compute backend could be loaded:[\s\S]*no WebAssembly[\s\S]*broken/,
    );
  });
});

describe('--backend forces one', () => {
  it('a forced backend that cannot load fails with its reason', async () => {
    await expect(chooseBackend({ request: 'tensorflow', loaders: loaders({}) })).rejects.toThrow(
      /The tensorflow backend was requested with --backend but cannot load: the optional package/,
    );
  });
  it('tensorflow-gpu without a GPU fails instead of running on the CPU', async () => {
    await expect(chooseBackend({ request: 'tensorflow-gpu', loaders: loaders({ tensorflow: loads({ device: 'cpu', note: 'no usable GPU' }) }) })).rejects.toThrow(
      /tensorflow-gpu .* no usable GPU/,
    );
  });
  it('a forced backend that loads is used and marked forced, even when a better one exists', async () => {
    const choice = await chooseBackend({ request: 'cpu', loaders: loaders({ tensorflow: loads({ device: 'gpu' }) }) });
    expect(choice).toMatchObject({ name: 'cpu', forced: true });
  });
  it('an unknown name lists the valid ones', async () => {
    await expect(chooseBackend({ request: 'webgpu' as never, loaders: loaders({}) })).rejects.toThrow(/expected one of tensorflow-gpu, tensorflow-cpu, tensorflow, wasm, cpu/);
  });
});

describe('the real loaders on this machine', () => {
  it('pick a backend that works and say why tensorflow was skipped when it was', async () => {
    const choice = await chooseBackend();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(choice.name);
    if (choice.name !== 'tensorflow') expect(choice.skipped[0]!.reason.length).toBeGreaterThan(10);
  });
});
