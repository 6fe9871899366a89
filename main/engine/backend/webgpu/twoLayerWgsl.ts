/**
 * The two-layer network's fused WGSL kernels: the maths of the wasm kernels
 * (../../kernels/assembly/twoLayer.ts), neuron weights as ROWS W [m, d], one scalar output weight
 * a, s_b(t) = t - clamp(t, -b, b), mask_ni = [|U_ni| > b_i]:
 *
 *   rowThresholds  (workgroup per neuron i)  b_i = rho ||w_i||, invNorm_i = 1 / ||w_i|| (0 if 0)
 *   forward        (workgroup per sample n)  U_ni = w_i . x_n; f_n = a sum_i s_{b_i}(U_ni);
 *                  z_n = y_n f_n; loss_n = s_n log(1 + exp(-z_n)); c_n = -s_n a y_n sigmoid(-z_n);
 *                  G_ni = c_n mask_ni
 *   update         (invocation per weight)   dW_ij = sum_n G_ni x_nj; with relative thresholds
 *                  dbl_i = sum_n G_ni sign(U_ni) and dW_ij -= dbl_i rho invNorm_i W_ij (the chain
 *                  rule through b_i = rho ||w_i||); then the optimiser, in place. Invocation 0
 *                  also adds sum_n loss_n to the running loss (read once per epoch).
 *   pgdStep        (workgroup per row n)     Gx_ni = -y_n a mask_ni at the iterate; grad_n =
 *                  sum_i Gx_ni w_i; then the projected step (./pgdWgsl.ts). One dispatch a step.
 *
 * So a training step is 3 dispatches with relative thresholds (2 with fixed ones) and a PGD step
 * is 1; nothing is read back. dbl_i is recomputed by each of the d invocations of neuron i (B
 * multiply-adds, as many as dW_ij itself costs), which saves a dispatch and a buffer.
 */
import type { Norm } from '../../../../shared/config.ts';
import { pgdTail, pgdTailBindings, pgdTailFields } from './pgdWgsl.ts';
import { applyUpdate, momentBindings, optimiserStruct, type OptimiserKind } from './optimiserWgsl.ts';
import { declare, flatIndex, reductions } from './wgslCommon.ts';

export function rowThresholdsWgsl(): string {
  return /* wgsl */ `
struct P { m: u32, d: u32, rho: f32 }
${declare([['p', 'uniform', 'P'], ['W', 'read'], ['b', 'read_write'], ['invNorm', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  var s = 0.0;
  for (var j = lid; j < p.d; j += WG) { let w = W[i * p.d + j]; s = s + w * w; }
  let nrm = sqrt(sumAll(s, lid));
  if (lid == 0u) {
    b[i] = p.rho * nrm;
    invNorm[i] = select(0.0, 1.0 / nrm, nrm > 0.0);
  }
}`;
}

/** Forward and per-sample gradient factors; bindings: p, W, x, y, scale, b, U, G, loss. */
export function forwardWgsl(): string {
  return /* wgsl */ `
struct P { B: u32, m: u32, d: u32, a: f32 }
${declare([['p', 'uniform', 'P'], ['W', 'read'], ['x', 'read'], ['y', 'read'], ['scale', 'read'], ['b', 'read'], ['U', 'read_write'], ['G', 'read_write'], ['loss', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  var s = 0.0;
  for (var i = lid; i < p.m; i += WG) {
    var u = 0.0;
    for (var j = 0u; j < p.d; j++) { u = u + W[i * p.d + j] * x[n * p.d + j]; }
    U[n * p.m + i] = u;
    s = s + (u - clamp(u, -b[i], b[i]));
  }
  let f = p.a * sumAll(s, lid);
  let yn = y[n];
  let z = yn * f;
  let e = exp(-abs(z));
  let sigNeg = select(1.0 / (1.0 + e), e / (1.0 + e), z >= 0.0);
  let c = -scale[n] * p.a * yn * sigNeg;
  if (lid == 0u) { loss[n] = scale[n] * (max(-z, 0.0) + log(1.0 + e)); }
  for (var i = lid; i < p.m; i += WG) {
    let u = U[n * p.m + i];
    G[n * p.m + i] = select(0.0, c, abs(u) > b[i]);
  }
}`;
}

/** Weight gradient, threshold chain rule and optimiser; bindings: p, o, W, x, G, loss, lossSum, [U, invNorm], moments. */
export function updateWgsl(kind: OptimiserKind, relative: boolean): string {
  const chain = relative
    ? /* wgsl */ `
  var dbl = 0.0;
  for (var n = 0u; n < p.B; n++) { let u = U[n * p.m + i]; dbl = dbl + G[n * p.m + i] * select(-1.0, 1.0, u >= 0.0); }
  g = g - dbl * p.rho * invNorm[i] * W[k];`
    : '';
  return /* wgsl */ `
struct P { B: u32, m: u32, d: u32, rho: f32 }
${optimiserStruct}
${declare([
  ['p', 'uniform', 'P'], ['o', 'uniform', 'Opt'], ['W', 'read_write'], ['x', 'read'], ['G', 'read'], ['loss', 'read'], ['lossSum', 'read_write'],
  ...(relative ? ([['U', 'read'], ['invNorm', 'read']] as const) : []),
  ...momentBindings(kind, 'W'),
])}
const WG: u32 = 64u;
${flatIndex}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = flatIndex(wid, nwg, lid);
  if (k == 0u) {
    var l = 0.0;
    for (var n = 0u; n < p.B; n++) { l = l + loss[n]; }
    lossSum[0] = lossSum[0] + l;
  }
  if (k >= p.m * p.d) { return; }
  let i = k / p.d;
  let j = k % p.d;
  var g = 0.0;
  for (var n = 0u; n < p.B; n++) { g = g + G[n * p.m + i] * x[n * p.d + j]; }${chain}
  ${applyUpdate(kind, 'W', 'k', 'g')}
}`;
}

/** One PGD step; bindings: q, W, b, y, Gx, then the tail's (./pgdWgsl.ts). */
export function twoLayerPgdWgsl(norm: Norm): string {
  return /* wgsl */ `
struct Q { ${pgdTailFields}, m: u32, a: f32 }
${declare([['q', 'uniform', 'Q'], ['W', 'read'], ['b', 'read'], ['y', 'read'], ['Gx', 'read_write'], ...pgdTailBindings])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  let c = -y[n] * q.a;
  for (var i = lid; i < q.m; i += WG) {
    var u = 0.0;
    for (var j = 0u; j < q.d; j++) { u = u + W[i * q.d + j] * xa[n * q.d + j]; }
    Gx[n * q.m + i] = select(0.0, c, abs(u) > b[i]);
  }
  storageBarrier();
  var mx = 0.0;
  for (var j = lid; j < q.d; j += WG) {
    var g = 0.0;
    for (var i = 0u; i < q.m; i++) { g = g + Gx[n * q.m + i] * W[i * q.d + j]; }
    grad[n * q.d + j] = g;
    mx = max(mx, abs(g));
  }
  let M = maxAll(mx, lid);
  ${pgdTail(norm)}
}`;
}
