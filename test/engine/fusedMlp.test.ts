/**
 * The image MLP on the fused wasm kernels: each kernel of the MLP's row layout against a plain
 * float64 JavaScript reference (and the margin and the softmax against the engine's own tfjs
 * versions, ties and all-equal rows included), then the fused MLP trainer against the generic one
 * (same weights and losses after 8 steps of SGD, SGD with momentum and Adam, ReLU and the
 * symmetric threshold, with a batch of another size in between), the fused input gradient and
 * PGD against the generic ones, and the optimiser state through a checkpoint round trip.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type MlpModel } from '../../shared/config.ts';
import { pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { createFusedImageTrainer, createFusedMlpTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { FUSED_WASM_URL, inspectFusedWasm, loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import { crossEntropy, marginAndGradient } from '../../main/engine/models/multiclassMargin.ts';
import { RandomStream } from '../../main/engine/random.ts';
import type { Trainer } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';

let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});

const at = (a: ArrayLike<number>, k: number): number => {
  const v = a[k];
  if (v === undefined) throw new Error(`index ${k} out of range`);
  return v;
};

/** |got - ref| <= rtol (|ref| + scale_k) for every k, with a readable failure. */
function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, scale: number | ArrayLike<number> = 0, rtol = 1e-6): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  for (let k = 0; k < ref.length; k++) {
    const s = typeof scale === 'number' ? scale : at(scale, k);
    const tol = rtol * (Math.abs(at(ref, k)) + s) + 1e-30;
    if (!(Math.abs(at(got, k) - at(ref, k)) <= tol)) throw new Error(`${name}[${k}]: got ${at(got, k)}, expected ${at(ref, k)} (tol ${tol})`);
  }
}

function expectEqual(name: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  for (let k = 0; k < ref.length; k++) {
    if (!Object.is(at(got, k), at(ref, k)) && !(at(got, k) === 0 && at(ref, k) === 0)) {
      throw new Error(`${name}[${k}]: got ${at(got, k)}, expected ${at(ref, k)}`);
    }
  }
}

function normals(rng: RandomStream, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  rng.fillNormal(out, std);
  return out;
}

const values = (t: tf.Tensor) => Float32Array.from(t.dataSync());

/** Shapes that leave tails everywhere: rows not a multiple of 4, hidden units not a multiple of 16 / 8 / 4. */
const shapes: [number, number, number][] = [
  [13, 37, 10],
  [8, 16, 3],
  [3, 5, 2],
];

