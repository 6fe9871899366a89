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
    webgpu: fail('WebGPU found no adapter'),
    wasm: loads({ device: 'cpu', details: { simd: true, threads: false } }),
    cpu: loads({ device: 'cpu' }),
    ...over,
  };
}

describe('automatic choice', () => {
  it('native package fails to load: wasm, with both tensorflow candidates skipped and why', async () => {
    const choice = await chooseBackend({ loaders: loaders({}) });
    expect(choice.name).toBe('wasm');
    expect(choice.skipped.map((s) => s.candidate)).toEqual(['tensorflow (GPU)', 'tensorflow (CPU)', 'webgpu']);
    expect(choice.skipped[0]!.reason).toMatch(/not installed/);
    expect(describeBackend(choice)).toMatch(
      /^backend: wasm \| simd on, threads off \| skipped tensorflow \(GPU\), tensorflow \(CPU\): the optional package .*; webgpu: WebGPU found no adapter$/,
    );
  });

  it('native package loads without a usable GPU: tensorflow on the CPU, never claimed as GPU', async () => {
    const note = 'the GPU package loaded, but TensorFlow found no usable GPU (it needs CUDA 11.2 and cuDNN 8.1), so it runs on the CPU';
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'cpu', note }) }) });
    expect(choice).toMatchObject({ name: 'tensorflow', device: 'cpu', label: 'tensorflow (CPU)' });
    expect(choice.skipped).toEqual([
      { candidate: 'tensorflow (GPU)', reason: note },
      { candidate: 'webgpu', reason: 'WebGPU found no adapter' },
    ]);
    expect(describeBackend(choice)).toContain('tensorflow (CPU)');
    expect(describeBackend(choice)).not.toContain('backend: tensorflow (GPU)');
  });

  it('native package loads with a GPU: tensorflow on the GPU, nothing skipped', async () => {
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'gpu' }) }) });
    expect(choice).toMatchObject({ name: 'tensorflow', device: 'gpu', label: 'tensorflow (GPU)', skipped: [] });
  });

  const hardware: LoadedBackend = {
    device: 'gpu',
    label: 'webgpu on NVIDIA H200 (nvidia hopper)',
    details: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', software: false, maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31, maxComputeWorkgroupStorageSize: 32768 },
  };
  const software: LoadedBackend = {
    device: 'cpu',
    label: 'webgpu on SwiftShader driver 5.0.0 (google swiftshader, software adapter)',
    note: 'SwiftShader driver 5.0.0 (google swiftshader, software adapter) runs the shaders on the CPU: for checking correctness, slower than wasm',
    details: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', software: true, maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupStorageSize: 32768 },
  };

  it('a hardware WebGPU adapter comes before tensorflow on the CPU and wasm, and the line names it', async () => {
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'cpu', note: 'no usable GPU' }), webgpu: loads(hardware) }) });
    expect(choice).toMatchObject({ name: 'webgpu', device: 'gpu', label: 'webgpu on NVIDIA H200 (nvidia hopper)', forced: false });
    expect(choice.skipped).toEqual([{ candidate: 'tensorflow (GPU)', reason: 'no usable GPU' }]);
    expect(describeBackend(choice)).toBe(
      'backend: webgpu on NVIDIA H200 (nvidia hopper) | vendor nvidia, architecture hopper, description NVIDIA H200, software off, maxBufferSize 4294967296, maxStorageBufferBindingSize 2147483648, maxComputeWorkgroupStorageSize 32768 | skipped tensorflow (GPU): no usable GPU',
    );
  });

  it('tensorflow on a GPU comes before a hardware WebGPU adapter', async () => {
    const choice = await chooseBackend({ loaders: loaders({ tensorflow: loads({ device: 'gpu' }), webgpu: loads(hardware) }) });
    expect(choice.name).toBe('tensorflow');
  });

  it('a software adapter is never chosen automatically: tensorflow on the CPU is made active again', async () => {
    let tensorflowLoads = 0;
    const tensorflow = async (): Promise<LoadedBackend> => {
      tensorflowLoads++;
      return { device: 'cpu', note: 'no usable GPU' };
    };
    const choice = await chooseBackend({ loaders: loaders({ tensorflow, webgpu: loads(software) }) });
    expect(choice).toMatchObject({ name: 'tensorflow', device: 'cpu' });
    // Loaded once for the GPU check and once more after the webgpu attempt switched backends.
    expect(tensorflowLoads).toBe(2);
    expect(choice.skipped[1]).toEqual({ candidate: 'webgpu', reason: `${software.note} (--backend webgpu forces it)` });
  });

  it('a software adapter is skipped for wasm when there is no native package', async () => {
    const choice = await chooseBackend({ loaders: loaders({ webgpu: loads(software) }) });
    expect(choice.name).toBe('wasm');
    expect(describeBackend(choice)).toContain('webgpu: SwiftShader driver 5.0.0 (google swiftshader, software adapter) runs the shaders on the CPU');
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
  it('tensorflow-cpu hides the CUDA GPUs from TensorFlow before it starts, and refuses one that runs on a GPU all the same', async () => {
    const before = process.env['CUDA_VISIBLE_DEVICES'];
    try {
      delete process.env['CUDA_VISIBLE_DEVICES'];
      // TensorFlow as it behaves: on the GPU unless CUDA_VISIBLE_DEVICES hides every device.
      const tensorflow = () => Promise.resolve<LoadedBackend>({ device: process.env['CUDA_VISIBLE_DEVICES'] === '-1' ? 'cpu' : 'gpu' });
      const choice = await chooseBackend({ request: 'tensorflow-cpu', loaders: loaders({ tensorflow }) });
      expect(choice).toMatchObject({ name: 'tensorflow', device: 'cpu', forced: true });
      expect(process.env['CUDA_VISIBLE_DEVICES']).toBe('-1');
      // Already started on a GPU (the variable is read once): refused, not reported as CPU.
      await expect(chooseBackend({ request: 'tensorflow-cpu', loaders: loaders({ tensorflow: loads({ device: 'gpu' }) }) })).rejects.toThrow(/tensorflow-cpu .* already started on a GPU/);
    } finally {
      if (before === undefined) delete process.env['CUDA_VISIBLE_DEVICES'];
      else process.env['CUDA_VISIBLE_DEVICES'] = before;
    }
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
  it('--backend webgpu forces a software adapter, and the line names it and says what it is for', async () => {
    const choice = await chooseBackend({
      request: 'webgpu',
      loaders: loaders({ webgpu: loads({ device: 'cpu', label: 'webgpu on SwiftShader driver 5.0.0 (google swiftshader, software adapter)', note: 'runs on the CPU: for checking correctness', details: { software: true } }) }),
    });
    expect(choice).toMatchObject({ name: 'webgpu', device: 'cpu', forced: true });
    expect(describeBackend(choice)).toBe(
      'backend: webgpu on SwiftShader driver 5.0.0 (google swiftshader, software adapter) (forced by --backend) | runs on the CPU: for checking correctness | software on',
    );
  });
  it('--backend webgpu without an adapter fails with the reason', async () => {
    await expect(chooseBackend({ request: 'webgpu', loaders: loaders({}) })).rejects.toThrow('The webgpu backend was requested with --backend but cannot load: WebGPU found no adapter');
  });
  it('an unknown name lists the valid ones', async () => {
    await expect(chooseBackend({ request: 'vulkan' as never, loaders: loaders({}) })).rejects.toThrow(/expected one of tensorflow-gpu, tensorflow-cpu, tensorflow, webgpu, wasm, cpu/);
  });
});

describe('the real loaders on this machine', () => {
  it('pick a backend that works and say why tensorflow was skipped when it was', async () => {
    const choice = await chooseBackend();
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(choice.name);
    // This machine has no GPU: a WebGPU adapter here is a software one, never chosen unasked.
    expect(choice.name).not.toBe('webgpu');
    if (choice.name !== 'tensorflow') expect(choice.skipped[0]!.reason.length).toBeGreaterThan(10);
  });
});
