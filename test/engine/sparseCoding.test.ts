/** The synthetic task against its definition: x = M z + xi, y = sign(<w*, z>). */
import { describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { mixtureDirection, sparseCodingTask } from '../../main/engine/tasks/sparseCoding.ts';

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
});