describe('the MLP kernels', () => {
  it('are in the binary, which keeps the no-owned-memory contract', () => {
    const report = inspectFusedWasm(readFileSync(FUSED_WASM_URL));
    expect(report.problems).toEqual([]);
    for (const name of ['transposeInto', 'biasActivation', 'outputLogits', 'softmaxCrossEntropy', 'multiclassMarginGradient', 'outputLayerGradients', 'hiddenGradient', 'columnSums', 'signedColumnSums']) {
      expect(report.exports).toContain(name);
    }
  });

  it('transposeInto transposes exactly', () => {
    const rng = RandomStream.derive(1, 'transpose');
    for (const [r, c] of [[7, 5], [8, 12], [13, 4], [1, 9], [784, 20]] as const) {
      const a = normals(rng, r * c);
      const src = tf.tensor2d(a, [r, c]);
      const dst = tf.zeros([c, r]);
      kernels.transposeInto(src, dst);
      expectEqual(`transpose ${r}x${c}`, values(dst), values(tf.transpose(src)));
      tf.dispose([src, dst]);
    }
  });

  for (const threshold of [false, true]) {
    it(`biasActivation (${threshold ? 'symmetric threshold' : 'ReLU'}) equals the float32 definition`, () => {
      const rng = RandomStream.derive(2, 'bias-activation');
      for (const [N, m] of shapes) {
        const u = normals(rng, N * m);
        const c = normals(rng, m, 0.5);
        const b = Float32Array.from(normals(rng, m, 0.5), Math.abs);
        u[0] = -c[0]!; // exactly zero pre-activation
        const U = tf.tensor2d(u, [N, m]);
        const ct = tf.tensor1d(c);
        const bt = tf.tensor1d(b);
        kernels.biasActivation(U, ct, threshold ? bt : null);
        const ref = Array.from(u, (v, k) => {
          const t = Math.fround(v + at(c, k % m));
          return threshold ? Math.fround(t - Math.min(Math.max(t, -at(b, k % m)), at(b, k % m))) : Math.max(t, 0);
        });
        expectEqual('H', values(U), ref);
        tf.dispose([U, ct, bt]);
      }
    });
  }

  it('outputLogits: Z = H V + e', () => {
    const rng = RandomStream.derive(3, 'logits');
    for (const [N, m, C] of shapes) {
      const h = normals(rng, N * m);
      const v = normals(rng, m * C);
      const e = normals(rng, C);
      const H = tf.tensor2d(h, [N, m]);
      const V = tf.tensor2d(v, [m, C]);
      const VT = tf.zeros([C, m]);
      kernels.transposeInto(V, VT);
      const et = tf.tensor1d(e);
      const Z = tf.zeros([N, C]);
      kernels.outputLogits(H, VT, et, Z);
      const ref: number[] = [];
      const scale: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < C; k++) {
          let s = at(e, k);
          let sa = Math.abs(s);
          for (let i = 0; i < m; i++) {
            s += at(h, n * m + i) * at(v, i * C + k);
            sa += Math.abs(at(h, n * m + i) * at(v, i * C + k));
          }
          ref.push(s);
          scale.push(sa);
        }
      }
      expectClose('Z', values(Z), ref, scale);
      tf.dispose([H, V, VT, et, Z]);
    }
  });

  it('softmaxCrossEntropy: loss and dZ = s (softmax - onehot), stable at large logits, equal logits and odd labels', () => {
    const rng = RandomStream.derive(4, 'softmax');
    for (const [N, , C] of shapes) {
      const z = normals(rng, N * C, 3);
      const y = Float32Array.from({ length: N }, (_, n) => n % C);
      const s = Float32Array.from({ length: N }, () => rng.uniform());
      z.fill(0.25, 0, C); // all logits equal
      if (N > 2) {
        for (let k = 0; k < C; k++) z[C + k] = k === 0 ? 800 : -700; // overflow in a naive exp
        y[2] = C; // no such class: no target, as tf.oneHot gives
      }
      const Z = tf.tensor2d(z, [N, C]);
      const yt = tf.tensor1d(y);
      const st = tf.tensor1d(s);
      const loss = kernels.softmaxCrossEntropy(Z, yt, st);
      let refLoss = 0;
      const ref: number[] = [];
      for (let n = 0; n < N; n++) {
        const row = Array.from(z.subarray(n * C, (n + 1) * C));
        const mx = Math.max(...row);
        const se = row.reduce((acc, v) => acc + Math.exp(v - mx), 0);
        const label = at(y, n) < C ? at(y, n) : -1;
        if (label >= 0) refLoss += at(s, n) * (mx + Math.log(se) - at(row, label));
        row.forEach((v, k) => ref.push(at(s, n) * (Math.exp(v - mx) / se - (k === label ? 1 : 0))));
      }
      expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(refLoss)) + 1e-6 * Math.abs(refLoss));
      expectClose('dZ', values(Z), ref, at(s, 0) * 1e-2);
      // and the engine's tfjs version agrees
      const Z2 = tf.tensor2d(z, [N, C]);
      const generic = crossEntropy(Z2, yt, st);
      expectClose('dZ vs crossEntropy', values(Z), values(generic.dz), 1e-6, 1e-5);
      expect(Math.abs(loss - generic.loss.dataSync()[0]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(loss)));
      tf.dispose([Z, Z2, yt, st, generic.dz, generic.loss]);
    }
  });

  it('multiclassMarginGradient equals the tfjs margin exactly, ties and all-equal rows included', () => {
    const rng = RandomStream.derive(5, 'margin');
    for (const [N, , C] of shapes) {
      // Small integers so that ties are frequent.
      const z = Float32Array.from({ length: N * C }, () => Math.floor(rng.uniform() * 3));
      const y = Float32Array.from({ length: N }, (_, n) => n % C);
      z.fill(1, 0, C); // all logits equal: margin 0, runner-up the first other class
      if (N > 1) {
        // y_1 = 1 (of C >= 2): the true class tied with the runner-up, class 0
        for (let k = 0; k < C; k++) z[C + k] = k <= 1 ? 2 : 0;
      }
      const Z = tf.tensor2d(z, [N, C]);
      const yt = tf.tensor1d(y);
      const margin = tf.zeros([N]);
      kernels.multiclassMarginGradient(Z, yt, margin);
      const Z2 = tf.tensor2d(z, [N, C]);
      const generic = marginAndGradient(Z2, yt);
      expectEqual('margin', values(margin), values(generic.margin));
      expectEqual('dZ', values(Z), values(generic.dz));
      const m = values(margin);
      expect(m[0]).toBe(0);
      if (N > 1) expect(m[1]).toBe(0);
      // a plain reference too
      for (let n = 0; n < N; n++) {
        const row = Array.from(z.subarray(n * C, (n + 1) * C));
        const label = at(y, n);
        let best = -1;
        row.forEach((v, k) => {
          if (k !== label && (best < 0 || v > at(row, best))) best = k;
        });
        expect(at(m, n)).toBe(at(row, label) - at(row, best));
        const dz = values(Z).subarray(n * C, (n + 1) * C);
        expect(Array.from(dz, (v, k) => (k === best ? 1 : k === label ? -1 : 0)).every((v, k) => v === dz[k])).toBe(true);
      }
      tf.dispose([Z, Z2, yt, margin, generic.margin, generic.dz]);
    }
  });

  it('outputLayerGradients: dV = H^T dZ, de = sum_n dZ', () => {
    const rng = RandomStream.derive(6, 'output-gradients');
    for (const [N, m, C] of shapes) {
      const h = Float32Array.from(normals(rng, N * m), (v) => Math.max(v, 0));
      const dz = normals(rng, N * C);
      const H = tf.tensor2d(h, [N, m]);
      const dZ = tf.tensor2d(dz, [N, C]);
      const dV = tf.zeros([m, C]);
      const de = tf.zeros([C]);
      kernels.outputLayerGradients(H, dZ, dV, de);
      const ref: number[] = [];
      const scale: number[] = [];
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < C; k++) {
          let s = 0;
          let sa = 0;
          for (let n = 0; n < N; n++) {
            s += at(h, n * m + i) * at(dz, n * C + k);
            sa += Math.abs(at(h, n * m + i) * at(dz, n * C + k));
          }
          ref.push(s);
          scale.push(sa);
        }
      }
      expectClose('dV', values(dV), ref, scale);
      const refE = Array.from({ length: C }, (_, k) => Array.from({ length: N }, (_, n) => at(dz, n * C + k)).reduce((a, b) => a + b, 0));
      const scaleE = Array.from({ length: C }, (_, k) => Array.from({ length: N }, (_, n) => Math.abs(at(dz, n * C + k))).reduce((a, b) => a + b, 0));
      expectClose('de', values(de), refE, scaleE);
      tf.dispose([H, dZ, dV, de]);
    }
  });

  it('hiddenGradient: dU = (dZ V^T) * [H != 0], zero entries of dZ skipped', () => {
    const rng = RandomStream.derive(7, 'hidden-gradient');
    for (const [N, m, C] of shapes) {
      const h = Float32Array.from(normals(rng, N * m), (v) => (v < 0 ? 0 : v));
      h[1] = -0;
      const dz = Float32Array.from(normals(rng, N * C), (v) => (Math.abs(v) < 0.5 ? 0 : v));
      dz.fill(0, 0, C); // a row with no gradient at all
      const v = normals(rng, m * C);
      const H = tf.tensor2d(h, [N, m]);
      const dZ = tf.tensor2d(dz, [N, C]);
      const V = tf.tensor2d(v, [m, C]);
      const VT = tf.zeros([C, m]);
      kernels.transposeInto(V, VT);
      const dU = tf.fill([N, m], 7);
      kernels.hiddenGradient(H, dZ, VT, dU);
      const ref: number[] = [];
      const scale: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < m; i++) {
          let s = 0;
          let sa = 0;
          for (let k = 0; k < C; k++) {
            s += at(dz, n * C + k) * at(v, i * C + k);
            sa += Math.abs(at(dz, n * C + k) * at(v, i * C + k));
          }
          const on = at(h, n * m + i) !== 0;
          ref.push(on ? s : 0);
          scale.push(on ? sa : 0);
        }
      }
      expectClose('dU', values(dU), ref, scale);
      tf.dispose([H, dZ, V, VT, dU]);
    }
  });

  it('columnSums and signedColumnSums', () => {
    const rng = RandomStream.derive(8, 'column-sums');
    for (const [N, m] of [...shapes.map(([N, m]) => [N, m] as const), [128, 256] as const]) {
      const a = normals(rng, N * m);
      const s = normals(rng, N * m);
      const A = tf.tensor2d(a, [N, m]);
      const S = tf.tensor2d(s, [N, m]);
      const out = tf.zeros([m]);
      const sums = (signed: boolean) => {
        const ref: number[] = [];
        const scale: number[] = [];
        for (let i = 0; i < m; i++) {
          let acc = 0;
          let abs = 0;
          for (let n = 0; n < N; n++) {
            acc += signed ? at(a, n * m + i) * Math.sign(at(s, n * m + i)) : at(a, n * m + i);
            abs += Math.abs(at(a, n * m + i));
          }
          ref.push(acc);
          scale.push(abs);
        }
        return { ref, scale };
      };
      kernels.columnSums(A, out);
      const plain = sums(false);
      expectClose('columnSums', values(out), plain.ref, plain.scale);
      kernels.signedColumnSums(A, S, out);
      const signed = sums(true);
      expectClose('signedColumnSums', values(out), signed.ref, signed.scale);
      tf.dispose([A, S, out]);
    }
  });

  it('allocate nothing and reject bad shapes and overlapping outputs', () => {
    const H = tf.randomNormal([6, 8]);
    const VT = tf.randomNormal([3, 8]);
    const e = tf.zeros([3]);
    const Z = tf.zeros([6, 3]);
    const before = tf.memory().numTensors;
    kernels.outputLogits(H, VT, e, Z);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => kernels.outputLogits(H, VT, e, tf.zeros([6, 4]))).toThrow(/Z must have shape/);
    expect(() => kernels.transposeInto(H, H)).toThrow(/dst must have shape|overlaps/);
    const one = tf.zeros([6, 1]);
    expect(() => kernels.multiclassMarginGradient(one, tf.zeros([6]), tf.zeros([6]))).toThrow(/at least two classes/);
    tf.dispose([H, VT, e, Z, one]);
  });
});

