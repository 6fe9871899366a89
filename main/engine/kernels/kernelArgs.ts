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
export interface KernelValues {
  get(name: string): number;
  set(name: string, value: number): void;
}

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
  /** Drops tfjs-wasm's per-tensor caches (packed matMul operands) of a tensor written in place. */
  invalidate(output: ResolvedTensor): void;
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

/** A dimension's value before a tensor argument binds it (sizes are >= 0). */
const UNBOUND = -1;
const shown = (size: number): string => (size === UNBOUND ? '*' : String(size));

/** Argument kinds as small integers, for the per-call loop. */
const enum Kind {
  Matrix,
  Vector,
  OptionalVector,
  Sized,
  Number,
  Flag,
}

/**
 * An argument spec with its names replaced by slots of the method's value array. One shape for
 * every kind, so that the per-call loop reads its fields from a single object layout.
 */
interface CompiledArg {
  kind: Kind;
  name: string;
  slot: number;
  /** Matrix: the rows' dimension slot; vector: the length's; sized: the size's (else -1). */
  dimA: number;
  /** Matrix: the columns' dimension slot (else -1). */
  dimB: number;
  /** Optional vector: the presence flag's slot (else -1). */
  present: number;
  out: boolean;
  finite: boolean;
}

/** The most parameters a wrapper method takes. */
const MAX_ARGS = 10;

/**
 * One method from its spec. Every name (argument, dimension, derived value) has a slot in one
 * Float64Array made at bind time; the lists of tensors and outputs and the raw call's argument
 * list are made once and reused. A call runs to completion before the next can start, so nothing
 * is shared between calls in flight. (A first version kept the values in a record keyed by name
 * and cost 1-3 µs more per call than hand-written wrappers; a step makes 4-6 calls.)
 */
