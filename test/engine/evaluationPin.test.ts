/**
 * Issue 13, item 3: the cheaper evaluation measures exactly what the old one did. Each pinned run
 * (../support/evaluationPin.ts) reproduces, number for number, the measurements the engine
 * recorded before the attacks shared their forward passes (../fixtures/evaluationPin.json); and
 * where the pinned runs take one pass (small test sets), the attacks in several passes equal
 * the attacks run one radius and one draw at a time.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding } from '../../shared/config.ts';
import { CleanPointGradients } from '../../main/engine/attacks/cleanPointGradients.ts';
import { fgmAttack } from '../../main/engine/attacks/fgm.ts';
import { mixtureDirectionAttack } from '../../main/engine/attacks/mixtureDirection.ts';
import { pgdAttack } from '../../main/engine/attacks/pgd.ts';
import { randomNoiseAttack } from '../../main/engine/attacks/randomNoise.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';
import { pinFile, pinnedMeasurements, pinnedRuns } from '../support/evaluationPin.ts';

describe('the evaluation measures what it measured before it was made cheaper', () => {
  const before = JSON.parse(readFileSync(pinFile, 'utf8')) as Record<string, unknown>;
  let now: Record<string, unknown>;
  beforeAll(async () => {
    now = await pinnedMeasurements();
  }, 300_000);

  for (const { name } of pinnedRuns) {
    it(`${name}: every metric, snapshot, evaluation and summary is bit-identical`, () => {
      expect(before[name]).toBeDefined();
      expect(now[name]).toEqual(before[name]);
    });
  }
});

describe('the shared and batched passes equal the attacks run one by one', () => {
  // Chunks small enough that the attacks take several passes, and a noise draw spans two.
  const [n, d, m] = [30, 12, 8];
  let model: TwoLayerNet;
  let x: tf.Tensor2D;
  let y: tf.Tensor1D;
  const eps = [0, 0.2, 0.5];
  beforeAll(async () => {
    await useWasm();
    model = TwoLayerNet.initialise(resolveSparseCoding({ model: { kind: 'two-layer', width: m } }).model, d, 4);
    const rng = RandomStream.derive(7, 'pin-chunks');
    x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.normal()), [n, d]);
    y = tf.tensor1d(Float32Array.from({ length: n }, () => rng.sign()));
  });

  /** The definition: each draw's directions (unit l2 per sample), each radius its own forward pass. */
  function noiseOneByOne(draws: number): Float32Array[] {
    const rng = RandomStream.derive(1, 'noise');
    const best = eps.map(() => new Float32Array(n).fill(Infinity));
    for (let draw = 0; draw < draws; draw++) {
      const u = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        let n2 = 0;
        for (let j = 0; j < d; j++) n2 += (u[i * d + j] = rng.normal()) ** 2;
        const inv = 1 / Math.sqrt(n2);
        for (let j = 0; j < d; j++) u[i * d + j] = u[i * d + j]! * inv;
      }
      eps.forEach((e, k) => {
        const margins = tf.tidy(() => model.margins(tf.add(x, tf.mul(tf.tensor2d(u, [n, d]), e)) as tf.Tensor2D, y)).dataSync();
        for (let i = 0; i < n; i++) best[k]![i] = Math.min(best[k]![i]!, margins[i]!);
      });
    }
    return best;
  }

  it('random noise: draw by draw and radius by radius, the same margins from the same stream', () => {
    const options = { eps, norm: 'l2' as const, draws: 3 };
    const tensors = tf.memory().numTensors;
    const batched = randomNoiseAttack(model, x, y, { ...options, rng: RandomStream.derive(1, 'noise'), rowsPerChunk: 2 * n });
    // Passes of 2 blocks over 3 radii: draws carried from one pass to the next are freed too.
    expect(tf.memory().numTensors).toBe(tensors);
    expect(batched.margins).toEqual(noiseOneByOne(options.draws));
  });

  it('random noise: several draws in one pass stay distinct on a backend that keeps the array it is given (cpu, like tfjs-webgpu)', async () => {
    // tfjs-backend-cpu stores the caller's Float32Array rather than copying it, as tfjs-webgpu does
    // until its lazy upload: a refilled draw buffer once made every draw of a pass the last one.
    const onWasm = { model, x, y };
    await tf.setBackend('cpu');
    try {
      model = TwoLayerNet.initialise(resolveSparseCoding({ model: { kind: 'two-layer', width: m } }).model, d, 4);
      const rng = RandomStream.derive(7, 'pin-chunks');
      x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.normal()), [n, d]);
      y = tf.tensor1d(Float32Array.from({ length: n }, () => rng.sign()));
      const draws = 4;
      const together = randomNoiseAttack(model, x, y, { eps, norm: 'l2', draws, rng: RandomStream.derive(1, 'noise'), rowsPerChunk: draws * eps.length * n });
      expect(together.margins).toEqual(noiseOneByOne(draws));
    } finally {
      await useWasm();
      ({ model, x, y } = onWasm);
    }
  });

  it('mixture direction: the radii in passes of two equal one forward per radius', () => {
    const direction = Float32Array.from({ length: d }, (_, j) => (j % 2 ? 1 : -1) / Math.sqrt(d));
    const tensors = tf.memory().numTensors;
    const together = mixtureDirectionAttack(model, x, y, { eps, direction, rowsPerChunk: 2 * n });
    expect(tf.memory().numTensors).toBe(tensors);
    const alone = eps.map((e) => mixtureDirectionAttack(model, x, y, { eps: [e], direction }).margins[0]);
    expect(together.margins).toEqual(alone);
  });

  it('PGD and FGM sharing the clean-point gradients, in chunks, kept or not, equal each attack on its own', () => {
    const pgd = { eps, norm: 'l2' as const, steps: 3, rowsPerChunk: 3 * 7 };
    const fgm = { eps, norm: 'l2' as const };
    const tensors = tf.memory().numTensors;
    const alone = [pgdAttack(model, x, y, pgd), fgmAttack(model, x, y, fgm)];
    expect(tf.memory().numTensors).toBe(tensors);
    // Radius by radius, as the attacks ran before they shared anything.
    const perRadius = eps.map((e) => pgdAttack(model, x, y, { ...pgd, eps: [e], rowsPerChunk: 7 }).margins[0]);
    expect(alone[0]!.margins).toEqual(perRadius);
    for (const limit of [undefined, 0]) {
      const cleanPoint = new CleanPointGradients(x, y, limit);
      const shared = [pgdAttack(model, x, y, pgd, cleanPoint), fgmAttack(model, x, y, fgm, cleanPoint)];
      cleanPoint.dispose();
      expect(shared).toEqual(alone);
      expect(tf.memory().numTensors).toBe(tensors);
    }
  });
});