// ------------------------------------------------------------------------------------------------
// The fused MLP trainer and input gradient against the generic ones

const picture = { height: 8, width: 8, channels: 1 }; // d = 64
const d = 64;
const width = 20; // not a multiple of 8: every kernel's tail runs
const classes = 10;

function mlpSpec(activation: MlpModel['activation']): MlpModel {
  return { kind: 'mlp', width, activation, thresholdRatio: 0.05, initScale: 1 };
}

function configFor(activation: MlpModel['activation'], optimizer: Record<string, unknown>) {
  return resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: mlpSpec(activation), train: { batchSize: 30, optimizer } });
}

interface Batch {
  x: tf.Tensor2D;
  xT: tf.Tensor2D;
  y: tf.Tensor1D;
  scale: tf.Tensor1D;
}

function batches(seed: number): Batch[] {
  const rng = RandomStream.derive(seed, 'fused-mlp-batches');
  // A full batch and a smaller last one, as an epoch has.
  return [30, 17, 30, 30, 17, 30, 30, 17].map((n) => {
    const xv = Float32Array.from({ length: n * d }, () => rng.uniform());
    const x = tf.tensor2d(xv, [n, d]);
    return {
      x,
      xT: tf.transpose(x) as tf.Tensor2D,
      y: tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes))),
      scale: tf.fill([n], 1 / n) as tf.Tensor1D,
    };
  });
}

