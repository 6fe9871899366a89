/**
 * The lower-bound baselines of claim C4 (models/baselines/, engine/baselines.ts):
 *   - their hand-written gradients (parameters and input) against central finite differences of
 *     a float64 reference written straight from each model's formula, away from the kinks;
 *   - the tangent model IS the network's first-order Taylor expansion at init: equal at W0, and
 *     an O(||W - W0||^2) error (the error ratio is about 4 when the step halves);
 *   - attacks stay in their balls on every baseline;
 *   - C4 at `quick` size: no baseline, trained clean or adversarially, is as robust at eps as
 *     the network after clean -> adversarial fine-tuning.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type TwoLayerModel } from '../../shared/config.ts';
import { presetByName } from '../../shared/presets.ts';
import type { RunResult } from '../../shared/result.ts';
import { pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { runBaselines, type BaselineResult } from '../../main/engine/baselines.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import type { TrainableBaseline } from '../../main/engine/models/baselines/baseline.ts';
import { QuadraticClassifier } from '../../main/engine/models/baselines/quadraticClassifier.ts';
import { LinearClassifier } from '../../main/engine/models/baselines/linearClassifier.ts';
import { RandomFeatures } from '../../main/engine/models/baselines/randomFeatures.ts';
import { TangentModel } from '../../main/engine/models/baselines/tangentModel.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { useWasm } from '../support/backend.ts';

const d = 6;
const m = 5;
const n = 7;
const rho = 0.3;

beforeAll(useWasm);

function modelSpec(mode: 'relative' | 'fixed', ratio = rho): TwoLayerModel {
  return resolveSparseCoding({ model: { kind: 'two-layer', width: m, threshold: { mode, ratio, value: 0.8 } } }).model;
}

/** The thresholds of a network W [m, d] in float64: rho ||w_i|| (relative) or the fixed value. */
function thresholdsOf(W: Float64Array, model: TwoLayerModel): Float64Array {
  return Float64Array.from({ length: m }, (_, i) => {
    if (model.threshold.mode !== 'relative') return model.threshold.value;
    let s = 0;
    for (let j = 0; j < d; j++) s += W[i * d + j]! ** 2;
    return model.threshold.ratio * Math.sqrt(s);
  });
}

function dot(W: ArrayLike<number>, i: number, x: ArrayLike<number>, s: number, dim = d): number {
  let u = 0;
  for (let j = 0; j < dim; j++) u += W[i * dim + j]! * x[s * dim + j]!;
  return u;
}

/** Network f(x_s; W) in float64: sum_i a s_b(<w_i, x>). */
function networkF(W: Float64Array, model: TwoLayerModel, a: number, x: ArrayLike<number>, s: number): number {
  const b = thresholdsOf(W, model);
  let f = 0;
  for (let i = 0; i < m; i++) {
    const u = dot(W, i, x, s);
    f += a * (Math.max(u - b[i]!, 0) - Math.max(-u - b[i]!, 0));
  }
  return f;
}

/** Tangent model f_lin(x_s; W) in float64, straight from f(x; W0) + <grad_W f(x; W0), W - W0>. */
function tangentF(W0: Float64Array, W: Float64Array, model: TwoLayerModel, a: number, x: ArrayLike<number>, s: number): number {
  const b0 = thresholdsOf(W0, model);
  let f = networkF(W0, model, a, x, s);
  for (let i = 0; i < m; i++) {
    const u0 = dot(W0, i, x, s);
    if (Math.abs(u0) <= b0[i]!) continue; // mask_i = 0: no gradient through this neuron
    const sigma = Math.sign(u0);
    let norm0 = 0;
    for (let j = 0; j < d; j++) norm0 += W0[i * d + j]! ** 2;
    norm0 = Math.sqrt(norm0);
    for (let j = 0; j < d; j++) {
      // d s_b(<w, x>)/dw_j = x_j - sigma * db/dw_j,  db/dw_j = rho w_j/||w|| (relative) or 0
      const dbdw = model.threshold.mode === 'relative' ? (model.threshold.ratio * W0[i * d + j]!) / norm0 : 0;
      f += a * (x[s * d + j]! - sigma * dbdw) * (W[i * d + j]! - W0[i * d + j]!);
    }
  }
  return f;
}