function bindMethod(fn: string, entry: KernelSpec<never>, exported: (...args: number[]) => number | undefined, ctx: KernelContext) {
  const specs = entry.args as readonly ArgSpec[];
  if (specs.length > MAX_ARGS) throw new Error(`fused kernels: ${fn} takes more than ${MAX_ARGS} arguments`);
  const dims = [...new Set(dimensionsOf(entry))];
  const names = [...specs.map((a) => a.name), ...dims, ...(entry.derived ?? [])];
  const slotOf = new Map(names.map((name, k) => [name, k]));
  const slot = (name: string): number => slotOf.get(name) as number;
  const values = new Float64Array(names.length);
  const dimSlots = dims.map(slot);
  const compiled: CompiledArg[] = specs.map((spec) => {
    const c: CompiledArg = { kind: Kind.Number, name: spec.name, slot: slot(spec.name), dimA: -1, dimB: -1, present: -1, out: false, finite: false };
    switch (spec.kind) {
      case 'matrix':
        return { ...c, kind: Kind.Matrix, dimA: slot(spec.rows), dimB: slot(spec.cols), out: spec.out };
      case 'vector':
        return { ...c, kind: Kind.Vector, dimA: slot(spec.length), out: spec.out };
      case 'optionalVector':
        return { ...c, kind: Kind.OptionalVector, dimA: slot(spec.length), present: slot(spec.presentAs) };
      case 'sized':
        return { ...c, kind: Kind.Sized, dimA: slot(spec.size), out: spec.out };
      case 'number':
        return { ...c, finite: spec.finite };
      default:
        return { ...c, kind: Kind.Flag };
    }
  });
  const callSlots = entry.call.map(slot);
  const callArgs = new Array<number>(callSlots.length).fill(0);
  // The resolved tensors of the call in flight (the first nTensors), and which are outputs.
  const tensors = new Array<ResolvedTensor | null>(specs.length).fill(null);
  const isOutput = new Array<boolean>(specs.length).fill(false);
  let nTensors = 0;
  const fail = (message: string): never => {
    throw new Error(`${fn}: ${message}`);
  };
  const named: KernelValues = {
    get: (name) => values[slot(name)] as number,
    set: (name, value) => {
      values[slot(name)] = value;
    },
  };
  /** Binds a dimension slot to `size`, or reports whether `size` matches its earlier binding. */
  const bind = (dim: number, size: number): boolean => {
    if (values[dim] === UNBOUND) {
      values[dim] = size;
      return true;
    }
    return values[dim] === size;
  };

  const run = (args: readonly unknown[]): unknown => {
    ctx.checkBackend(fn);
    for (const d of dimSlots) values[d] = UNBOUND;
    nTensors = 0;
    for (let k = 0; k < compiled.length; k++) {
      const c = compiled[k] as CompiledArg;
      const value = args[k];
      if (c.kind === Kind.Number) {
        const x = value as number;
        if (c.finite && (typeof x !== 'number' || !Number.isFinite(x))) fail(`${c.name} must be a finite number, got ${x}`);
        values[c.slot] = x;
        continue;
      }
      if (c.kind === Kind.Flag) {
        values[c.slot] = value ? 1 : 0;
        continue;
      }
      if (c.kind === Kind.OptionalVector && value === null) {
        values[c.slot] = 0;
        values[c.present] = 0;
        continue;
      }
      if (!(value instanceof tf.Tensor)) return fail(`${c.name} must be a tf.Tensor`);
      if (c.kind === Kind.Matrix) {
        if (value.rank !== 2) fail(`${c.name} must be rank 2, got shape ${shapeOf(value)}`);
        const rows = value.shape[0] as number;
        const cols = value.shape[1] as number;
        const wantRows = values[c.dimA] as number;
        const wantCols = values[c.dimB] as number;
        if (!bind(c.dimA, rows) || !bind(c.dimB, cols)) {
          fail(`${c.name} must have shape [${shown(wantRows)}, ${shown(wantCols)}], got [${rows}, ${cols}]`);
        }
      } else if (c.kind === Kind.Sized) {
        const wanted = values[c.dimA];
        if (!bind(c.dimA, value.size)) fail(`${c.name} must have ${wanted} elements, got ${value.size} (${shapeOf(value)})`);
      } else {
        const bound = values[c.dimA] as number;
        const n = bound === UNBOUND ? (value.shape[0] ?? 0) : bound;
        const ok = (value.rank === 1 && value.shape[0] === n) || (value.rank === 2 && value.shape[0] === n && value.shape[1] === 1);
        if (!ok) fail(`${c.name} must have shape [${n}] (or [${n}, 1]), got ${shapeOf(value)}`);
        values[c.dimA] = n;
        if (c.present >= 0) values[c.present] = 1;
      }
      const resolved = ctx.resolve(fn, c.name, value);
      values[c.slot] = resolved.off;
      isOutput[nTensors] = c.out;
      tensors[nTensors++] = resolved;
    }
    entry.prepare?.(named, fail);
    // Each output must share no bytes with any other argument (inputs or outputs).
    for (let i = 0; i < nTensors; i++) {
      const o = tensors[i] as ResolvedTensor;
      if (!isOutput[i] || o.bytes === 0) continue;
      for (let j = 0; j < nTensors; j++) {
        const x = tensors[j] as ResolvedTensor;
        if (j === i || x.bytes === 0) continue;
        if (o.off < x.off + x.bytes && x.off < o.off + o.bytes) {
          fail(`output ${o.name} overlaps ${x.name} in memory (they must be distinct tensors)`);
        }
      }
    }
    for (let k = 0; k < callSlots.length; k++) callArgs[k] = values[callSlots[k] as number] as number;
    const result = exported(...callArgs);
    for (let i = 0; i < nTensors; i++) if (isOutput[i]) ctx.invalidate(tensors[i] as ResolvedTensor);
    return result;
  };
  // Fixed parameters instead of a rest parameter: no arguments array per call.
  const argv = new Array<unknown>(MAX_ARGS).fill(undefined);
  return (a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown, a7?: unknown, a8?: unknown, a9?: unknown): unknown => {
    argv[0] = a0; argv[1] = a1; argv[2] = a2; argv[3] = a3; argv[4] = a4;
    argv[5] = a5; argv[6] = a6; argv[7] = a7; argv[8] = a8; argv[9] = a9;
    try {
      return run(argv);
    } finally {
      argv.fill(undefined); // hold no caller's tensor between calls
    }
  };
}

/** The methods a table describes, bound to one backend's raw exports. */
export function bindKernelTable<T>(table: KernelTable<T>, raw: RawExports, ctx: KernelContext): T {
  const methods: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [fn, entry] of Object.entries(table) as [string, KernelSpec<never>][]) {
    checkSpec(fn, entry, raw);
    methods[fn] = bindMethod(fn, entry, raw[fn] as (...args: number[]) => number | undefined, ctx);
  }
  return methods as unknown as T;
}