function disposeBatches(list: Batch[]): void {
  for (const b of list) tf.dispose([b.x, b.xT, b.y, b.scale]);
}

function flatOf(model: Mlp): Float32Array[] {
  return model.exportParameters().map((t) => t.data);
}

/** Parameters agree to `rtol` of each tensor's largest entry. */
function expectSameParameters(name: string, got: Float32Array[], ref: Float32Array[], rtol = 1e-5): void {
  got.forEach((g, p) => {
    const r = ref[p]!;
    const big = r.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
    let worst = 0;
    for (let k = 0; k < r.length; k++) worst = Math.max(worst, Math.abs(at(g, k) - at(r, k)));
    expect(worst, `${name}, parameter ${p}: max |difference| ${worst} vs largest entry ${big}`).toBeLessThanOrEqual(rtol * big);
  });
}

const optimizers: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.5 }],
  ['SGD with momentum', { lr: 0.2, momentum: 0.9 }],
  ['Adam', { kind: 'adam', lr: 0.003 }],
];

describe('the fused MLP trainer', () => {
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    for (const [name, optimizer] of optimizers) {
      it(`${activation}, ${name}: the same weights and losses as the generic trainer after 8 steps`, () => {
        const config = configFor(activation, optimizer);
        const generic = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
        const fused = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
        const g = createImageTrainer(generic, config);
        const f = createFusedImageTrainer(fused, config, kernels); // chooses the MLP's fused trainer
        const data = batches(1);
        const lr = (optimizer.lr as number);
        const before = tf.memory().numTensors;
        for (const b of data) {
          g.step(b.x, b.xT, b.y, b.scale, lr);
          f.step(b.x, b.xT, b.y, b.scale, lr);
        }
        // The fused step allocates its workspace once (two batch sizes), then nothing per step.
        const afterEight = tf.memory().numTensors;
        f.step(data[0]!.x, data[0]!.xT, data[0]!.y, data[0]!.scale, 0);
        f.step(data[1]!.x, data[1]!.xT, data[1]!.y, data[1]!.scale, 0);
        expect(tf.memory().numTensors).toBe(afterEight);
        expect(afterEight - before).toBeLessThan(40);
        const lossG = g.takeLoss();
        const lossF = f.takeLoss();
        // The two extra steps (lr 0) add their loss to the fused sum: take the generic's too.
        g.step(data[0]!.x, data[0]!.xT, data[0]!.y, data[0]!.scale, 0);
        g.step(data[1]!.x, data[1]!.xT, data[1]!.y, data[1]!.scale, 0);
        const lossG2 = lossG + g.takeLoss();
        expect(Math.abs(lossF - lossG2)).toBeLessThan(1e-5 * lossG2);
        expectSameParameters(`${activation} ${name}`, flatOf(fused), flatOf(generic));
        // The weights moved (the comparison is not between two untouched inits).
        const init = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
        expect(flatOf(fused)[0]!.some((v, k) => Math.abs(v - flatOf(init)[0]![k]!) > 1e-4)).toBe(true);
        init.dispose();
        g.dispose();
        f.dispose();
        generic.dispose();
        fused.dispose();
        disposeBatches(data);
      });
    }
  }

  for (const [name, optimizer] of optimizers.slice(1)) {
    it(`${name}: the optimiser state survives a checkpoint round trip, in the generic format`, () => {
      const config = configFor('relu', optimizer);
      const lr = optimizer.lr as number;
      const data = batches(2);
      const original = Mlp.initialise(config.model as MlpModel, picture, classes, 12);
      const f = createFusedMlpTrainer(original, config, kernels);
      for (const b of data.slice(0, 4)) f.step(b.x, b.xT, b.y, b.scale, lr);
      const state = f.exportState();
      // The generic format: t and the moments per parameter index, in the parameters' shapes.
      expect(state.t).toBe(4);
      const keys = original.parameters().flatMap((p, i) => (optimizer.kind === 'adam' ? [`first.${i}`, `second.${i}`] : [`first.${i}`]));
      expect(Object.keys(state.tensors).sort()).toEqual(keys.sort());
      original.parameters().forEach((p, i) => expect(state.tensors[`first.${i}`]!.length).toBe(p.size));
      const weights = Float32Array.from(original.exportParameters().flatMap((t) => Array.from(t.data)));
      // Resume in a fresh model and trainer (fused), and in the generic trainer.
      const resumed = Mlp.fromFlat(config.model as MlpModel, picture, classes, weights);
      const r = createFusedMlpTrainer(resumed, config, kernels);
      r.importState(state);
      const genericModel = Mlp.fromFlat(config.model as MlpModel, picture, classes, weights);
      const g = createImageTrainer(genericModel, config);
      g.importState(state);
      for (const b of data.slice(4)) {
        for (const t of [f, r, g] as Trainer[]) t.step(b.x, b.xT, b.y, b.scale, lr);
      }
      const expected = flatOf(original);
      flatOf(resumed).forEach((values, p) => expectEqual(`resumed parameter ${p}`, values, expected[p]!));
      expectSameParameters('generic resumed from the fused state', flatOf(genericModel), expected);
      // And the generic trainer's state resumes the fused one.
      const back = Mlp.fromFlat(config.model as MlpModel, picture, classes, Float32Array.from(genericModel.exportParameters().flatMap((t) => Array.from(t.data))));
      const fb = createFusedMlpTrainer(back, config, kernels);
      fb.importState(g.exportState());
      const b = data[0]!;
      fb.step(b.x, b.xT, b.y, b.scale, lr);
      g.step(b.x, b.xT, b.y, b.scale, lr);
      expectSameParameters('fused resumed from the generic state', flatOf(back), flatOf(genericModel));
      for (const t of [f, r, g, fb]) t.dispose();
      for (const model of [original, resumed, genericModel, back]) model.dispose();
      disposeBatches(data);
    });
  }
});