/** Smallest | |<w_i, x_s>| - b_i | over neurons and samples. */
function kinkDistance(W: Float64Array, model: TwoLayerModel, x: ArrayLike<number>, samples: number): number {
  const b = thresholdsOf(W, model);
  let smallest = Infinity;
  for (let s = 0; s < samples; s++) for (let i = 0; i < m; i++) smallest = Math.min(smallest, Math.abs(Math.abs(dot(W, i, x, s)) - b[i]!));
  return smallest;
}

const meanLoss = (f: (s: number) => number, y: Float64Array) => {
  let loss = 0;
  for (let s = 0; s < n; s++) loss += Math.log1p(Math.exp(-y[s]! * f(s))) / n;
  return loss;
};

function drawPoint(seed: number, model: TwoLayerModel) {
  for (let attempt = 0; ; attempt++) {
    const rng = RandomStream.derive(seed + 1000 * attempt, 'baseline-gradient-check');
    const W0 = Float64Array.from({ length: m * d }, () => rng.normal());
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    const y = Float64Array.from({ length: n }, () => rng.sign());
    const extra = Float64Array.from({ length: m * d }, () => 0.3 * rng.normal());
    if (kinkDistance(W0, model, x, n) > 0.02) return { W0, x, y, extra };
  }
}

/** The model's loss and parameter gradient (flattened) at (x, y), scale 1/n. */
function modelGradients(model: TrainableBaseline, x: Float64Array, y: Float64Array): { loss: number; grad: Float32Array } {
  const xs = tf.tensor2d(Float32Array.from(x), [n, d]);
  const ys = tf.tensor1d(Float32Array.from(y));
  const scale = tf.fill([n], 1 / n) as tf.Tensor1D;
  const { grads, loss } = model.gradients(xs, ys, scale);
  // Every parameter's gradient, flattened in order.
  const out = { loss: loss.dataSync()[0]!, grad: Float32Array.from(grads.flatMap((g) => Array.from(g.dataSync()))) };
  tf.dispose([xs, ys, scale, loss, ...grads]);
  return out;
}

/** The model's margins and input gradient of -margin at (x, y). */
function modelInputGradient(model: TrainableBaseline, x: Float64Array, y: Float64Array): { margin: Float32Array; gradient: Float32Array } {
  const session = model.openInputGradient();
  const { margin, gradient } = tf.tidy(() => session.marginGradient(tf.tensor2d(Float32Array.from(x), [n, d]), tf.tensor1d(Float32Array.from(y))));
  const out = { margin: Float32Array.from(margin.dataSync()), gradient: Float32Array.from(gradient.dataSync()) };
  tf.dispose([margin, gradient]);
  session.dispose();
  return out;
}

/** Central differences of `fn` at `p`, coordinate by coordinate. */
function centralDifferences(p: Float64Array, fn: (q: Float64Array) => number, h = 1e-6): Float64Array {
  return Float64Array.from(p, (_, k) => {
    const plus = Float64Array.from(p);
    const minus = Float64Array.from(p);
    plus[k]! += h;
    minus[k]! -= h;
    return (fn(plus) - fn(minus)) / (2 * h);
  });
}

/** Checks the parameter gradient and the input gradient of `model` against float64 `f(params, x, s)`. */
function checkGradients(model: TrainableBaseline, params: Float64Array, f: (params: Float64Array, x: ArrayLike<number>, s: number) => number, x: Float64Array, y: Float64Array) {
  const { loss, grad } = modelGradients(model, x, y);
  expect(Math.abs(loss - meanLoss((s) => f(params, x, s), y))).toBeLessThan(1e-5);
  const numeric = centralDifferences(params, (q) => meanLoss((s) => f(q, x, s), y));
  expect(grad.length).toBe(numeric.length);
  numeric.forEach((g, k) => expect(Math.abs(grad[k]! - g)).toBeLessThan(2e-4 + 1e-3 * Math.abs(g)));
  expect(numeric.some((g) => Math.abs(g) > 1e-3)).toBe(true); // not vacuous

  const { margin, gradient } = modelInputGradient(model, x, y);
  let nonZero = 0;
  for (let s = 0; s < n; s++) {
    expect(Math.abs(margin[s]! - y[s]! * f(params, x, s))).toBeLessThan(1e-4);
    const row = Float64Array.from(x.subarray(s * d, (s + 1) * d));
    const numericX = centralDifferences(row, (r) => -y[s]! * f(params, r, 0));
    numericX.forEach((g, j) => {
      expect(Math.abs(gradient[s * d + j]! - g)).toBeLessThan(1e-4 + 1e-4 * Math.abs(g));
      if (g !== 0) nonZero++;
    });
  }
  expect(nonZero).toBeGreaterThan(0);
}

