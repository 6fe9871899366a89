/**
 * The hot path per backend: wasm has its fused kernels; webgpu has its fused WGSL kernels, only
 * while webgpu is the active backend (test/engine/webgpu.test.ts runs them on SwiftShader); cpu
 * has none (tfjs's generic ops run there, checked by the kernel plan).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hotPathFor } from '../../main/engine/backend/hotPath.ts';
import { useWasm } from '../support/backend.ts';

beforeAll(useWasm);

describe('hotPathFor', () => {
  it('wasm: the fused wasm kernels, for training and for the input gradient', async () => {
    const hotPath = await hotPathFor('wasm');
    expect(hotPath?.name).toBe('fused wasm kernels');
    expect(typeof hotPath?.inputGradientProvider).toBe('function');
  });
  it('webgpu while another backend is active, and cpu: none, so the generic trainer runs', async () => {
    expect(await hotPathFor('webgpu')).toBeNull();
    expect(await hotPathFor('cpu')).toBeNull();
  });
});
