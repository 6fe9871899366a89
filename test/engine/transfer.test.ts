/**
 * Transfer attacks between two models: on linear models the crafted perturbation is known in
 * closed form, so each entry of the table is computable; with identical models every entry is the
 * white-box robust accuracy of pgdAttack; and a fine-tuning run's table has the evaluations'
 * headline robust accuracies on its diagonal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type EvalAttack } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { presetByName } from '../../shared/presets.ts';
import { pgdAttack } from '../../main/engine/attacks/pgd.ts';
import { robustAccuracies, cleanMistakes } from '../../main/engine/attacks/evaluate.ts';
import { transferAttackOf, transferTable } from '../../main/engine/attacks/transfer.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../main/lab/store/checkpointFile.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { useWasm } from '../support/backend.ts';

const d = 12;
const m = 6;
const pgd20: Extract<EvalAttack, { kind: 'pgd' }> = { kind: 'pgd', steps: 20, stepSize: null, randomStart: false, restarts: 1, clip: true };

function net(ratio: number, seed: number): TwoLayerNet {
  const model = resolveSparseCoding({ model: { kind: 'two-layer', width: m, threshold: { mode: 'relative', ratio } } }).model;
  return TwoLayerNet.initialise(model, d, seed);
}

beforeAll(useWasm);

describe('transfer between two linear models equals its closed form', () => {
  // rho = 0 makes the net linear: f(x) = <v, x> with v = a sum_i w_i. The gradient of the
  // negative margin is -y v_s on the source, so every l2 PGD step moves along -y v_s/||v_s|| and
  // 20 steps of 2.5 eps/20 end on the sphere: delta_s = -y eps v_s/||v_s||. The target's margin is
  // then y <v_t, x> - eps <v_t, v_s>/||v_s||, and the sample is robust iff that and its clean
  // margin y <v_t, x> are both > 0.
  it('every entry, diagonal and off-diagonal', () => {
    const model = net(0, 1);
    const other = net(0, 2);
    const weights = [model.weights(), other.weights()];
    other.dispose();
    const v = weights.map((W) => {
      const sum = new Float64Array(d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) sum[j]! += model.outputWeight * W[i * d + j]!;
      return sum;
    });
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>, offset = 0) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[offset + j]! * b[j]!;
      return s;
    };
    const eps = 0.4;
    // Samples whose expected margins sit within 1e-3 of 0 are dropped, so float32 rounding cannot flip one.
    const rng = RandomStream.derive(7, 'transfer-test');
    const xs: number[] = [];
    const ys: number[] = [];
    const margin = (t: number, s: number | null, x: number[], y: number) => y * dot(x, v[t]!) - (s === null ? 0 : (eps * dot(v[t]!, v[s]!)) / Math.sqrt(dot(v[s]!, v[s]!)));
    while (ys.length < 300) {
      const x = Array.from({ length: d }, () => rng.normal() * 0.3);
      const y = rng.sign();
      const all = [0, 1].flatMap((t) => [margin(t, null, x, y), margin(t, 0, x, y), margin(t, 1, x, y)]);
      if (all.some((a) => Math.abs(a) < 1e-3)) continue;
      xs.push(...x);
      ys.push(y);
    }
    const n = ys.length;
    const test = { x: tf.tensor2d(xs, [n, d]), y: tf.tensor1d(ys), n };
    const expected = [0, 1].map((s) =>
      [0, 1].map((t) => {
        let correct = 0;
        for (let k = 0; k < n; k++) {
          const x = xs.slice(k * d, (k + 1) * d);
          if (margin(t, null, x, ys[k]!) > 0 && margin(t, s, x, ys[k]!) > 0) correct++;
        }
        return correct / n;
      }),
    );
    const models = ['a', 'b'].map((label, i) => ({ label, activate: () => model.setWeights(weights[i]!, null) }));
    const table = transferTable(model, models, test, pgd20, { eps, norm: 'l2', clip: null, rng: RandomStream.derive(1, 't') });
    expect(table.models).toEqual(['a', 'b']);
    expect(table.eps).toBe(eps);
    expect(table.attack).toBe('PGD-20 (l2, step 2.5·eps/20)');
    expect(table.accuracy.map((row) => row.map((a) => a.estimate))).toEqual(expected);
    // The models differ enough for transfer to be weaker than white-box here (not a vacuous check).
    expect(expected[0]![1]!).toBeGreaterThan(expected[1]![1]!);
    for (const row of table.accuracy) for (const a of row) expect(a.n).toBe(n);
    tf.dispose([test.x, test.y]);
    model.dispose();
  });
});

describe('transfer between identical models is white-box', () => {
  for (const norm of ['l2', 'linf'] as const) {
    it(`${norm}: every entry equals pgdAttack's robust accuracy`, () => {
      const model = net(0.3, 3);
      const W = model.weights();
      const rng = RandomStream.derive(5, 'same');
      const n = 200;
      const x = Array.from({ length: n * d }, () => rng.normal() * 0.5);
      const y = Array.from({ length: n }, () => rng.sign());
      const test = { x: tf.tensor2d(x, [n, d]), y: tf.tensor1d(y), n };
      const eps = norm === 'l2' ? 0.3 : 0.05;
      const whiteBox = robustAccuracies(pgdAttack(model, test.x, test.y, { eps: [eps], norm, steps: 20 }).success, cleanMistakes(model, test))[0]!;
      const models = ['one', 'same again'].map((label) => ({ label, activate: () => model.setWeights(W, null) }));
      const table = transferTable(model, models, test, pgd20, { eps, norm, clip: null, rng: RandomStream.derive(1, 't') });
      for (const row of table.accuracy) for (const a of row) expect(a).toEqual(whiteBox);
      // The attack does something at this radius, so equality is not between two 1.0s.
      const clean = 1 - cleanMistakes(model, test).reduce((s, v) => s + v, 0) / n;
      expect(whiteBox.estimate).toBeLessThan(clean);
      tf.dispose([test.x, test.y]);
      model.dispose();
    });
  }
});

describe('the attack a transfer table uses', () => {
  it('is the first gradient attack of the evaluation, never the model-free mixture direction', () => {
    const fgm = { kind: 'fgm', clip: true } as const;
    expect(transferAttackOf([{ kind: 'mixture-direction' }, fgm, pgd20])).toEqual(fgm);
    expect(transferAttackOf([pgd20, fgm])).toEqual(pgd20);
    expect(transferAttackOf([{ kind: 'mixture-direction' }])).toBeNull();
  });
});

describe("a fine-tuning run's transfer table", () => {
  it('has the evaluations\' headline robust accuracies on its diagonal', async () => {
    const config = resolveSparseCoding(mergeConfig(presetByName('quick').config, { eval: { every: 0 } }));
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    const result = await runExperiment(config, info, hooks);
    const { transfer, afterClean, final } = result.summary;
    expect(transfer).toBeDefined();
    expect(transfer!.models).toEqual(['after clean', 'after fine-tuning']);
    expect(transfer!.eps).toBe(config.eval.eps);
    expect(transfer!.attack).toBe(result.evaluations[0]!.attacks[0]);
    expect(transfer!.accuracy[0]![0]!.estimate).toBe(afterClean!.robustAccuracy);
    expect(transfer!.accuracy[1]![1]!.estimate).toBe(final.robustAccuracy);
    // Off the diagonal the target never saw the attack: it does at least as well as white-box here.
    expect(transfer!.accuracy[0]![1]!.estimate).toBeGreaterThanOrEqual(final.robustAccuracy);
    expect(transfer!.accuracy[1]![0]!.estimate).toBeGreaterThanOrEqual(afterClean!.robustAccuracy);
  }, 300_000);
});

describe('a run resumed after its clean phase', () => {
  it('keeps the learned thresholds of the clean model in its checkpoint file, so its transfer table is the same', async () => {
    const config = resolveSparseCoding({
      task: { kind: 'sparse-coding', d: 24, k: 3, trainSize: 600 },
      model: { kind: 'two-layer', width: 16, threshold: { mode: 'learned', value: 0.05 } },
      train: { cleanEpochs: 3, adversarialEpochs: 2 },
      eval: { testSize: 200, every: 0, attacks: [{ kind: 'pgd', steps: 5 }] },
    });
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    const checkpoints: EngineCheckpoint[] = [];
    const full = await runExperiment(config, info, { ...hooks, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) });
    const afterClean = checkpoints.find((c) => c.globalEpoch === 3)!;
    const file = decodeCheckpoint(encodeCheckpoint(afterClean), 'checkpoint.safetensors');
    // Learned thresholds moved during clean training: restoring W alone would not give the clean model.
    expect(Array.from(file.bClean!)).not.toEqual(Array.from(new Float32Array(16).fill(0.05)));
    expect(file.bClean).toEqual(afterClean.bClean);
    const upTo = (e: { globalEpoch: number }) => e.globalEpoch <= 3;
    const resumed = await runExperiment(config, info, {
      ...hooks,
      resume: { checkpoint: file, metrics: full.metrics.filter(upTo), instruments: full.instruments.filter(upTo), evaluations: full.evaluations.filter(upTo), warnings: [] },
    });
    expect(full.summary.transfer).toBeDefined();
    expect(resumed.summary.transfer).toEqual(full.summary.transfer);
    expect(full.summary.transfer!.accuracy[0]![0]!.estimate).toBe(full.summary.afterClean!.robustAccuracy);
  }, 120_000);
});
