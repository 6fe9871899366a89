/**
 * The generic kernel marshal (main/engine/kernels/kernelArgs.ts) on its own: a fake raw export
 * records what it is called with, a fake context hands out byte offsets, so the table semantics
 * (dimension binding, call order, outputs, overlap, load-time checks) are checked without wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bindKernelTable,
  finite,
  flag,
  matrix,
  number,
  optionalVector,
  output,
  sized,
  vector,
  type KernelContext,
  type KernelTable,
  type ResolvedTensor,
} from '../../main/engine/kernels/kernelArgs.ts';

interface Toy {
  step(U: tf.Tensor, b: tf.Tensor, a: number, G: tf.Tensor, dbl: tf.Tensor): number;
  update(param: tf.Tensor, grad: tf.Tensor, lr: number, t: number): void;
  activate(U: tf.Tensor, b: tf.Tensor | null, clip: boolean): void;
}

const table: KernelTable<Toy> = {
  step: {
    args: [matrix('U', 'B', 'm'), vector('b', 'm'), finite('a'), output(matrix('G', 'B', 'm')), output(vector('dbl', 'm'))],
    call: ['U', 'b', 'a', 'B', 'm', 'G', 'dbl'],
  },
  update: {
    args: [output(sized('param', 'n')), sized('grad', 'n'), finite('lr'), number('t')],
    call: ['param', 'grad', 'n', 'lr', 'half'],
    derived: ['half'],
    prepare(v, fail) {
      if (!Number.isInteger(v.get('t'))) fail(`t must be an integer, got ${v.get('t')}`);
      v.set('half', v.get('t') / 2);
    },
  },
  activate: {
    args: [output(matrix('U', 'N', 'm')), optionalVector('b', 'm', 'threshold'), flag('clip')],
    call: ['U', 'b', 'threshold', 'N', 'm', 'clip'],
  },
};

/** Raw exports that record their calls (wasm functions report their arity as `.length`). */
function recordingRaw(): { raw: Record<string, unknown>; calls: [string, number[]][] } {
  const calls: [string, number[]][] = [];
  const fake = (name: string, arity: number, result: number | undefined) => {
    const f = (...args: number[]) => {
      calls.push([name, args]);
      return result;
    };
    Object.defineProperty(f, 'length', { value: arity });
    return f;
  };
  return { raw: { step: fake('step', 7, 0.25), update: fake('update', 5, undefined), activate: fake('activate', 6, undefined) }, calls };
}

/** A context that places tensors at offsets given by the test, and records invalidations. */
function fakeContext(offsets: Map<tf.Tensor, number>): { ctx: KernelContext; invalidated: string[] } {
  const invalidated: string[] = [];
  const ctx: KernelContext = {
    checkBackend: () => undefined,
    resolve(fn, name, t): ResolvedTensor {
      const off = offsets.get(t);
      if (off === undefined) throw new Error(`${fn}: ${name} has no wasm memory`);
      return { name, off, bytes: t.size * 4, id: off, registeredSize: t.size };
    },
    invalidate(output) {
      invalidated.push(output.name);
    },
  };
  return { ctx, invalidated };
}

