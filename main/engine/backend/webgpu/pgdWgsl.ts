/**
 * The projected step of PGD in WGSL: the tail of each model's one-dispatch PGD step
 * (./twoLayerWgsl.ts, ./mlpWgsl.ts), run by the workgroup that owns row n once the row's input
 * gradient is in grad[n, :] and its largest |entry| in M. The maths of ../../attacks/pgdStep.ts
 * and of the wasm kernels (../../kernels/assembly/pgd.ts), per row with its own eps_n, alpha_n:
 *   l2:   xa_n += alpha_n grad_n / ||grad_n||  (skipped for a zero gradient);
 *         delta = xa_n - x0_n; if ||delta|| > eps_n: xa_n = x0_n + delta eps_n / ||delta||
 *   linf: xa_n = x0_n + clamp(xa_n + alpha_n sign(grad_n) - x0_n, -eps_n, eps_n)
 * then clip into [lo, hi] when there is a data range. On the first step a row whose gradient is
 * exactly zero is counted (atomically) in zero[0]. ||grad|| is taken as M ||grad / M|| so that a
 * tiny gradient does not underflow to a zero norm in float32.
 *
 * Names the tail expects: uniform `q` with fields d, first, clip, lo, hi; arrays xa, x0, grad,
 * eps, alpha and the atomic counter zero; locals n (the row), lid, M.
 */
import type { Norm } from '../../../../shared/config.ts';
import type { Binding } from './wgslCommon.ts';

/** The bindings the tail reads and writes, in the order the kernels declare them after their own. */
export const pgdTailBindings: readonly Binding[] = [
  ['x0', 'read'],
  ['xa', 'read_write'],
  ['eps', 'read'],
  ['alpha', 'read'],
  ['grad', 'read_write'],
  ['zero', 'atomic'],
];

/** The uniform fields the tail reads (the kernels' Pgd structs start with these). */
export const pgdTailFields = 'rows: u32, d: u32, first: u32, clip: u32, lo: f32, hi: f32';

/**
 * Where the tail reads a row's radius and step size and which counter it adds to: by default the
 * per-row arrays eps, alpha and zero[0]; a stack's kernel (./stackedWgsl.ts) gives each member's
 * own scalars and counter instead (a training attack has one radius per member).
 */
export interface PgdTailSources {
  readonly eps: string;
  readonly alpha: string;
  readonly counter: string;
}

const perRow: PgdTailSources = { eps: 'eps[n]', alpha: 'alpha[n]', counter: '0u' };

export function pgdTail(norm: Norm, sources: PgdTailSources = perRow): string {
  const clip = /* wgsl */ `if (q.clip != 0u) { v = clamp(v, q.lo, q.hi); }`;
  const count = /* wgsl */ `if (q.first != 0u && lid == 0u && M == 0.0) { atomicAdd(&zero[${sources.counter}], 1u); }`;
  if (norm === 'linf') {
    return /* wgsl */ `
  ${count}
  let e = ${sources.eps};
  let al = ${sources.alpha};
  for (var j = lid; j < q.d; j += WG) {
    let k = n * q.d + j;
    let base = x0[k];
    var v = xa[k] + al * sign(grad[k]);
    v = base + clamp(v - base, -e, e);
    ${clip}
    xa[k] = v;
  }`;
  }
  return /* wgsl */ `
  ${count}
  let invM = select(0.0, 1.0 / M, M > 0.0);
  var ss = 0.0;
  for (var j = lid; j < q.d; j += WG) {
    let t = grad[n * q.d + j] * invM;
    ss = ss + t * t;
  }
  let gn = M * sqrt(sumAll(ss, lid));
  let kS = select(0.0, ${sources.alpha} / gn, M > 0.0);
  var ds = 0.0;
  for (var j = lid; j < q.d; j += WG) {
    let k = n * q.d + j;
    let v = xa[k] + kS * grad[k];
    xa[k] = v;
    let dv = v - x0[k];
    ds = ds + dv * dv;
  }
  let dn = sqrt(sumAll(ds, lid));
  let e = ${sources.eps};
  let shrink = dn > e;
  let sc = select(1.0, e / dn, shrink);
  for (var j = lid; j < q.d; j += WG) {
    let k = n * q.d + j;
    var v = xa[k];
    if (shrink) { v = x0[k] + (v - x0[k]) * sc; }
    ${clip}
    xa[k] = v;
  }`;
}
