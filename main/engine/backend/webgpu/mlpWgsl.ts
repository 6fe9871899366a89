/**
 * The image MLP's fused WGSL kernels: the maths of the wasm kernels
 * (../../kernels/assembly/mlp.ts) and of Mlp.lossAndGradients. Neuron i's weights are COLUMN i of
 * W [d, m]; the small parameters live packed in one buffer P = [c (m) | V (m x C) | e (C)], and so
 * do their optimiser moments, which keeps every kernel within the storage-buffer limit. With the
 * threshold activation, s_b(t) = t - clamp(t, -b, b) with b_i = rho ||W[:, i]||; with ReLU,
 * s(t) = max(t, 0). Either way the derivative mask is [H != 0].
 *
 * One scratch buffer S per batch size N holds, at fixed offsets, b [m], invNorm [m], H [N, m],
 * dU [N, m], Z / dZ [N, C] and the per-sample losses [N].
 *
 *   columnThresholds (invocation per neuron)  b_i = rho ||W[:, i]||, invNorm_i = 1 / ||W[:, i]||
 *   forward  (workgroup per sample n)  H_n = s(x_n W + c); z_n = H_n V + e; softmax cross-entropy:
 *            loss_n = s_n (logsumexp(z_n) - z_{n,y}), dz_n = s_n (softmax(z_n) - e_y);
 *            dU_n = (dz_n V^T) * [H_n != 0]
 *   updateW  (invocation per weight)   dW_ji = sum_n x_nj dU_ni; with thresholds
 *            dW_ji -= dbl_i rho invNorm_i W_ji, dbl_i = sum_n dU_ni sign(H_ni); then the optimiser
 *   updateSmall (invocation per entry of P)  dc_i = sum_n dU_ni; dV_ik = sum_n H_ni dz_nk;
 *            de_k = sum_n dz_nk; then the optimiser; invocation 0 adds sum_n loss_n to the running loss
 *   pgdStep  (workgroup per row n)  H_n, z_n as above at the iterate; j* the runner-up (the first
 *            j != y of largest z_nj); dU_n = (V[:, j*] - V[:, y]) * [H_n != 0] (the gradient of
 *            the negative margin z_y - z_j*); grad_n = dU_n W^T; then the projected step.
 *
 * A training step is 4 dispatches with thresholds (3 with ReLU), a PGD step 1 (plus one threshold
 * dispatch per attack).
 */
import type { Norm } from '../../../../shared/config.ts';
import { applyUpdate, momentBindings, optimiserStruct, type OptimiserKind } from './optimiserWgsl.ts';
import { pgdTail, pgdTailBindings, pgdTailFields } from './pgdWgsl.ts';
import { declare, flatIndex, reductions } from './wgslCommon.ts';

/** Offsets into the scratch buffer S for N rows, width m, C classes (in 32-bit words). */
export function scratchLayout(N: number, m: number, C: number) {
  const H = 2 * m;
  const dU = H + N * m;
  const Z = dU + N * m;
  const loss = Z + N * C;
  return { b: 0, invNorm: m, H, dU, Z, loss, words: loss + N };
}

/** The WGSL twin of scratchLayout, from the uniform fields N, m, C of `p`. */
const offsets = (p: string) => /* wgsl */ `
  let oH = 2u * ${p}.m;
  let oDU = oH + ${p}.N * ${p}.m;
  let oZ = oDU + ${p}.N * ${p}.m;
  let oLoss = oZ + ${p}.N * ${p}.C;
  let oV = ${p}.m;
  let oE = ${p}.m + ${p}.m * ${p}.C;`;

/** s(u) for the activation: `threshold` reads b_i from S. */
const activation = (threshold: boolean) =>
  threshold ? 'let bi = S[i]; let h = u - clamp(u, -bi, bi);' : 'let h = max(u, 0.0);';

