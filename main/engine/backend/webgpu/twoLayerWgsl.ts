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
 *
 * Each kernel's body is written once, over a NetPlace: where the network's numbers are. Alone
 * (this file's kernels), its scalars are the uniforms' and its neurons and rows start at 0; as a
 * stack's member (./stackedWgsl.ts), they are its row of the member table, its slot of the arena
 * and its rows of the stacked batch. The floats are the same expressions in the same order, so a
 * member computes what it computes alone.
 */
import type { Norm } from '../../../../shared/config.ts';
import { pgdTail, pgdTailBindings, pgdTailFields } from './pgdWgsl.ts';
import { applyUpdate, momentBindings, optimiserStruct, type OptimiserKind } from './optimiserWgsl.ts';
import { declare, flatIndex, reductions } from './wgslCommon.ts';

/**
 * Where a kernel finds its network. The openers are WGSL statements that begin main; each defines
 * the names the bodies below use:
 *   openNeuron  i, the neuron's row of W (a workgroup per neuron, workgroup_id.x);
 *   openRow     n, the row of the batch arrays, and w0, the network's first row of W (a workgroup
 *               per batch row; a stack's member returns for rows beyond its batch);
 *   openUpdate  n0 and rows, the network's rows of the batch, w0 and slot, its first row of W and
 *               its entry of lossSum (an invocation per weight).
 */
export interface NetPlace {
  /** The output weight a and the threshold ratio rho, as WGSL expressions. */
  readonly a: string;
  readonly rho: string;
  readonly openNeuron: string;
  readonly openRow: string;
  readonly openUpdate: string;
}

/** One network alone: its scalars in the uniform `u` (p, or q in the PGD kernel), its neurons and rows from 0. */
function alone(u: 'p' | 'q'): NetPlace {
  return {
    a: `${u}.a`,
    rho: `${u}.rho`,
    openNeuron: 'let i = wid.x;',
    openRow: 'let n = wid.x; let w0 = 0u;',
    openUpdate: `let n0 = 0u; let rows = ${u}.B; let w0 = 0u; let slot = 0u;`,
  };
}

/** b_i = rho ||w_i|| and invNorm_i = 1 / ||w_i|| of neuron i. */
export function thresholdsBody(place: NetPlace): string {
  return /* wgsl */ `
  ${place.openNeuron}
  var s = 0.0;
  for (var j = lid; j < p.d; j += WG) { let w = W[i * p.d + j]; s = s + w * w; }
  let nrm = sqrt(sumAll(s, lid));
  if (lid == 0u) {
    b[i] = ${place.rho} * nrm;
    invNorm[i] = select(0.0, 1.0 / nrm, nrm > 0.0);
  }`;
}

/** Sample n's pre-activations U, loss and gradient factors G. */
export function forwardBody(place: NetPlace): string {
  return /* wgsl */ `
  ${place.openRow}
  var s = 0.0;
  for (var i = lid; i < p.m; i += WG) {
    var u = 0.0;
    for (var j = 0u; j < p.d; j++) { u = u + W[(w0 + i) * p.d + j] * x[n * p.d + j]; }
    U[n * p.m + i] = u;
    s = s + (u - clamp(u, -b[w0 + i], b[w0 + i]));
  }
  let f = ${place.a} * sumAll(s, lid);
  let yn = y[n];
  let z = yn * f;
  let e = exp(-abs(z));
  let sigNeg = select(1.0 / (1.0 + e), e / (1.0 + e), z >= 0.0);
  let c = -scale[n] * ${place.a} * yn * sigNeg;
  if (lid == 0u) { loss[n] = scale[n] * (max(-z, 0.0) + log(1.0 + e)); }
  for (var i = lid; i < p.m; i += WG) {
    let u = U[n * p.m + i];
    G[n * p.m + i] = select(0.0, c, abs(u) > b[w0 + i]);
  }`;
}

/** Weight W[k]'s gradient (and the threshold chain rule), then the optimiser; invocation 0 adds the batch's loss. */
export function updateBody(place: NetPlace, kind: OptimiserKind, relative: boolean): string {
  const chain = relative
    ? /* wgsl */ `
  var dbl = 0.0;
  for (var r = 0u; r < rows; r++) { let u = U[(n0 + r) * p.m + i]; dbl = dbl + G[(n0 + r) * p.m + i] * select(-1.0, 1.0, u >= 0.0); }
  g = g - dbl * ${place.rho} * invNorm[w0 + i] * W[k];`
    : '';
  return /* wgsl */ `
  ${place.openUpdate}
  let e = flatIndex(wid, nwg, lid);
  if (e == 0u) {
    var l = 0.0;
    for (var r = 0u; r < rows; r++) { l = l + loss[n0 + r]; }
    lossSum[slot] = lossSum[slot] + l;
  }
  if (e >= p.m * p.d) { return; }
  let i = e / p.d;
  let j = e % p.d;
  let k = w0 * p.d + e;
  var g = 0.0;
  for (var r = 0u; r < rows; r++) { g = g + G[(n0 + r) * p.m + i] * x[(n0 + r) * p.d + j]; }${chain}
  ${applyUpdate(kind, 'W', 'k', 'g')}`;
}

/** Row n's input gradient at its iterate (grad, and its largest entry M), before the projected step. */
export function pgdGradientBody(place: NetPlace): string {
  return /* wgsl */ `
  ${place.openRow}
  let c = -y[n] * ${place.a};
  for (var i = lid; i < q.m; i += WG) {
    var u = 0.0;
    for (var j = 0u; j < q.d; j++) { u = u + W[(w0 + i) * q.d + j] * xa[n * q.d + j]; }
    Gx[n * q.m + i] = select(0.0, c, abs(u) > b[w0 + i]);
  }
  storageBarrier();
  var mx = 0.0;
  for (var j = lid; j < q.d; j += WG) {
    var g = 0.0;
    for (var i = 0u; i < q.m; i++) { g = g + Gx[n * q.m + i] * W[(w0 + i) * q.d + j]; }
    grad[n * q.d + j] = g;
    mx = max(mx, abs(g));
  }
  let M = maxAll(mx, lid);`;
}

export function rowThresholdsWgsl(): string {
  return /* wgsl */ `
struct P { m: u32, d: u32, rho: f32 }
${declare([['p', 'uniform', 'P'], ['W', 'read'], ['b', 'read_write'], ['invNorm', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${thresholdsBody(alone('p'))}
}`;
}

/** Forward and per-sample gradient factors; bindings: p, W, x, y, scale, b, U, G, loss. */
export function forwardWgsl(): string {
  return /* wgsl */ `
struct P { B: u32, m: u32, d: u32, a: f32 }
${declare([['p', 'uniform', 'P'], ['W', 'read'], ['x', 'read'], ['y', 'read'], ['scale', 'read'], ['b', 'read'], ['U', 'read_write'], ['G', 'read_write'], ['loss', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${forwardBody(alone('p'))}
}`;
}

/** Weight gradient, threshold chain rule and optimiser; bindings: p, o, W, x, G, loss, lossSum, [U, invNorm], moments. */
export function updateWgsl(kind: OptimiserKind, relative: boolean): string {
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${updateBody(alone('p'), kind, relative)}
}`;
}

/** One PGD step; bindings: q, W, b, y, Gx, then the tail's (./pgdWgsl.ts). */
export function twoLayerPgdWgsl(norm: Norm): string {
  return /* wgsl */ `
struct Q { ${pgdTailFields}, m: u32, a: f32 }
${declare([['q', 'uniform', 'Q'], ['W', 'read'], ['b', 'read'], ['y', 'read'], ['Gx', 'read_write'], ...pgdTailBindings])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${pgdGradientBody(alone('q'))}
  ${pgdTail(norm)}
}`;
}
