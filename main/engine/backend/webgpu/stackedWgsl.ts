/**
 * The two-layer network's fused WGSL kernels for a STACK: K members of the same shapes (m, d,
 * threshold mode, optimiser kind) in one dispatch, member k on workgroup_id.z. The bodies are the
 * one-member kernels' (./twoLayerWgsl.ts), written once over a NetPlace, so a member computes the
 * floats it computes alone; what changes is where each member's numbers live:
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
import { momentBindings, type OptimiserKind } from './optimiserWgsl.ts';
import { pgdTail, pgdTailBindings, pgdTailFields } from './pgdWgsl.ts';
import { forwardBody, pgdGradientBody, thresholdsBody, updateBody, type NetPlace } from './twoLayerWgsl.ts';
import { declare, flatIndex, reductions } from './wgslCommon.ts';

/** 32-bit words of one member's row of the table (the Member struct's fields, in order). */
export const memberWords = 15;

/** The member table's row; lr..invBc2 are ./optimiserWgsl.ts's Opt, so its applyUpdate reads them from `o`. */
const memberStruct = /* wgsl */ `
struct Member { rows: u32, slot: u32, a: f32, rho: f32, lr: f32, mu: f32, b1: f32, b2: f32, c1: f32, c2: f32, eps: f32, step: f32, invBc2: f32, radius: f32, alpha: f32 }
`;

/** Shapes shared by every member of a call: R rows per member in the stacked batch. */
const shapeStruct = /* wgsl */ `struct P { R: u32, m: u32, d: u32 }`;

/**
 * Member wid.z of a stack, its row o of the member table (the uniform `u`: p, or q in the PGD
 * kernel). o's optimiser fields are Opt's, so the update body's applyUpdate reads them from o.
 */
function member(u: 'p' | 'q'): NetPlace {
  return {
    a: 'o.a',
    rho: 'o.rho',
    openNeuron: `let o = D[wid.z];
  let i = o.slot * ${u}.m + wid.x;`,
    openRow: `let o = D[wid.z];
  if (wid.x >= o.rows) { return; }
  let n = wid.z * ${u}.R + wid.x;
  let w0 = o.slot * ${u}.m;`,
    openUpdate: `let o = D[wid.z];
  let n0 = wid.z * ${u}.R;
  let rows = o.rows;
  let w0 = o.slot * ${u}.m;
  let slot = o.slot;`,
  };
}

/** b_i = rho ||w_i|| and 1 / ||w_i|| of each member's neurons; workgroups (m, 1, K). */
export function stackedThresholdsWgsl(): string {
  return /* wgsl */ `
${shapeStruct}
${memberStruct}
${declare([['p', 'uniform', 'P'], ['D', 'read', 'Member'], ['W', 'read'], ['b', 'read_write'], ['invNorm', 'read_write']])}
${reductions}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${thresholdsBody(member('p'))}
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${forwardBody(member('p'))}
}`;
}

/**
 * Weight gradient, threshold chain rule and optimiser; workgroups (elementGrid(m d), K on z);
 * bindings: p, D, W, x, G, loss, lossSum, [U, invNorm], moments.
 */
export function stackedUpdateWgsl(kind: OptimiserKind, relative: boolean): string {
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${updateBody(member('p'), kind, relative)}
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${pgdGradientBody(member('q'))}
  ${pgdTail(norm, { eps: 'o.radius', alpha: 'o.alpha', counter: 'wid.z' })}
}`;
}