/** H_n and z_n of row n of `xs` (into S); the shared first half of forward and pgdStep. */
const hiddenAndLogits = (p: string, xs: string, threshold: boolean) => /* wgsl */ `
  for (var i = lid; i < ${p}.m; i += WG) {
    var u = P[i];
    for (var j = 0u; j < ${p}.d; j++) { u = u + ${xs}[n * ${p}.d + j] * W[j * ${p}.m + i]; }
    ${activation(threshold)}
    S[oH + n * ${p}.m + i] = h;
  }
  storageBarrier();
  for (var k = lid; k < ${p}.C; k += WG) {
    var z = P[oE + k];
    for (var i = 0u; i < ${p}.m; i++) { z = z + S[oH + n * ${p}.m + i] * P[oV + i * ${p}.C + k]; }
    S[oZ + n * ${p}.C + k] = z;
  }
  storageBarrier();`;

export function columnThresholdsWgsl(): string {
  return /* wgsl */ `
struct P0 { d: u32, m: u32, rho: f32 }
${declare([['p', 'uniform', 'P0'], ['W', 'read'], ['S', 'read_write']])}
const WG: u32 = 64u;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.m) { return; }
  var s = 0.0;
  for (var j = 0u; j < p.d; j++) { let w = W[j * p.m + i]; s = s + w * w; }
  let nrm = sqrt(s);
  S[i] = p.rho * nrm;
  S[p.m + i] = select(0.0, 1.0 / nrm, nrm > 0.0);
}`;
}

/** Bindings: p, W, P, x, y, scale, S. */
export function mlpForwardWgsl(threshold: boolean): string {
  return /* wgsl */ `
struct Dims { N: u32, m: u32, d: u32, C: u32 }
${declare([['p', 'uniform', 'Dims'], ['W', 'read'], ['P', 'read'], ['x', 'read'], ['y', 'read'], ['scale', 'read'], ['S', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  ${offsets('p')}
  ${hiddenAndLogits('p', 'x', threshold)}
  let zr = oZ + n * p.C;
  var mx = S[zr];
  for (var k = 1u; k < p.C; k++) { mx = max(mx, S[zr + k]); }
  var se = 0.0;
  for (var k = 0u; k < p.C; k++) { se = se + exp(S[zr + k] - mx); }
  let yf = y[n];
  let yi = select(-1, i32(yf), yf > -1.0 && yf < f32(p.C));
  let sc = scale[n];
  if (lid == 0u) {
    S[oLoss + n] = select(0.0, sc * (mx + log(se) - S[zr + u32(max(yi, 0))]), yi >= 0);
  }
  storageBarrier();
  for (var k = lid; k < p.C; k += WG) {
    let t = select(0.0, sc, i32(k) == yi);
    S[zr + k] = exp(S[zr + k] - mx) * (sc / se) - t;
  }
  storageBarrier();
  for (var i = lid; i < p.m; i += WG) {
    var g = 0.0;
    if (S[oH + n * p.m + i] != 0.0) {
      for (var k = 0u; k < p.C; k++) { g = g + S[zr + k] * P[oV + i * p.C + k]; }
    }
    S[oDU + n * p.m + i] = g;
  }
}`;
}

/** Bindings: p, o, W, x, S, moments of W. */
export function mlpUpdateWWgsl(kind: OptimiserKind, threshold: boolean): string {
  const chain = threshold
    ? /* wgsl */ `
  var dbl = 0.0;
  for (var n = 0u; n < p.N; n++) { let h = S[oH + n * p.m + i]; dbl = dbl + S[oDU + n * p.m + i] * sign(h); }
  g = g - dbl * p.rho * S[p.m + i] * W[k];`
    : '';
  return /* wgsl */ `
struct Dims { N: u32, m: u32, d: u32, C: u32, rho: f32 }
${optimiserStruct}
${declare([['p', 'uniform', 'Dims'], ['o', 'uniform', 'Opt'], ['W', 'read_write'], ['x', 'read'], ['S', 'read'], ...momentBindings(kind, 'W')])}
const WG: u32 = 64u;
${flatIndex}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = flatIndex(wid, nwg, lid);
  if (k >= p.d * p.m) { return; }
  ${offsets('p')}
  let j = k / p.m;
  let i = k % p.m;
  var g = 0.0;
  for (var n = 0u; n < p.N; n++) { g = g + x[n * p.d + j] * S[oDU + n * p.m + i]; }${chain}
  ${applyUpdate(kind, 'W', 'k', 'g')}
}`;
}