describe('baseline gradients against finite differences (float64 references)', () => {
  it('linear classifier: dL/dv and d(-margin)/dx', () => {
    const { x, y, extra } = drawPoint(1, modelSpec('relative'));
    const v = extra.subarray(0, d).map((t) => t * 3);
    const model = new LinearClassifier(d, Float32Array.from(v));
    const f = (p: Float64Array, xs: ArrayLike<number>, s: number) => dot(p, 0, xs, s);
    checkGradients(model, Float64Array.from(v), f, x, y);
    model.dispose();
  });

  it('degree-2 polynomial: dL/dv, dL/dQ and d(-margin)/dx', () => {
    const { x, y, extra } = drawPoint(2, modelSpec('relative'));
    // A symmetric Q (the model keeps Q symmetric: its gradient is symmetric and it starts at 0).
    const v = Float64Array.from(extra.subarray(0, d));
    const Q = new Float64Array(d * d);
    const rngQ = RandomStream.derive(3, 'quadratic-q');
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) Q[i * d + j] = Q[j * d + i] = 0.2 * rngQ.normal();
    const model = new QuadraticClassifier(d);
    model.setParameters([tf.tensor2d(Float32Array.from(v), [1, d]), tf.tensor2d(Float32Array.from(Q), [d, d])]);
    const f = (p: Float64Array, xs: ArrayLike<number>, s: number) => {
      let out = 0;
      for (let i = 0; i < d; i++) {
        const xi = xs[s * d + i]!;
        out += p[i]! * xi;
        for (let j = 0; j < d; j++) out += p[d + i * d + j]! * xi * xs[s * d + j]!;
      }
      return out;
    };
    const params = new Float64Array(d + d * d);
    params.set(v, 0);
    params.set(Q, d);
    checkGradients(model, params, f, x, y);
    model.dispose();
  });

  it('random features: dL/da and d(-margin)/dx, first layer and thresholds frozen at init', () => {
    const spec = modelSpec('relative');
    const { W0, x, y, extra } = drawPoint(2, spec);
    const net = TwoLayerNet.fromWeights(spec, d, Float32Array.from(W0), null);
    const model = RandomFeatures.fromNetwork(net);
    net.dispose();
    const a = Float64Array.from(extra.subarray(0, m), (t) => 1 + 2 * t);
    model.setParameters([tf.tensor2d(Float32Array.from(a), [m, 1])]);
    const b = thresholdsOf(W0, spec);
    const f = (p: Float64Array, xs: ArrayLike<number>, s: number) => {
      let out = 0;
      for (let i = 0; i < m; i++) {
        const u = dot(W0, i, xs, s);
        out += p[i]! * (Math.max(u - b[i]!, 0) - Math.max(-u - b[i]!, 0));
      }
      return out;
    };
    checkGradients(model, a, f, x, y);
    model.dispose();
  });

  for (const mode of ['relative', 'fixed'] as const) {
    it(`tangent model (${mode} thresholds): dL/dW (threshold term included) and d(-margin)/dx at W != W0`, () => {
      const spec = modelSpec(mode);
      const { W0, x, y, extra } = drawPoint(3 + mode.length, spec);
      const net = TwoLayerNet.fromWeights(spec, d, Float32Array.from(W0), null);
      const model = TangentModel.fromNetwork(net);
      const a = net.outputWeight;
      net.dispose();
      const W = Float64Array.from(W0, (w, k) => w + extra[k]!);
      model.setParameters([tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(W), [m, d])))]);
      // The parameter is W^T [d, m]: compare against finite differences in that layout.
      const toT = (p: Float64Array) => Float64Array.from({ length: m * d }, (_, k) => p[(k % m) * d + Math.floor(k / m)]!);
      const fromT = (pt: Float64Array) => Float64Array.from({ length: m * d }, (_, k) => pt[(k % d) * m + Math.floor(k / d)]!);
      const f = (pt: Float64Array, xs: ArrayLike<number>, s: number) => tangentF(W0, fromT(pt), spec, a, xs, s);
      checkGradients(model, toT(W), f, x, y);
      model.dispose();
    });
  }
});

