/**
 * What a WebGPU adapter is, in the terms the backend line and the provenance record: who made
 * it, what it is, whether it is a software rasteriser, and the limits that bound what the
 * engine can put on it: the largest buffer, i.e. the largest tensor; the largest buffer one
 * kernel may bind as storage (every kernel binds its tensors whole, so a tensor beyond it cannot
 * be computed on, however large the buffer may be); and the workgroup memory the tiled matMul
 * kernels use.
 */

/** The adapter facts WebGPU reports (GPUAdapterInfo), all optional: drivers leave some empty. */
export interface AdapterFacts {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** GPUAdapterInfo.isFallbackAdapter (older implementations put it on the adapter). */
  readonly isFallbackAdapter?: boolean;
}

export interface AdapterLimits {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

export interface AdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly software: boolean;
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

/**
 * The CPU implementations of Vulkan / D3D12 that a WebGPU implementation may offer as an
 * adapter: Google's SwiftShader, Mesa's llvmpipe and lavapipe, Microsoft's WARP ("Microsoft
 * Basic Render Driver"). They run shaders on the CPU, slower than tfjs-wasm.
 */
const softwareNames = /swiftshader|llvmpipe|lavapipe|\bwarp\b|basic render driver|software rasteri[sz]er/i;

export function isSoftwareAdapter(facts: AdapterFacts): boolean {
  if (facts.isFallbackAdapter === true) return true;
  return [facts.vendor, facts.architecture, facts.device, facts.description].some((text) => text !== undefined && softwareNames.test(text));
}

export function reportAdapter(facts: AdapterFacts, limits: AdapterLimits): AdapterReport {
  return {
    vendor: facts.vendor ?? '',
    architecture: facts.architecture ?? '',
    description: facts.description || facts.device || '',
    software: isSoftwareAdapter(facts),
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
  };
}

/** The adapter in a few words: "SwiftShader driver 5.0.0 (google swiftshader, software adapter)". */
export function adapterName(report: AdapterReport): string {
  const maker = [report.vendor, report.architecture].filter((s) => s !== '').join(' ');
  const what = report.description || maker || 'unnamed adapter';
  const facts = [...(report.description && maker ? [maker] : []), ...(report.software ? ['software adapter'] : [])];
  return facts.length ? `${what} (${facts.join(', ')})` : what;
}
