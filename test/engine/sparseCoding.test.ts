/** The synthetic task against its definition: x = M z + xi, y = sign(<w*, z>). */
import { Matrix, QrDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { householderQr, orthogonalFactor } from '../../main/engine/tasks/householderQr.ts';
import { mixtureDirection, randomOrthonormal, sparseCodingTask } from '../../main/engine/tasks/sparseCoding.ts';
import { RandomStream } from '../../main/engine/random.ts';

function task(over: Record<string, unknown> = {}) {
  return resolveSparseCoding({ task: { kind: 'sparse-coding', d: 32, k: 3, trainSize: 300, ...over } }).task;
}

/** z recovered as M^T x (exact up to the noise, since M has orthonormal columns). */
function codes(data: ReturnType<typeof sparseCodingTask>, which: 'train' | 'test') {
  const { d, atoms, dictionary } = data;
  const set = data[which];
  return Array.from({ length: set.n }, (_, s) =>
    Array.from({ length: atoms }, (_, j) => {
      let v = 0;
      for (let i = 0; i < d; i++) v += dictionary[i * atoms + j]! * set.x[s * d + i]!;
      return v;
    }),
  );
}

describe('the sparse-coding task', () => {
  it('is deterministic in the seed, and another seed gives other data', () => {
    const a = sparseCodingTask(task(), 4, 50);
    const b = sparseCodingTask(task(), 4, 50);
    const c = sparseCodingTask(task(), 5, 50);
    expect(b.train.x).toEqual(a.train.x);
    expect(b.test.y).toEqual(a.test.y);
    expect(c.train.x).not.toEqual(a.train.x);
    // The training set does not depend on the test size.
    expect(sparseCodingTask(task(), 4, 80).train.x).toEqual(a.train.x);
  });

  it('has an orthonormal dictionary that is not the identity', () => {
    const { dictionary, d, atoms } = sparseCodingTask(task({ atoms: 20 }), 1, 10);
    for (let p = 0; p < atoms; p++)
      for (let q = 0; q < atoms; q++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += dictionary[i * atoms + p]! * dictionary[i * atoms + q]!;
        expect(dot).toBeCloseTo(p === q ? 1 : 0, 10);
      }
    expect(Math.abs(dictionary[0]!)).toBeLessThan(0.99);
  });

  it('exact sparsity: k non-zeros of +-1, and y = sign(<w*, z>)', () => {
    const data = sparseCodingTask(task({ noise: 0 }), 2, 10);
    const z = codes(data, 'train');
    z.forEach((code, s) => {
      const support = code.filter((v) => Math.abs(v) > 1e-4);
      expect(support).toHaveLength(3);
      for (const v of support) expect(Math.abs(v)).toBeCloseTo(1, 4);
      const score = code.reduce((acc, v, j) => acc + v * data.teacher[j]!, 0);
      expect(Math.sign(score)).toBe(data.train.y[s]);
    });
  });

  it('bernoulli sparsity with half-normal magnitudes: about k non-zeros on average, labels never 0', () => {
    const data = sparseCodingTask(task({ noise: 0, sparsity: 'bernoulli', magnitude: 'half-normal', k: 4 }), 3, 10);
    const z = codes(data, 'train');
    const mean = z.reduce((acc, code) => acc + code.filter((v) => Math.abs(v) > 1e-5).length, 0) / z.length;
    expect(mean).toBeGreaterThan(3.2);
    expect(mean).toBeLessThan(5.2);
    for (const y of data.train.y) expect(Math.abs(y)).toBe(1);
  });

  it('noise has variance sigma^2/d per coordinate', () => {
    const sigma = 0.5;
    const data = sparseCodingTask(task({ noise: sigma, trainSize: 2000 }), 6, 10);
    const z = codes(data, 'train');
    // The residual outside the code's support is pure noise projected on the dictionary.
    let sum = 0;
    let count = 0;
    for (const code of z) {
      for (const v of code) {
        if (Math.round(v) !== 0) continue; // an atom of the support (value +-1)
        sum += v * v;
        count++;
      }
    }
    expect(sum / count).toBeCloseTo((sigma * sigma) / 32, 3);
  });

  it('the mixture direction is M w* normalised (l2) or its sign (linf)', () => {
    const data = sparseCodingTask(task(), 7, 10);
    const u = mixtureDirection(data, 'l2');
    expect(Math.hypot(...u)).toBeCloseTo(1, 5);
    const s = mixtureDirection(data, 'linf');
    u.forEach((v, i) => expect(s[i]).toBe(Math.sign(v)));
  });

  it('the dictionary is bit-identical to the one ml-matrix\'s QR defined for every seed', () => {
    // The task is defined by this arithmetic: the contiguous QR must repeat it exactly.
    for (const [d, atoms, seed] of [[32, 20, 1], [64, 64, 2], [150, 150, 3]] as const) {
      const rng = RandomStream.derive(seed, 'task.dictionary');
      const gaussian = new Matrix(d, atoms);
      for (let i = 0; i < d; i++) for (let j = 0; j < atoms; j++) gaussian.set(i, j, rng.normal());
      const qr = new QrDecomposition(gaussian);
      // Both getters build a new matrix on each call: once each.
      const [q, r] = [qr.orthogonalMatrix, qr.upperTriangularMatrix];
      const expected = new Float64Array(d * atoms);
      for (let j = 0; j < atoms; j++) {
        const sign = r.get(j, j) < 0 ? -1 : 1;
        for (let i = 0; i < d; i++) expected[i * atoms + j] = sign * q.get(i, j);
      }
      expect(randomOrthonormal(d, atoms, RandomStream.derive(seed, 'task.dictionary'))).toEqual(expected);
    }
  });
});

describe('Householder QR', () => {
  it('Q^T Q = I and Q R = A on a known 3 x 2 matrix and a random 40 x 25 one', () => {
    const known = [[3, 1], [4, 2], [0, 2]];
    const rng = RandomStream.derive(9, 'qr');
    const random = Array.from({ length: 40 }, () => Array.from({ length: 25 }, () => rng.normal()));
    for (const a of [known, random]) {
      const [m, n] = [a.length, a[0]!.length];
      const qr = householderQr(Float64Array.from({ length: m * n }, (_, k) => a[k % m]![Math.floor(k / m)]!), m, n);
      const q = orthogonalFactor(qr);
      // R: the factors above the diagonal, rDiagonal on it.
      const r = (i: number, j: number) => (i < j ? qr.factors[j * m + i]! : i === j ? qr.rDiagonal[i]! : 0);
      for (let p = 0; p < n; p++)
        for (let s = 0; s < n; s++) {
          let dot = 0;
          for (let i = 0; i < m; i++) dot += q[p * m + i]! * q[s * m + i]!;
          expect(Math.abs(dot - (p === s ? 1 : 0))).toBeLessThan(1e-14);
        }
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let x = 0;
          for (let k = 0; k < n; k++) x += q[k * m + i]! * r(k, j);
          expect(Math.abs(x - a[i]![j]!)).toBeLessThan(1e-13);
        }
    }
    // By hand: |R_11| = ||(3, 4, 0)|| = 5, |R_12| = <(3, 4, 0), (1, 2, 2)> / 5 = 11/5, |R_22| = sqrt(9 - (11/5)^2).
    const byHand = householderQr(Float64Array.from([3, 4, 0, 1, 2, 2]), 3, 2);
    expect(Math.abs(byHand.rDiagonal[0]!)).toBeCloseTo(5, 14);
    expect(Math.abs(byHand.factors[3]!)).toBeCloseTo(11 / 5, 14);
    expect(Math.abs(byHand.rDiagonal[1]!)).toBeCloseTo(Math.sqrt(9 - (11 / 5) ** 2), 14);
  });
});