describe('the tangent model is the network\'s first-order Taylor expansion at init', () => {
  const spec = resolveSparseCoding({ model: { kind: 'two-layer', width: m } }).model; // relative, rho = 0.5
  const points = 12;
  const steps = [2e-2, 1e-2, 5e-3];

  /** W0, a direction R, and inputs whose activation pattern is the same at W0 and W0 + t R for every t used. */
  function setUp() {
    const rng = RandomStream.derive(11, 'taylor-check');
    const W0 = Float64Array.from({ length: m * d }, () => rng.normal());
    const R = Float64Array.from({ length: m * d }, () => rng.normal());
    const x = new Float64Array(points * d);
    const pattern = (W: Float64Array, row: Float64Array) => {
      const b = thresholdsOf(W, spec);
      return Array.from({ length: m }, (_, i) => Math.sign(dot(W, i, row, 0)) * (Math.abs(dot(W, i, row, 0)) > b[i]! ? 1 : 0)).join();
    };
    for (let s = 0; s < points; ) {
      const row = Float64Array.from({ length: d }, () => rng.normal());
      const same = [...steps, 1e-3].every((t) => pattern(Float64Array.from(W0, (w, k) => w + t * R[k]!), row) === pattern(W0, row));
      const active = pattern(W0, row).split(',').some((p) => p !== '0');
      if (same && active && kinkDistance(W0, spec, row, 1) > 0.1) x.set(row, d * s++);
    }
    return { W0, R, x };
  }

  function tangentAt(W0: Float64Array, W: Float64Array, x: Float64Array): { lin: Float32Array; net: Float32Array } {
    const net = TwoLayerNet.fromWeights(spec, d, Float32Array.from(W0), null);
    const model = TangentModel.fromNetwork(net);
    model.setParameters([tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(W), [m, d])))]);
    const xs = tf.tensor2d(Float32Array.from(x), [points, d]);
    const lin = model.forward(xs);
    const f0 = net.forward(xs);
    const out = { lin: Float32Array.from(lin.dataSync()), net: Float32Array.from(f0.dataSync()) };
    tf.dispose([xs, lin, f0]);
    model.dispose();
    net.dispose();
    return out;
  }

  it('f_lin(x; W0) = f(x; W0) exactly', () => {
    const { W0, x } = setUp();
    const { lin, net } = tangentAt(W0, W0, x);
    expect(Array.from(lin)).toEqual(Array.from(net));
  });

  it('f - f_lin = O(||W - W0||^2): the error shrinks about 4x when the step halves', () => {
    const { W0, R, x } = setUp();
    const errorAt = (t: number) => {
      const W = Float64Array.from(W0, (w, k) => w + t * R[k]!);
      const { lin } = tangentAt(W0, W, x);
      let sq = 0;
      let change = 0;
      for (let s = 0; s < points; s++) {
        sq += (lin[s]! - networkF(W, spec, 1, x, s)) ** 2;
        change += (networkF(W, spec, 1, x, s) - networkF(W0, spec, 1, x, s)) ** 2;
      }
      return { error: Math.sqrt(sq), change: Math.sqrt(change) };
    };
    const errors = steps.map((t) => errorAt(t).error);
    for (let k = 1; k < steps.length; k++) {
      const ratio = errors[k - 1]! / errors[k]!;
      expect(ratio).toBeGreaterThan(3.5);
      expect(ratio).toBeLessThan(4.5);
    }
    // At the scale 1e-3 the second-order error is at float32 rounding, far below the first-order change.
    const small = errorAt(1e-3);
    expect(small.error).toBeLessThan(1e-2 * small.change);
    expect(small.error).toBeLessThan(1e-5);
  });
});

/** A quadratic classifier with v and the symmetric part of M. */
function quadraticAt(v: Float32Array, M: Float32Array): QuadraticClassifier {
  const model = new QuadraticClassifier(d);
  const Q = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Q[i * d + j] = 0.5 * (M[i * d + j]! + M[j * d + i]!);
  model.setParameters([tf.tensor2d(v, [1, d]), tf.tensor2d(Q, [d, d])]);
  return model;
}