/** Bindings: p, o, P, S, lossSum, moments of P. */
export function mlpUpdateSmallWgsl(kind: OptimiserKind): string {
  return /* wgsl */ `
struct Dims { N: u32, m: u32, d: u32, C: u32 }
${optimiserStruct}
${declare([['p', 'uniform', 'Dims'], ['o', 'uniform', 'Opt'], ['P', 'read_write'], ['S', 'read'], ['lossSum', 'read_write'], ...momentBindings(kind, 'P')])}
const WG: u32 = 64u;
${flatIndex}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = flatIndex(wid, nwg, lid);
  ${offsets('p')}
  if (k == 0u) {
    var l = 0.0;
    for (var n = 0u; n < p.N; n++) { l = l + S[oLoss + n]; }
    lossSum[0] = lossSum[0] + l;
  }
  if (k >= oE + p.C) { return; }
  var g = 0.0;
  if (k < oV) {
    for (var n = 0u; n < p.N; n++) { g = g + S[oDU + n * p.m + k]; }
  } else if (k < oE) {
    let i = (k - oV) / p.C;
    let c = (k - oV) % p.C;
    for (var n = 0u; n < p.N; n++) { g = g + S[oH + n * p.m + i] * S[oZ + n * p.C + c]; }
  } else {
    let c = k - oE;
    for (var n = 0u; n < p.N; n++) { g = g + S[oZ + n * p.C + c]; }
  }
  ${applyUpdate(kind, 'P', 'k', 'g')}
}`;
}

/** One PGD step; bindings: q, W, P, y, S, then the tail's (./pgdWgsl.ts). */
export function mlpPgdWgsl(norm: Norm, threshold: boolean): string {
  return /* wgsl */ `
struct Q { ${pgdTailFields}, N: u32, m: u32, C: u32 }
${declare([['q', 'uniform', 'Q'], ['W', 'read'], ['P', 'read'], ['y', 'read'], ['S', 'read_write'], ...pgdTailBindings])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  ${offsets('q')}
  ${hiddenAndLogits('q', 'xa', threshold)}
  let zr = oZ + n * q.C;
  let yf = y[n];
  let yi = select(-1, i32(yf), yf > -1.0 && yf < f32(q.C));
  var best = -1;
  var bv = 0.0;
  for (var k = 0; k < i32(q.C); k++) {
    if (k == yi) { continue; }
    let v = S[zr + u32(k)];
    if (best < 0 || v > bv) { best = k; bv = v; }
  }
  for (var i = lid; i < q.m; i += WG) {
    var g = 0.0;
    if (S[oH + n * q.m + i] != 0.0) {
      g = P[oV + i * q.C + u32(best)] - select(0.0, P[oV + i * q.C + u32(max(yi, 0))], yi >= 0);
    }
    S[oDU + n * q.m + i] = g;
  }
  storageBarrier();
  var mx = 0.0;
  for (var j = lid; j < q.d; j += WG) {
    var g = 0.0;
    for (var i = 0u; i < q.m; i++) { g = g + S[oDU + n * q.m + i] * W[j * q.m + i]; }
    grad[n * q.d + j] = g;
    mx = max(mx, abs(g));
  }
  let M = maxAll(mx, lid);
  ${pgdTail(norm)}
}`;
}
