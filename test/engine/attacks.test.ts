/**
 * Attacks against the maths: outputs inside the norm ball and the data range, PGD below a random
 * point of the same sphere, FGM equal to its closed form on a linear model and to the step along
 * an independently computed gradient on the thresholded one, the mixture direction exact,
 * zero-gradient samples left in place and counted, a whole eps grid in one call equal to one call
 * per radius, and argument checks that name the bad argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { fgmAttack, fgmPerturb } from '../../main/engine/attacks/fgm.ts';
import { mixtureDirectionAttack } from '../../main/engine/attacks/mixtureDirection.ts';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';

const d = 10;
const m = 8;
const n = 40;

function net(mode: 'relative' | 'fixed', ratio = 0.3, value = 0, seed = 1): TwoLayerNet {
  const model = resolveSparseCoding({ model: { kind: 'two-layer', width: m, threshold: { mode, ratio, value } } }).model;
  return TwoLayerNet.initialise(model, d, seed);
}

function batch(seed: number, lo = -1, hi = 1) {
  const rng = RandomStream.derive(seed, 'attack-test');
  const x = Float32Array.from({ length: n * d }, () => lo + (hi - lo) * rng.uniform());
  const y = Float32Array.from({ length: n }, () => rng.sign());
  return { x, y, xt: tf.tensor2d(x, [n, d]), yt: tf.tensor1d(y) };
}

function rowNorms(a: Float32Array | Float64Array, rows: number, cols: number, norm: 'l2' | 'linf'): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let j = 0; j < cols; j++) s = norm === 'l2' ? s + a[r * cols + j]! ** 2 : Math.max(s, Math.abs(a[r * cols + j]!));
    return norm === 'l2' ? Math.sqrt(s) : s;
  });
}

beforeAll(useWasm);

describe('PGD and FGM stay inside the ball and the data range', () => {
  for (const norm of ['l2', 'linf'] as const) {
    for (const clip of [null, [0, 1] as const]) {
      it(`${norm}, ${clip ? 'clipped to [0, 1]' : 'unclipped'}, with random start`, () => {
        const model = net('relative');
        const { x, xt, yt } = clip ? batch(2, 0, 1) : batch(2);
        const eps = norm === 'l2' ? 0.5 : 0.1;
        const adv = pgdPerturb(model, xt, yt, { eps, norm, steps: 7, randomStart: true, clip, rng: RandomStream.derive(3, 'start') });
        const values = adv.dataSync() as Float32Array;
        const delta = values.map((v, i) => v - x[i]!);
        for (const size of rowNorms(delta, n, d, norm)) expect(size).toBeLessThanOrEqual(eps * (1 + 1e-5) + 1e-6);
        if (clip) for (const v of values) expect(v >= 0 && v <= 1).toBe(true);
        // The attack moved something: it is not a no-op.
        expect(Math.max(...rowNorms(delta, n, d, norm))).toBeGreaterThan(eps * 0.5);
        tf.dispose([adv, xt, yt]);
        model.dispose();
      });
    }
  }

  it('PGD lowers the margin more than a random point on the sphere does', () => {
    const model = net('relative');
    const { x, xt, yt } = batch(4);
    const eps = 0.5;
    const result = pgdAttack(model, xt, yt, { eps: [0, eps], norm: 'l2', steps: 10 });
    const clean = result.margins[0]!;
    const attacked = result.margins[1]!;
    // One uniformly random direction per sample (a normalised Gaussian), scaled to the sphere.
    const rng = RandomStream.derive(4, 'random-direction');
    const noisy = new Float32Array(n * d);
    for (let s = 0; s < n; s++) {
      const u = Array.from({ length: d }, () => rng.normal());
      const norm = Math.hypot(...u);
      for (let j = 0; j < d; j++) noisy[s * d + j] = x[s * d + j]! + (eps * u[j]!) / norm;
    }
    const noisyT = tf.tensor2d(noisy, [n, d]);
    const random = model.margins(noisyT, yt).dataSync();
    let below = 0;
    let pgdDrop = 0;
    let randomDrop = 0;
    for (let i = 0; i < n; i++) {
      if (attacked[i]! < random[i]! - 1e-6) below++;
      pgdDrop += clean[i]! - attacked[i]!;
      randomDrop += Math.abs(clean[i]! - random[i]!);
    }
    // Per sample, PGD ends below the random point on the same sphere; on average it moves the
    // margin several times as far (a random direction in d = 10 catches about 1/sqrt(d) of the gradient).
    expect(below).toBeGreaterThanOrEqual(n * 0.9);
    expect(pgdDrop).toBeGreaterThan(2 * randomDrop);
    tf.dispose([xt, yt, noisyT]);
    model.dispose();
  });
});

describe('FGM on a linear model equals its closed form', () => {
  // rho = 0 makes s_b the identity: f(x) = a <sum_i w_i, x> = <v, x>, so the gradient of the
  // negative margin is -y v, and FGM gives delta = -y eps v/||v|| (l2), -y eps sign(v) (linf).
  for (const norm of ['l2', 'linf'] as const) {
    it(norm, () => {
      const model = net('relative', 0);
      const W = model.weights();
      const v = new Float64Array(d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) v[j]! += W[i * d + j]!;
      const vNorm = Math.sqrt(v.reduce((s, t) => s + t * t, 0));
      const { x, y, xt, yt } = batch(5);
      const eps = 0.3;
      const adv = fgmPerturb(model, xt, yt, { eps, norm }).dataSync() as Float32Array;
      for (let s = 0; s < n; s++)
        for (let j = 0; j < d; j++) {
          const expected = x[s * d + j]! - y[s]! * eps * (norm === 'l2' ? v[j]! / vNorm : Math.sign(v[j]!));
          expect(adv[s * d + j]!).toBeCloseTo(expected, 5);
        }
      tf.dispose([xt, yt]);
      model.dispose();
    });
  }
});

describe('FGM on the thresholded network steps along its input gradient', () => {
  // f(x) = a sum_i s_b(<w_i, x>) with b_i = rho ||w_i||; the gradient of the negative margin is
  // g = -y a sum_i 1[|<w_i, x>| > b_i] w_i, computed here in float64 from the weights, apart from
  // the engine. FGM must step exactly to eps g/||g|| (l2) or eps sign(g) (linf), and its margins
  // over an eps grid are those of f at x + that step.
  for (const norm of ['l2', 'linf'] as const) {
    it(norm, () => {
      const model = net('relative', 0.3);
      const W = model.weights();
      const b = Array.from({ length: m }, (_, i) => 0.3 * Math.hypot(...W.subarray(i * d, (i + 1) * d)));
      const a = model.outputWeight;
      const { x, y, xt, yt } = batch(11);
      const pre = (v: ArrayLike<number>, s: number, i: number) => {
        let u = 0;
        for (let j = 0; j < d; j++) u += W[i * d + j]! * v[s * d + j]!;
        return u;
      };
      const f = (v: ArrayLike<number>, s: number) => {
        let sum = 0;
        for (let i = 0; i < m; i++) {
          const u = pre(v, s, i);
          sum += u - Math.min(Math.max(u, -b[i]!), b[i]!);
        }
        return a * sum;
      };
      const step = (s: number): number[] => {
        const g = new Array<number>(d).fill(0);
        for (let i = 0; i < m; i++) {
          if (Math.abs(pre(x, s, i)) <= b[i]!) continue;
          for (let j = 0; j < d; j++) g[j]! += -y[s]! * a * W[i * d + j]!;
        }
        const size = Math.hypot(...g);
        if (size === 0) return g; // a zero gradient leaves the sample in place
        return g.map((v) => (norm === 'l2' ? v / size : Math.sign(v)));
      };
      const eps = 0.3;
      const adv = fgmPerturb(model, xt, yt, { eps, norm }).dataSync() as Float32Array;
      let moved = 0;
      for (let s = 0; s < n; s++) {
        const dir = step(s);
        if (dir.some((v) => v !== 0)) moved++;
        for (let j = 0; j < d; j++) expect(adv[s * d + j]! - x[s * d + j]!).toBeCloseTo(eps * dir[j]!, 5);
      }
      expect(moved).toBeGreaterThan(n / 2); // most samples have a gradient to follow
      const grid = [0, 0.1, 0.3];
      const result = fgmAttack(model, xt, yt, { eps: grid, norm });
      grid.forEach((e, k) => {
        for (let s = 0; s < n; s++) {
          const dir = step(s);
          const stepped = Float64Array.from({ length: n * d }, (_, idx) => x[idx]! + (Math.floor(idx / d) === s ? e * dir[idx % d]! : 0));
          expect(result.margins[k]![s]!).toBeCloseTo(y[s]! * f(stepped, s), 4);
        }
      });
      tf.dispose([xt, yt]);
      model.dispose();
    });
  }
});

describe('the mixture-direction attack', () => {
  it('moves every sample by exactly -y eps u', () => {
    const model = net('relative', 0);
    const { x, y, xt, yt } = batch(6);
    const u = new Float32Array(d);
    u[0] = 0.6;
    u[3] = -0.8;
    const eps = 0.25;
    const result = mixtureDirectionAttack(model, xt, yt, { eps: [eps], direction: u });
    // On the linear model the margin moves by -eps <v, u> for every sample.
    const W = model.weights();
    let vu = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) vu += W[i * d + j]! * u[j]!;
    const clean = model.margins(xt, yt).dataSync();
    for (let s = 0; s < n; s++) expect(result.margins[0]![s]!).toBeCloseTo(clean[s]! - eps * vu, 4);
    void x;
    void y;
    tf.dispose([xt, yt]);
    model.dispose();
  });
});

describe('zero input gradients', () => {
  it('a sample with every neuron silent is left in place and counted', () => {
    const model = net('fixed', 0, 1e6); // b huge: every neuron silent, f = 0, gradient 0
    const { x, xt, yt } = batch(7);
    const adv = pgdPerturb(model, xt, yt, { eps: 0.5, norm: 'l2', steps: 5 }).dataSync();
    for (let k = 0; k < x.length; k++) expect(adv[k]).toBe(x[k]);
    const result = pgdAttack(model, xt, yt, { eps: [0.5], norm: 'l2', steps: 5 });
    expect(result.zeroGradient[0]).toBe(n);
    // f = 0 counts as wrong: every sample "succeeds" although nothing moved.
    expect(result.success[0]!.every((s) => s === 1)).toBe(true);
    tf.dispose([xt, yt]);
    model.dispose();
  });
});

describe('an eps grid in one call', () => {
  it('equals one call per radius', () => {
    const model = net('relative');
    const { xt, yt } = batch(8);
    const grid = [0, 0.1, 0.3];
    const together = pgdAttack(model, xt, yt, { eps: grid, norm: 'l2', steps: 5 });
    grid.forEach((e, k) => {
      const alone = pgdAttack(model, xt, yt, { eps: [e], norm: 'l2', steps: 5 });
      for (let i = 0; i < n; i++) expect(together.margins[k]![i]!).toBeCloseTo(alone.margins[0]![i]!, 4);
    });
    tf.dispose([xt, yt]);
    model.dispose();
  });

  it('robust accuracy does not rise with eps for PGD', () => {
    const model = net('relative');
    const { xt, yt } = batch(9);
    const r = pgdAttack(model, xt, yt, { eps: [0, 0.2, 0.4, 0.8], norm: 'l2', steps: 10 });
    const acc = r.success.map((s) => 1 - s.reduce((a, v) => a + v, 0) / n);
    for (let k = 1; k < acc.length; k++) expect(acc[k]!).toBeLessThanOrEqual(acc[k - 1]! + 1e-9);
    tf.dispose([xt, yt]);
    model.dispose();
  });
});

describe('argument checks name the argument', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['negative eps', { eps: [-0.1] }, /eps -0.1/],
    ['empty eps', { eps: [] }, /eps: expected at least one/],
    ['bad norm', { norm: 'l3' }, /norm "l3"/],
    ['zero steps', { steps: 0 }, /steps 0/],
    ['random start without rng', { randomStart: true }, /rng/],
    ['inverted clip', { clip: [1, 0] }, /clip/],
  ];
  for (const [name, override, message] of cases) {
    it(name, () => {
      const model = net('relative');
      const { xt, yt } = batch(10);
      expect(() => pgdAttack(model, xt, yt, { eps: [0.1], norm: 'l2', steps: 3, ...override } as never)).toThrow(message);
      tf.dispose([xt, yt]);
      model.dispose();
    });
  }
  it('wrong input shape', () => {
    const model = net('relative');
    const x = tf.zeros([3, d + 1]) as tf.Tensor2D;
    expect(() => pgdAttack(model, x, tf.ones([3]) as tf.Tensor1D, { eps: [0.1], norm: 'l2', steps: 1 })).toThrow(/expected \[N, 10\]/);
    model.dispose();
  });
});