describe('attacks stay in their balls on every baseline', () => {
  const kinds = ['linear', 'quadratic', 'random-features', 'tangent'] as const;
  for (const kind of kinds) {
    it(`${kind}: PGD (l2 and linf, with a random start) moves no sample further than eps`, () => {
      const spec = modelSpec('relative');
      const { W0, extra } = drawPoint(20, spec);
      const net = TwoLayerNet.fromWeights(spec, d, Float32Array.from(W0), null);
      const model: TrainableBaseline =
        kind === 'linear'
          ? new LinearClassifier(d, Float32Array.from(extra.subarray(0, d)))
          : kind === 'quadratic'
            ? quadraticAt(Float32Array.from(extra.subarray(0, d)), Float32Array.from({ length: d * d }, (_, k) => 0.1 * Math.sin(k + 1)))
            : kind === 'random-features'
              ? RandomFeatures.fromNetwork(net)
              : TangentModel.fromNetwork(net);
      net.dispose();
      const rng = RandomStream.derive(5, 'ball-check');
      const rows = 40;
      const x = tf.tensor2d(Float32Array.from({ length: rows * d }, () => rng.normal()), [rows, d]);
      const y = tf.tensor1d(Float32Array.from({ length: rows }, () => rng.sign()));
      for (const norm of ['l2', 'linf'] as const) {
        for (const randomStart of [false, true]) {
          const eps = 0.3;
          const xAdv = pgdPerturb(model, x, y, { eps, norm, steps: 7, randomStart, rng });
          const dist = tf.tidy(() => (norm === 'l2' ? tf.sqrt(tf.sum(tf.square(tf.sub(xAdv, x)), 1)) : tf.max(tf.abs(tf.sub(xAdv, x)), 1)));
          const values = dist.dataSync();
          for (const v of values) expect(v).toBeLessThanOrEqual(eps * (1 + 1e-5));
          expect(Math.max(...values)).toBeGreaterThan(0.5 * eps); // the attack moved
          tf.dispose([xAdv, dist]);
        }
      }
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});

describe('C4 at quick size: no baseline is as robust as the fine-tuned network', () => {
  const config = resolveSparseCoding(presetByName('quick').config);
  let network: RunResult;
  let baselines: BaselineResult[];
  beforeAll(async () => {
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    network = await runExperiment(config, info, hooks); // the real quick fine-tune: 30 clean + 15 adversarial epochs
    baselines = await runBaselines(config); // 30 epochs each, clean and adversarial from scratch
  }, 600_000);

  it('the network becomes robust after clean -> adversarial fine-tuning (the reference point)', () => {
    expect(network.summary.final.robustAccuracy).toBeGreaterThan(network.summary.afterClean!.robustAccuracy + 0.04);
  });

  it('every baseline x training stays below the network\'s robust accuracy at the same eps', () => {
    expect(baselines.map((b) => `${b.kind}/${b.training}`)).toEqual([
      'linear/clean', 'linear/adversarial', 'quadratic/clean', 'quadratic/adversarial', 'random-features/clean', 'random-features/adversarial', 'tangent/clean', 'tangent/adversarial',
    ]);
    const final = network.summary.final;
    for (const b of baselines) {
      expect(b.evaluation.worstCase.eps).toContain(config.eval.eps);
      expect(Number.isFinite(b.finalLoss)).toBe(true);
      // The same attacks as the network: the headline PGD, and the worst case over all of them.
      expect(b.evaluation.attacks).toEqual(network.evaluations[1]!.attacks);
      expect(b.summary.robustAccuracy, `${b.kind}/${b.training} PGD`).toBeLessThan(final.robustAccuracy);
      expect(b.summary.worstCaseRobustAccuracy, `${b.kind}/${b.training} worst case`).toBeLessThan(final.worstCaseRobustAccuracy);
    }
  });

  it('the baselines learn the task clean (the lower bound is not a failure to train)', () => {
    const linear = baselines.find((b) => b.kind === 'linear' && b.training === 'clean')!;
    expect(linear.summary.cleanAccuracy).toBeGreaterThan(0.95);
    const tangent = baselines.find((b) => b.kind === 'tangent' && b.training === 'clean')!;
    expect(tangent.finalLoss).toBeLessThan(Math.log(2));
  });
});
