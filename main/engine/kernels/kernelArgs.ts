/**
 * One generic marshal for every fused kernel: a typed table says, for each wrapper method, what
 * its arguments are (a matrix with named dimensions, a vector, a tensor of a given size, a
 * number, a flag) and in which order the raw wasm export takes the byte offsets, sizes and
 * numbers; `bindKernelTable` turns the table into the methods.
 *
 * Named dimensions bind on first sight: the first tensor argument that names a dimension ('B',
 * 'm', ...) fixes its size, every later one must match, so a wrong shape is refused with the
 * argument's name and the shape it needed. Every tensor must be a live float32 tensor in the
 * wasm heap; every output (written in place) must share no bytes with any other argument; after
 * the call, tfjs-wasm's cached packed copies of the outputs are dropped (see ./fusedKernels.ts,
 * the stale-matMul hazard).
 */
import * as tf from '@tensorflow/tfjs-core';

/** A rank-2 float32 tensor [rows, cols]; `out`: the kernel writes it in place. */
export interface MatrixArg {
  readonly kind: 'matrix';
  readonly name: string;
  readonly rows: string;
  readonly cols: string;
  readonly out: boolean;
}
/** A float32 vector of `length` elements, shape [n] or [n, 1]. */
export interface VectorArg {
  readonly kind: 'vector';
  readonly name: string;
  readonly length: string;
  readonly out: boolean;
}
/** A float32 tensor of any shape with `size` elements (optimiser parameters and their state). */
export interface SizedArg {
  readonly kind: 'sized';
  readonly name: string;
  readonly size: string;
  readonly out: boolean;
}
/** A vector that may be null: its offset passes as 0 and `presentAs` as 1 when given, 0 when null. */
export interface OptionalVectorArg {
  readonly kind: 'optionalVector';
  readonly name: string;
  readonly length: string;
  readonly presentAs: string;
}
/** A number; `finite`: refused unless finite (else the kernel's `prepare` checks it). */
export interface NumberArg {
  readonly kind: 'number';
  readonly name: string;
  readonly finite: boolean;
}
/** A boolean (or 0 / 1), passed as 0 or 1. */
export interface FlagArg {
  readonly kind: 'flag';
  readonly name: string;
}

export type TensorArg = MatrixArg | VectorArg | SizedArg;
export type ArgSpec = TensorArg | OptionalVectorArg | NumberArg | FlagArg;

export const matrix = (name: string, rows: string, cols: string): MatrixArg => ({ kind: 'matrix', name, rows, cols, out: false });
export const vector = (name: string, length: string): VectorArg => ({ kind: 'vector', name, length, out: false });
export const sized = (name: string, size: string): SizedArg => ({ kind: 'sized', name, size, out: false });
export const optionalVector = (name: string, length: string, presentAs: string): OptionalVectorArg =>
  ({ kind: 'optionalVector', name, length, presentAs });
export const finite = (name: string): NumberArg => ({ kind: 'number', name, finite: true });
export const number = (name: string): NumberArg => ({ kind: 'number', name, finite: false });
export const flag = (name: string): FlagArg => ({ kind: 'flag', name });
/** The same tensor argument, written in place by the kernel. */
export const output = <T extends TensorArg>(arg: T): T => ({ ...arg, out: true });

/** The argument spec a wrapper parameter of type P needs (checked against the method's signature). */
type ArgFor<P> = [P] extends [tf.Tensor]
  ? TensorArg
  : [P] extends [number]
    ? NumberArg
    : [P] extends [tf.Tensor | null]
      ? OptionalVectorArg
      : FlagArg;
type ArgSpecs<P extends readonly unknown[]> = { readonly [I in keyof P]: ArgFor<P[I]> };

/** Values by name: tensor offsets, dimension sizes, numbers, flags, and what `prepare` adds. */
export type KernelValues = Record<string, number>;

/** One wrapper method `F`: its arguments, and how the raw export is called. */
export interface KernelSpec<F extends (...args: never[]) => unknown> {
  /** One spec per parameter of F, in order. */
  readonly args: ArgSpecs<Parameters<F>>;
  /** The raw export's parameters, by name: arguments, dimensions, or names in `derived`. */
  readonly call: readonly string[];
  /** Values `prepare` adds (so that `call` can be checked when the table is bound). */
  readonly derived?: readonly string[];
  /** Checks across arguments and derived values; runs after the arguments are resolved. */
  readonly prepare?: (values: KernelValues, fail: (message: string) => never) => void;
}

/** A family's table: one spec per method of the family's interface T. */
export type KernelTable<T> = {
  readonly [K in keyof T]: T[K] extends (...args: never[]) => unknown ? KernelSpec<T[K]> : never;
};

/** A resolved tensor argument. */
export interface ResolvedTensor {
  name: string;
  off: number;
  bytes: number;
  /** The backend's numeric tensor id (what the C++ side keys its caches on). */
  id: number;
  /** Element count the id was registered with. */
  registeredSize: number;
}

/** What the marshal needs from the bound backend (see ./fusedKernels.ts). */
export interface KernelContext {
  /** Throws unless the kernels' backend is still the active one. */
  checkBackend(fn: string): void;
  /** Checks a tensor (live, float32, in the wasm heap) and resolves its offset and id. */
  resolve(fn: string, name: string, t: tf.Tensor): ResolvedTensor;
  /** Drops tfjs-wasm's per-tensor caches (packed matMul operands) of tensors written in place. */
  invalidate(outputs: readonly ResolvedTensor[]): void;
}

/** The raw wasm exports: numbers in, a number (or nothing) out. */
export type RawExports = Record<string, unknown>;

