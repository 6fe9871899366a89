/**
 * Telling a software WebGPU adapter from a GPU, naming it, and waiting on Dawn synchronously.
 * The adapter facts are those real implementations report (the SwiftShader one from this
 * machine's chromium; the others as Dawn, Mesa and Windows describe them).
 */
import { describe, expect, it } from 'vitest';
import { adapterName, isSoftwareAdapter, reportAdapter } from '../../main/engine/backend/webgpu/adapter.ts';
import { captureDawnEvents, waitFor } from '../../main/engine/backend/webgpu/dawnEvents.ts';
import { vulkanLoaderMissing } from '../../main/engine/backend/webgpu/webgpuLoader.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27, maxComputeWorkgroupStorageSize: 32768 };

describe('software adapters', () => {
  it.each([
    ['SwiftShader (chromium)', { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true }],
    ['SwiftShader without the fallback flag', { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' }],
    ['llvmpipe (Mesa)', { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }],
    ['lavapipe (Mesa)', { vendor: 'mesa', description: 'lavapipe' }],
    ['WARP (Windows)', { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }],
    ['any fallback adapter', { vendor: 'unknown', description: 'x', isFallbackAdapter: true }],
  ])('%s is software', (_, facts) => {
    expect(isSoftwareAdapter(facts)).toBe(true);
  });

  it.each([
    ['NVIDIA', { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }],
    ['AMD', { vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX' }],
    ['Intel', { vendor: 'intel', architecture: 'xe-lpg', description: 'Intel(R) Arc(TM) Graphics' }],
    ['Apple', { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2 Pro' }],
    ['a driver that leaves everything empty', {}],
  ])('%s is hardware', (_, facts) => {
    expect(isSoftwareAdapter(facts)).toBe(false);
  });
});

describe('the adapter in words and numbers', () => {
  it('names the description, the maker, and says software where it is', () => {
    const swiftshader = reportAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true }, limits);
    expect(swiftshader).toEqual({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', software: true, ...limits });
    expect(adapterName(swiftshader)).toBe('SwiftShader driver 5.0.0 (google swiftshader, software adapter)');
    expect(adapterName(reportAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }, limits))).toBe('NVIDIA H200 (nvidia hopper)');
    // No description: the device, else the maker, else that it is unnamed.
    expect(adapterName(reportAdapter({ vendor: 'apple', architecture: 'metal-3', device: 'Apple M2' }, limits))).toBe('Apple M2 (apple metal-3)');
    expect(adapterName(reportAdapter({ vendor: 'amd', architecture: 'rdna-3' }, limits))).toBe('amd rdna-3');
    expect(adapterName(reportAdapter({}, limits))).toBe('unnamed adapter');
  });
});

describe('the Vulkan loader check (Linux)', () => {
  it('finds libvulkan.so.1 in a directory of LD_LIBRARY_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vulkan-'));
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    expect(vulkanLoaderMissing({ LD_LIBRARY_PATH: `/nonexistent:${dir}` }, 'linux')).toBeNull();
  });
  it('is not asked on macOS and Windows (Metal and D3D12 come with the system)', () => {
    expect(vulkanLoaderMissing({}, 'darwin')).toBeNull();
    expect(vulkanLoaderMissing({}, 'win32')).toBeNull();
  });
});

describe('synchronous waits on the binding', () => {
  it('runs the native callbacks scheduled through setImmediate until the condition holds, JavaScript ones untouched', async () => {
    captureDawnEvents();
    // A native function stands in for dawn.node's ProcessEvents callback.
    const calls: number[] = [];
    const native = Array.prototype.push.bind(calls, 1) as unknown as () => void;
    setImmediate(native);
    setImmediate(native);
    waitFor(() => calls.length === 2, 'test');
    expect(calls).toEqual([1, 1]);
    // A JavaScript callback is not queued: it runs from the event loop as always.
    let ran = false;
    await new Promise<void>((resolve) => setImmediate(() => ((ran = true), resolve())));
    expect(ran).toBe(true);
    // The native callbacks already run are not run again from the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(calls).toEqual([1, 1]);
  });

  it('fails, naming the wait, when nothing is scheduled that could make the condition hold', () => {
    captureDawnEvents();
    expect(() => waitFor(() => false, 'webgpu readSync')).toThrow('webgpu readSync: the WebGPU binding scheduled no event processing');
  });
});
