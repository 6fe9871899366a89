/**
 * The two-layer network's fused WGSL kernels for a STACK: K members of the same shapes (m, d,
 * threshold mode, optimiser kind) in one dispatch, member k on workgroup_id.z. The maths is the
 * one-member kernels' (./twoLayerWgsl.ts), line for line, so a member computes the floats it
 * computes alone; what changes is where each member's numbers live:
 *
 *   the member table D[k]        its slot in the arena, its batch's row count, its output weight a,
 *                                rho, the optimiser's scalars for this step (./optimiserWgsl.ts's
 *                                Opt fields, bias corrections included) and its attack's radius
 *                                and step size: everything in which members may differ;
 *   the arena (one buffer each)  W [slots, m, d], b and invNorm [slots, m], the moments, the loss
 *                                sums [slots]: member k's rows start at D[k].slot * m;
 *   the stacked batch            x [K, R, d], y, scale, U, G, loss [K, R, ...]: member k's rows
 *                                start at k * R (R the largest batch of the call), so the global
 *                                row n = k R + r indexes the stacked arrays as a one-member
 *                                kernel indexes its own.
 *
 * A stacked training step is therefore as many dispatches as one member's (3 with relative
 * thresholds, 2 with fixed ones), and a PGD step one, whatever K is. A workgroup of a row beyond
 * its member's batch returns at once (D is read-only storage, so the test is uniform).
 */
import type { Norm } from '../../../../shared/config.ts';
import { applyUpdate, momentBindings, type OptimiserKind } from './optimiserWgsl.ts';
import { pgdTail, pgdTailBindings, pgdTailFields } from './pgdWgsl.ts';
import { declare, flatIndex, reductions } from './wgslCommon.ts';

/** 32-bit words of one member's row of the table (the Member struct's fields, in order). */
export const memberWords = 15;

/** The member table's row; lr..invBc2 are ./optimiserWgsl.ts's Opt, so its applyUpdate reads them from `o`. */
const memberStruct = /* wgsl */ `
struct Member { rows: u32, slot: u32, a: f32, rho: f32, lr: f32, mu: f32, b1: f32, b2: f32, c1: f32, c2: f32, eps: f32, step: f32, invBc2: f32, radius: f32, alpha: f32 }
`;

/** Shapes shared by every member of a call: R rows per member in the stacked batch. */
const shapeStruct = /* wgsl */ `struct P { R: u32, m: u32, d: u32 }`;

/** b_i = rho ||w_i|| and 1 / ||w_i|| of each member's neurons; workgroups (m, 1, K). */
export function stackedThresholdsWgsl(): string {
  return /* wgsl */ `
${shapeStruct}
${memberStruct}
${declare([['p', 'uniform', 'P'], ['D', 'read', 'Member'], ['W', 'read'], ['b', 'read_write'], ['invNorm', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = D[wid.z];
  let i = o.slot * p.m + wid.x;
  var s = 0.0;
  for (var j = lid; j < p.d; j += WG) { let w = W[i * p.d + j]; s = s + w * w; }
  let nrm = sqrt(sumAll(s, lid));
  if (lid == 0u) {
    b[i] = o.rho * nrm;
    invNorm[i] = select(0.0, 1.0 / nrm, nrm > 0.0);
  }
}`;
}