describe('the fused MLP input gradient', () => {
  for (const activation of ['relu', 'symmetric-threshold'] as const) {
    it(`${activation}: margins and gradients equal the generic session's`, () => {
      const model = Mlp.initialise(mlpSpec(activation), picture, classes, 13);
      const rng = RandomStream.derive(9, 'fused-mlp-input');
      const n = 23;
      const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.uniform()), [n, d]);
      const y = tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes)));
      const generic = model.openInputGradient(null);
      const fused = model.openInputGradient(kernels);
      const a = generic.marginGradient(x, y);
      // As pgdAttack calls it: inside a tidy. The first call makes the session's workspace, which
      // must survive the tidy; later calls allocate only what they return.
      tf.dispose(Object.values(tf.tidy(() => fused.marginGradient(x, y))));
      const before = tf.memory().numTensors;
      const b = tf.tidy(() => fused.marginGradient(x, y));
      expect(tf.memory().numTensors).toBe(before + 2);
      const big = Math.max(...Array.from(a.gradient.dataSync(), Math.abs));
      // A margin is a difference of logits: its error scales with theirs.
      const logits = model.predict(x);
      const logitScale = Math.max(...Array.from(logits.dataSync(), Math.abs));
      logits.dispose();
      expectClose('margin', values(b.margin), values(a.margin), logitScale, 1e-5);
      expectClose('gradient', values(b.gradient), values(a.gradient), big, 1e-5);
      // The session's workspace survived the tidy: a second call still works.
      const c = fused.marginGradient(x, y);
      expectEqual('second call', values(c.gradient), values(b.gradient));
      tf.dispose([a.margin, a.gradient, b.margin, b.gradient, c.margin, c.gradient, x, y]);
      generic.dispose();
      fused.dispose();
      model.dispose();
    });

    it(`${activation}: PGD (l2 and linf, clipped) and the trainer's attack equal the generic ones`, () => {
      const config = configFor(activation, { lr: 0.1 });
      const model = Mlp.initialise(config.model as MlpModel, picture, classes, 14);
      const rng = RandomStream.derive(10, 'fused-mlp-pgd');
      const n = 30;
      const xv = Float32Array.from({ length: n * d }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
      const x = tf.tensor2d(xv, [n, d]);
      const y = tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes)));
      for (const norm of ['linf', 'l2'] as const) {
        const eps = norm === 'linf' ? 0.1 : 1;
        const options = { eps, norm, steps: 7, randomStart: false, clip: [0, 1] as const };
        model.pgdKernels = null;
        const a = pgdPerturb(model, x, y, options);
        model.pgdKernels = kernels;
        const b = pgdPerturb(model, x, y, options);
        expectClose(`${norm} PGD`, values(b), values(a), 1, 1e-4);
        tf.dispose([a, b]);
      }
      // The fused trainer attacks with the fused session even when the model has no pgdKernels.
      model.pgdKernels = null;
      const generic = createImageTrainer(model, config);
      const attack = { eps: 0.1, norm: 'linf' as const, steps: 5, stepSize: null, randomStart: false, clip: [0, 1] as const, rng };
      const a = generic.perturb(x, y, attack);
      const f = createFusedMlpTrainer(model, config, kernels);
      const b = f.perturb(x, y, attack);
      expectClose('trainer attack', values(b), values(a), 1, 1e-4);
      tf.dispose([a, b, x, y]);
      generic.dispose();
      f.dispose();
      model.dispose();
    });
  }
});
