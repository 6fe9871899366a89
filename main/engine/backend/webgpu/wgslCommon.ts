/**
 * WGSL shared by the fused kernel families (./twoLayerWgsl.ts, ./mlpWgsl.ts, ./pgdWgsl.ts,
 * ./optimiserWgsl.ts): the binding declarations, the workgroup reductions and the row loop.
 *
 * Workgroups are 64 invocations. A kernel that owns one row (a sample, a neuron) walks it with a
 * stride of 64 (`for (var j = lid; j < n; j += WG)`), so each invocation rereads only the entries
 * it wrote itself and needs no barrier for them; sums over the row are tree reductions in
 * workgroup memory whose result every invocation receives through workgroupUniformLoad (uniform,
 * so later barriers may depend on it). Reductions are float32: the wasm kernels accumulate in
 * float64, and the tests hold the two to 1e-4 relative.
 */

export const workgroupSize = 64;

export type Access = 'read' | 'read_write' | 'uniform' | 'atomic';

/** One binding: its name, access and element type (`f32`, or a struct name for uniforms). */
export type Binding = readonly [name: string, access: Access, type?: string];

/** Declarations of `bindings` in group 0, numbered in order (the order the caller binds buffers). */
export function declare(bindings: readonly Binding[]): string {
  return bindings
    .map(([name, access, type], k) => {
      if (access === 'uniform') return `@group(0) @binding(${k}) var<uniform> ${name}: ${type};`;
      if (access === 'atomic') return `@group(0) @binding(${k}) var<storage, read_write> ${name}: array<atomic<u32>>;`;
      return `@group(0) @binding(${k}) var<storage, ${access}> ${name}: array<${type ?? 'f32'}>;`;
    })
    .join('\n');
}

/** Tree reductions over the workgroup; every invocation must call them (uniform control flow). */
export const reductions = /* wgsl */ `
const WG: u32 = ${workgroupSize}u;
var<workgroup> red: array<f32, ${workgroupSize}>;

fn sumAll(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red[0]);
  workgroupBarrier();
  return r;
}

fn maxAll(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red[0]);
  workgroupBarrier();
  return r;
}
`;

/** The flat index of an invocation in a 1-D or 2-D grid of workgroups (for element-wise kernels). */
export const flatIndex = /* wgsl */ `
fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}
`;

/** Workgroups for `n` invocations of an element-wise kernel: 1-D up to the 65535 limit, then 2-D. */
export function elementGrid(n: number): number | [number, number] {
  const groups = Math.max(1, Math.ceil(n / workgroupSize));
  if (groups <= 65535) return groups;
  return [65535, Math.ceil(groups / 65535)];
}