/** Tensors laid out one after another from byte 1024, as in a heap. */
function placed(...shapes: number[][]): { tensors: tf.Tensor[]; offsets: Map<tf.Tensor, number> } {
  const offsets = new Map<tf.Tensor, number>();
  let off = 1024;
  const tensors = shapes.map((shape) => {
    const t = tf.zeros(shape);
    offsets.set(t, off);
    off += t.size * 4;
    return t;
  });
  return { tensors, offsets };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('bindKernelTable', () => {
  it('passes offsets, bound dimensions and numbers in the order of `call`, and invalidates the outputs', () => {
    const { tensors, offsets } = placed([3, 5], [5], [3, 5], [5]);
    const [U, b, G, dbl] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const { raw, calls } = recordingRaw();
    const { ctx, invalidated } = fakeContext(offsets);
    const K = bindKernelTable(table, raw, ctx);
    expect(K.step(U, b, 0.5, G, dbl)).toBe(0.25);
    expect(calls).toEqual([['step', [1024, 1084, 0.5, 3, 5, 1104, 1164]]]);
    expect(invalidated).toEqual(['G', 'dbl']);
  });

  it('refuses a shape that disagrees with a dimension bound by an earlier argument, naming both', () => {
    const { tensors, offsets } = placed([3, 5], [4], [3, 5], [5], [5, 3]);
    const [U, b4, G, dbl, Gt] = tensors as tf.Tensor[] as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const K = bindKernelTable(table, recordingRaw().raw, fakeContext(offsets).ctx);
    expect(() => K.step(U, b4, 0.5, G, dbl)).toThrow('step: b must have shape [5] (or [5, 1]), got [4]');
    expect(() => K.step(U, dbl, 0.5, Gt, dbl)).toThrow('step: G must have shape [3, 5], got [5, 3]');
    expect(() => K.step(dbl, dbl, 0.5, G, dbl)).toThrow('step: U must be rank 2, got shape [5]');
    expect(() => K.step(U, dbl, Number.NaN, G, dbl)).toThrow('step: a must be a finite number, got NaN');
  });

  it('refuses an output that overlaps another argument', () => {
    const { tensors, offsets } = placed([3, 5], [5], [3, 5], [5]);
    const [U, b, G, dbl] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const { raw, calls } = recordingRaw();
    const K = bindKernelTable(table, raw, fakeContext(offsets).ctx);
    expect(() => K.step(U, b, 0.5, G, b)).toThrow('step: output dbl overlaps b in memory (they must be distinct tensors)');
    offsets.set(G, 1024 + 4); // G starts inside U (a view of the same memory)
    expect(() => K.step(U, b, 0.5, G, dbl)).toThrow('step: output G overlaps U in memory (they must be distinct tensors)');
    expect(calls).toEqual([]);
  });

  it('binds sizes of any shape, runs `prepare` for derived values and checks', () => {
    const { tensors, offsets } = placed([2, 3], [6], [7]);
    const [param, grad, wrong] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { raw, calls } = recordingRaw();
    const K = bindKernelTable(table, raw, fakeContext(offsets).ctx);
    K.update(param, grad, 0.1, 4);
    expect(calls).toEqual([['update', [1024, 1048, 6, 0.1, 2]]]);
    expect(() => K.update(param, wrong, 0.1, 4)).toThrow('update: grad must have 6 elements, got 7 ([7])');
    expect(() => K.update(param, grad, 0.1, 1.5)).toThrow('update: t must be an integer, got 1.5');
  });

  it('passes a null optional vector as offset 0 with its presence flag 0, and flags as 0 / 1', () => {
    const { tensors, offsets } = placed([2, 4], [4]);
    const [U, b] = tensors as [tf.Tensor, tf.Tensor];
    const { raw, calls } = recordingRaw();
    const K = bindKernelTable(table, raw, fakeContext(offsets).ctx);
    K.activate(U, null, false);
    K.activate(U, b, true);
    expect(calls).toEqual([
      ['activate', [1024, 0, 0, 2, 4, 0]],
      ['activate', [1024, 1056, 1, 2, 4, 1]],
    ]);
  });

  it('refuses at bind time a table that does not fit the exports', () => {
    const { ctx } = fakeContext(new Map());
    const { raw } = recordingRaw();
    expect(() => bindKernelTable(table, { ...raw, update: undefined }, ctx)).toThrow('fused kernels: the wasm has no export update');
    const short = Object.defineProperty(() => 0, 'length', { value: 6 });
    expect(() => bindKernelTable(table, { ...raw, step: short }, ctx)).toThrow('fused kernels: export step takes 6 parameters, the table passes 7');
    const typo: KernelTable<Pick<Toy, 'step'>> = { step: { ...table.step, call: ['U', 'b', 'a', 'B', 'M', 'G', 'dbl'] } };
    expect(() => bindKernelTable(typo, raw, ctx)).toThrow('fused kernels: step calls with unknown values M');
    const clash: KernelTable<Pick<Toy, 'step'>> = { step: { ...table.step, args: [matrix('U', 'B', 'b'), vector('b', 'b'), finite('a'), output(matrix('G', 'B', 'b')), output(vector('dbl', 'b'))] } };
    expect(() => bindKernelTable(clash, raw, ctx)).toThrow('fused kernels: step uses b as both an argument and a dimension');
  });
});