/** The dimension names a spec's arguments mention. */
function dimensionsOf(spec: KernelSpec<never>): string[] {
  const dims: string[] = [];
  for (const arg of spec.args as readonly ArgSpec[]) {
    if (arg.kind === 'matrix') dims.push(arg.rows, arg.cols);
    else if (arg.kind === 'vector' || arg.kind === 'optionalVector') dims.push(arg.length);
    else if (arg.kind === 'sized') dims.push(arg.size);
    if (arg.kind === 'optionalVector') dims.push(arg.presentAs);
  }
  return dims;
}

/**
 * Checks a table against the raw exports when it is bound: each method has an export of that
 * name taking exactly `call.length` parameters, and every name in `call` is an argument, a
 * dimension or a derived value. A mismatch is a build or table error, reported at load.
 */
function checkSpec(fn: string, spec: KernelSpec<never>, raw: RawExports): void {
  const exported = raw[fn];
  if (typeof exported !== 'function') throw new Error(`fused kernels: the wasm has no export ${fn}`);
  if (exported.length !== spec.call.length) {
    throw new Error(`fused kernels: export ${fn} takes ${exported.length} parameters, the table passes ${spec.call.length}`);
  }
  const names = (spec.args as readonly ArgSpec[]).map((a) => a.name);
  const clash = [...new Set(dimensionsOf(spec))].filter((dim) => names.includes(dim));
  if (clash.length > 0) throw new Error(`fused kernels: ${fn} uses ${clash.join(', ')} as both an argument and a dimension`);
  const known = new Set([...names, ...dimensionsOf(spec), ...(spec.derived ?? [])]);
  const unknown = spec.call.filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`fused kernels: ${fn} calls with unknown values ${unknown.join(', ')}`);
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/** Binds dimension `dim` to `size`, or reports whether `size` matches its earlier binding. */
function bindDim(values: KernelValues, dim: string, size: number): boolean {
  const bound = values[dim];
  if (bound === undefined) {
    values[dim] = size;
    return true;
  }
  return bound === size;
}

/** The methods a table describes, bound to one backend's raw exports. */
export function bindKernelTable<T>(table: KernelTable<T>, raw: RawExports, ctx: KernelContext): T {
  const methods: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [fn, entry] of Object.entries(table) as [string, KernelSpec<never>][]) {
    checkSpec(fn, entry, raw);
    const exported = raw[fn] as (...args: number[]) => number | undefined;
    const specs = entry.args as readonly ArgSpec[];
    methods[fn] = (...args: unknown[]) => {
      ctx.checkBackend(fn);
      const fail = (message: string): never => {
        throw new Error(`${fn}: ${message}`);
      };
      const values: KernelValues = {};
      const tensors: ResolvedTensor[] = [];
      const outputs: ResolvedTensor[] = [];
      specs.forEach((spec, k) => {
        const value = args[k];
        if (spec.kind === 'number') {
          const x = value as number;
          if (spec.finite && (typeof x !== 'number' || !Number.isFinite(x))) fail(`${spec.name} must be a finite number, got ${x}`);
          values[spec.name] = x;
          return;
        }
        if (spec.kind === 'flag') {
          values[spec.name] = value ? 1 : 0;
          return;
        }
        if (spec.kind === 'optionalVector' && value === null) {
          values[spec.name] = 0;
          values[spec.presentAs] = 0;
          return;
        }
        if (!(value instanceof tf.Tensor)) return fail(`${spec.name} must be a tf.Tensor`);
        if (spec.kind === 'matrix') {
          if (value.rank !== 2) fail(`${spec.name} must be rank 2, got shape ${shapeOf(value)}`);
          const [rows, cols] = value.shape as [number, number];
          const wanted = `[${values[spec.rows] ?? '*'}, ${values[spec.cols] ?? '*'}]`;
          if (!bindDim(values, spec.rows, rows) || !bindDim(values, spec.cols, cols)) {
            fail(`${spec.name} must have shape ${wanted}, got [${rows}, ${cols}]`);
          }
        } else if (spec.kind === 'sized') {
          const wanted = values[spec.size];
          if (!bindDim(values, spec.size, value.size)) fail(`${spec.name} must have ${wanted} elements, got ${value.size} (${shapeOf(value)})`);
        } else {
          const n = values[spec.length] ?? value.shape[0] ?? 0;
          const ok = (value.rank === 1 && value.shape[0] === n) || (value.rank === 2 && value.shape[0] === n && value.shape[1] === 1);
          if (!ok) fail(`${spec.name} must have shape [${n}] (or [${n}, 1]), got ${shapeOf(value)}`);
          values[spec.length] = n;
          if (spec.kind === 'optionalVector') values[spec.presentAs] = 1;
        }
        const resolved = ctx.resolve(fn, spec.name, value);
        values[spec.name] = resolved.off;
        tensors.push(resolved);
        if (spec.kind !== 'optionalVector' && spec.out) outputs.push(resolved);
      });
      entry.prepare?.(values, fail);
      // Each output must share no bytes with any other argument (inputs or outputs).
      for (const o of outputs) {
        if (o.bytes === 0) continue;
        for (const x of tensors) {
          if (x === o || x.bytes === 0) continue;
          if (o.off < x.off + x.bytes && x.off < o.off + o.bytes) {
            fail(`output ${o.name} overlaps ${x.name} in memory (they must be distinct tensors)`);
          }
        }
      }
      const result = exported(...entry.call.map((name) => values[name] as number));
      ctx.invalidate(outputs);
      return result;
    };
  }
  return methods as unknown as T;
}