/** Forward and per-sample gradient factors; workgroups (R, 1, K); bindings: p, D, W, x, y, scale, b, U, G, loss. */
export function stackedForwardWgsl(): string {
  return /* wgsl */ `
${shapeStruct}
${memberStruct}
${declare([['p', 'uniform', 'P'], ['D', 'read', 'Member'], ['W', 'read'], ['x', 'read'], ['y', 'read'], ['scale', 'read'], ['b', 'read'], ['U', 'read_write'], ['G', 'read_write'], ['loss', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = D[wid.z];
  if (wid.x >= o.rows) { return; }
  let n = wid.z * p.R + wid.x;
  let w0 = o.slot * p.m;
  var s = 0.0;
  for (var i = lid; i < p.m; i += WG) {
    var u = 0.0;
    for (var j = 0u; j < p.d; j++) { u = u + W[(w0 + i) * p.d + j] * x[n * p.d + j]; }
    U[n * p.m + i] = u;
    s = s + (u - clamp(u, -b[w0 + i], b[w0 + i]));
  }
  let f = o.a * sumAll(s, lid);
  let yn = y[n];
  let z = yn * f;
  let e = exp(-abs(z));
  let sigNeg = select(1.0 / (1.0 + e), e / (1.0 + e), z >= 0.0);
  let c = -scale[n] * o.a * yn * sigNeg;
  if (lid == 0u) { loss[n] = scale[n] * (max(-z, 0.0) + log(1.0 + e)); }
  for (var i = lid; i < p.m; i += WG) {
    let u = U[n * p.m + i];
    G[n * p.m + i] = select(0.0, c, abs(u) > b[w0 + i]);
  }
}`;
}

/**
 * Weight gradient, threshold chain rule and optimiser; workgroups (elementGrid(m d), K on z);
 * bindings: p, D, W, x, G, loss, lossSum, [U, invNorm], moments.
 */
export function stackedUpdateWgsl(kind: OptimiserKind, relative: boolean): string {
  const chain = relative
    ? /* wgsl */ `
  var dbl = 0.0;
  for (var r = 0u; r < o.rows; r++) { let u = U[(n0 + r) * p.m + i]; dbl = dbl + G[(n0 + r) * p.m + i] * select(-1.0, 1.0, u >= 0.0); }
  g = g - dbl * o.rho * invNorm[o.slot * p.m + i] * W[k];`
    : '';
  return /* wgsl */ `
${shapeStruct}
${memberStruct}
${declare([
  ['p', 'uniform', 'P'], ['D', 'read', 'Member'], ['W', 'read_write'], ['x', 'read'], ['G', 'read'], ['loss', 'read'], ['lossSum', 'read_write'],
  ...(relative ? ([['U', 'read'], ['invNorm', 'read']] as const) : []),
  ...momentBindings(kind, 'W'),
])}
const WG: u32 = 64u;
${flatIndex}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = D[wid.z];
  let n0 = wid.z * p.R;
  let e = flatIndex(wid, nwg, lid);
  if (e == 0u) {
    var l = 0.0;
    for (var r = 0u; r < o.rows; r++) { l = l + loss[n0 + r]; }
    lossSum[o.slot] = lossSum[o.slot] + l;
  }
  if (e >= p.m * p.d) { return; }
  let i = e / p.d;
  let j = e % p.d;
  let k = o.slot * p.m * p.d + e;
  var g = 0.0;
  for (var r = 0u; r < o.rows; r++) { g = g + G[(n0 + r) * p.m + i] * x[(n0 + r) * p.d + j]; }${chain}
  ${applyUpdate(kind, 'W', 'k', 'g')}
}`;
}

/**
 * One PGD step of every member's attack; workgroups (R, 1, K); bindings: q, D, W, b, y, Gx, x0,
 * xa, grad, zero (the tail's, less eps and alpha, which are each member's D[k].radius, .alpha;
 * zero[k] counts member k's zero-gradient rows).
 */
export function stackedPgdWgsl(norm: Norm): string {
  const tailBindings = pgdTailBindings.filter(([name]) => name !== 'eps' && name !== 'alpha');
  return /* wgsl */ `
struct Q { ${pgdTailFields}, R: u32, m: u32 }
${memberStruct}
${declare([['q', 'uniform', 'Q'], ['D', 'read', 'Member'], ['W', 'read'], ['b', 'read'], ['y', 'read'], ['Gx', 'read_write'], ...tailBindings])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = D[wid.z];
  if (wid.x >= o.rows) { return; }
  let n = wid.z * q.R + wid.x;
  let w0 = o.slot * q.m;
  let c = -y[n] * o.a;
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
  let M = maxAll(mx, lid);
  ${pgdTail(norm, { eps: 'o.radius', alpha: 'o.alpha', counter: 'wid.z' })}
}`;
}
