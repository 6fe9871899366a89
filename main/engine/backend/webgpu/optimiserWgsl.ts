/**
 * The optimiser updates in WGSL, fused into the kernel that computes a parameter's gradient (so a
 * gradient is never written to memory): the maths of ../../training/optimizer.ts and of the wasm
 * kernels (../../kernels/assembly/optimisers.ts), float32, in place:
 *   SGD        p -= lr g
 *   momentum   v = mu v + g; p -= lr v                       (v starts at 0, so v_1 = g)
 *   Adam       m1 = b1 m1 + (1-b1) g; m2 = b2 m2 + (1-b2) g^2;
 *              p -= (lr / bc1) m1 / (sqrt(m2 / bc2) + eps),  bc_k = 1 - b_k^t (on the host, float64)
 * The per-step scalars sit in one uniform struct `o` (Opt), rewritten before each step.
 */
import type { ResolvedExperiment } from '../../../../shared/config.ts';
import type { Binding } from './wgslCommon.ts';

export type OptimiserKind = 'sgd' | 'momentum' | 'adam';

export function optimiserKind(config: ResolvedExperiment): OptimiserKind {
  const spec = config.train.optimizer;
  if (spec.kind === 'adam') return 'adam';
  return spec.momentum > 0 ? 'momentum' : 'sgd';
}

export const optimiserStruct = /* wgsl */ `
struct Opt { lr: f32, mu: f32, b1: f32, b2: f32, c1: f32, c2: f32, eps: f32, step: f32, invBc2: f32 }
`;

/** The moment buffers a parameter `name` needs under `kind`, as bindings. */
export function momentBindings(kind: OptimiserKind, name: string): Binding[] {
  if (kind === 'sgd') return [];
  if (kind === 'momentum') return [[`${name}M1`, 'read_write']];
  return [[`${name}M1`, 'read_write'], [`${name}M2`, 'read_write']];
}

/** WGSL statements applying gradient `g` to `name[k]` (and its moments). */
export function applyUpdate(kind: OptimiserKind, name: string, k: string, g: string): string {
  if (kind === 'sgd') return `${name}[${k}] = ${name}[${k}] - o.lr * ${g};`;
  if (kind === 'momentum') {
    return `{ let v = o.mu * ${name}M1[${k}] + ${g}; ${name}M1[${k}] = v; ${name}[${k}] = ${name}[${k}] - o.lr * v; }`;
  }
  return `{ let gg = ${g};
    let m1 = o.b1 * ${name}M1[${k}] + o.c1 * gg;
    let m2 = o.b2 * ${name}M2[${k}] + o.c2 * (gg * gg);
    ${name}M1[${k}] = m1; ${name}M2[${k}] = m2;
    ${name}[${k}] = ${name}[${k}] - (o.step * m1) / (sqrt(m2 * o.invBc2) + o.eps); }`;
}

/** The Opt struct's words for step t (1-based) at learning rate lr. */
export function optimiserWords(config: ResolvedExperiment, lr: number, t: number): readonly (readonly ['f32', number])[] {
  const spec = config.train.optimizer;
  const adam = spec.kind === 'adam';
  const bc1 = adam ? 1 - spec.beta1 ** t : 1;
  const bc2 = adam ? 1 - spec.beta2 ** t : 1;
  const values = [
    lr,
    adam ? 0 : spec.momentum,
    adam ? spec.beta1 : 0,
    adam ? spec.beta2 : 0,
    adam ? 1 - spec.beta1 : 0,
    adam ? 1 - spec.beta2 : 0,
    adam ? spec.epsilon : 0,
    lr / bc1,
    1 / bc2,
  ];
  return values.map((v) => ['f32', v] as const);
}
