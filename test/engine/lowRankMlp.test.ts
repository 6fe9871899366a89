/**
 * Low-rank adversarial fine-tuning of the image MLP (main/engine/training/lowRankMlpTrainer.ts):
 * fc1.weight' = W1 + U V^T with W1 frozen. On the tiny MLP (d = 18, m = 20, 3 classes, plain SGD):
 * each step moves U and V by the chain rule dL/dU = G V, dL/dV = G^T U with G = dL/dW' from the
 * full model at W', while fc1.bias and fc2 take the full model's step; the update W' - W1 has
 * exactly rank r. End to end on a small MNIST run: the clean phase is the one without lowRank, the
 * note says which path trained the phase, the update's spectrum has r values, and a run resumed
 * mid-phase ends bit-identical. The config refuses it for the CNN and with weight decay.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type ExperimentInput, type MlpModel, type ResolvedExperiment } from '../../shared/config.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import { singularValues } from '../../main/engine/instruments/singularValues.ts';
import { flatten } from '../../main/engine/models/imageModel.ts';
import { Mlp } from '../../main/engine/models/mlp.ts';
import type { EngineCheckpoint } from '../../main/engine/training/checkpoint.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { createLowRankMlpTrainer } from '../../main/engine/training/lowRankMlpTrainer.ts';
import { useWasm } from '../support/backend.ts';
import { relativeFrobenius } from '../support/relativeFrobenius.ts';
import { classes, d, picture, tinyMlpBatches, tinyMlpConfig, width as m } from '../support/tinyMlp.ts';

beforeAll(useWasm);

const rank = 2;
const lr = 0.5;

function lowRankConfig(): ResolvedExperiment {
  const config = tinyMlpConfig('symmetric-threshold', { lr });
  return { ...config, train: { ...config.train, lowRank: { rank, initScale: 1 } } };
}

/** A [rows, cols] row-major matrix times another, in float64. */
function matMul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number, transposeA = false): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < inner; k++) s += (transposeA ? a[k * rows + i]! : a[i * inner + k]!) * b[k * cols + j]!;
      out[i * cols + j] = s;
    }
  }
  return out;
}

describe('the low-rank trainer of the image MLP', () => {
  it('moves U and V by dL/dU = G V and dL/dV = G^T U, the other layers by the full step, and keeps W\' - W1 of rank r', () => {
    const config = lowRankConfig();
    const model = Mlp.initialise(config.model as MlpModel, picture, classes, 11);
    const W1 = Float32Array.from(model.parameters()[0]!.dataSync()); // [d, m]
    const trainer = createLowRankMlpTrainer(model, config, rank);
    const batches = tinyMlpBatches([30, 30, 17], 5, 'low-rank-mlp-batches');
    let state = trainer.exportState().tensors;
    expect(Array.from(state['lowRank.U']!)).toEqual(new Array(m * rank).fill(0));
    for (const b of batches) {
      // The full model at W' (a copy): its gradient G^T = dL/dW' [d, m] and its own SGD step.
      const reference = Mlp.fromFlat(config.model as MlpModel, picture, classes, flatten(model.exportParameters()));
      const { gradients } = reference.lossAndGradients(b.x, b.xT, b.y, b.scale);
      const GT = gradients[0]!.dataSync();
      const U = state['lowRank.U']!;
      const V = state['lowRank.V']!;
      const expectedU = matMul(GT, V, m, d, rank, true).map((g, k) => U[k]! - lr * g); // G V: [m, r]
      const expectedV = matMul(GT, U, d, m, rank).map((g, k) => V[k]! - lr * g); // G^T U: [d, r]
      const full = createImageTrainer(reference, config);
      full.step(b.x, b.xT, b.y, b.scale, lr);
      trainer.step(b.x, b.xT, b.y, b.scale, lr);
      state = trainer.exportState().tensors;
      expect(relativeFrobenius(expectedU, state['lowRank.U']!)).toBeLessThan(1e-5);
      expect(relativeFrobenius(expectedV, state['lowRank.V']!)).toBeLessThan(1e-5);
      expect(relativeFrobenius(V, state['lowRank.V']!), 'V moved (from the second step on)').toBeGreaterThanOrEqual(b === batches[0] ? 0 : 1e-4);
      // fc1.bias, fc2.weight, fc2.bias: the full model's step, exactly.
      const after = model.parameters();
      const fullAfter = reference.parameters();
      for (const i of [1, 2, 3]) expect(Array.from(after[i]!.dataSync()), `parameter ${model.parameterNames[i]}`).toEqual(Array.from(fullAfter[i]!.dataSync()));
      full.dispose();
      reference.dispose();
      for (const t of gradients) t.dispose();
    }
    // fc1 is W1 + V U^T in the stored [d, m] layout, and the frozen W1 is the clean fc1.
    expect(Array.from(state['lowRank.frozen']!)).toEqual(Array.from(W1));
    const Wprime = model.parameters()[0]!.dataSync();
    const VUt = matMul(state['lowRank.V']!, state['lowRank.U']!.map((_, k, u) => u[(k % m) * rank + Math.floor(k / m)]!), d, rank, m);
    const update = Float64Array.from(Wprime, (w, k) => w - W1[k]!);
    expect(relativeFrobenius(VUt, update)).toBeLessThan(1e-4);
    // Exactly rank r: r clear singular values, the rest at float32 round-off of W' (|W1| ~ 1).
    const sv = singularValues(update, d, m).values!;
    expect(sv[rank - 1]! / sv[0]!).toBeGreaterThan(1e-2);
    expect(sv[rank]! / sv[0]!).toBeLessThan(1e-5);
    trainer.dispose();
    model.dispose();
  });
});

/** A small MNIST run of the mnist-mlp protocol: 2 clean + 2 adversarial epochs, two digits. */
const smallRun = (lowRank: number | null): ExperimentInput => ({
  task: { kind: 'mnist', trainSize: 300, classes: [3, 8] },
  model: { kind: 'mlp', width: 16, initScale: 0.05 },
  train: {
    cleanEpochs: 2,
    adversarialEpochs: 2,
    batchSize: 100,
    optimizer: { lr: 0.1, momentum: 0.9 },
    attack: { kind: 'pgd', norm: 'linf', eps: 0.1, steps: 3, randomStart: true },
    lowRank: { rank: lowRank },
  },
  eval: { testSize: 100, every: 0, epsGrid: [0, 0.1], noiseDraws: 1, attacks: [{ kind: 'pgd', steps: 5 }] },
  instruments: { coefficientsEvery: 4, shownUnits: 4 },
});

describe('an MNIST MLP run with train.lowRank.rank', () => {
  it('trains the clean phase as without it, says which path trains the low-rank phase, updates fc1 with rank r, and resumes mid-phase bit-identical', async () => {
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    const checkpoints: EngineCheckpoint[] = [];
    const full = await runExperiment(resolveExperiment(smallRun(rank)), info, { ...hooks, checkpointEvery: 1, onCheckpoint: (c) => checkpoints.push(structuredClone(c)) });
    const plain = await runExperiment(resolveExperiment(smallRun(null)), info, hooks);
    expect(full.summary.afterClean).toEqual(plain.summary.afterClean);
    const clean = (r: typeof full) => r.metrics.filter((e) => e.phase !== 'adversarial').map((e) => e.loss);
    expect(clean(full)).toEqual(clean(plain));
    expect(full.warnings.map((w) => w.message)).toContain(
      "train.lowRank.rank = 2: the adversarial phase trains fc1.weight = W1 + U V^T (rank 2) on the generic tfjs path; the clean phase trains on the backend's path, and the attacks run on it throughout",
    );
    // fc1's update has rank 2; fc2's is the full fine-tune's (10 classes of which 2 are seen: rank 2 too, not checked).
    const sv = full.summary.update!.singularValues;
    expect(sv[1]! / sv[0]!).toBeGreaterThan(1e-2);
    expect(sv[2]! / sv[0]!).toBeLessThan(1e-4);
    expect(plain.summary.update!.singularValues[2]! / plain.summary.update!.singularValues[0]!).toBeGreaterThan(1e-2);
    const mid = checkpoints.find((c) => c.globalEpoch === 3)!;
    expect([mid.phaseIndex, mid.epochInPhase]).toEqual([1, 1]);
    expect(Object.keys(mid.optimizer.tensors)).toEqual(expect.arrayContaining(['lowRank.U', 'lowRank.V', 'lowRank.frozen']));
    const upTo = (e: { globalEpoch: number }) => e.globalEpoch <= mid.globalEpoch;
    const resumed = await runExperiment(resolveExperiment(smallRun(rank)), info, {
      ...hooks,
      resume: { checkpoint: mid, metrics: full.metrics.filter(upTo), instruments: full.instruments.filter(upTo), evaluations: full.evaluations.filter(upTo), warnings: full.warnings },
    });
    expect(resumed.summary).toEqual(full.summary);
    expect(resumed.metrics.map((e) => e.loss)).toEqual(full.metrics.map((e) => e.loss));
  }, 180_000);
});

describe('the train.lowRank setting', () => {
  const mnist = { task: { kind: 'mnist' as const, trainSize: 1000 } };
  it('is taken for the image MLP, and the resolved config keeps it', () => {
    expect(resolveExperiment({ ...mnist, model: { kind: 'mlp' }, train: { lowRank: { rank: 16 } } }).train.lowRank).toEqual({ rank: 16, initScale: 1 });
  });
  it('is refused for the CNN, naming the field', () => {
    expect(() => resolveExperiment({ ...mnist, model: { kind: 'cnn' }, train: { lowRank: { rank: 4 } } })).toThrow(
      /train\.lowRank\.rank = 4: low-rank fine-tuning is implemented for the two-layer network and the image "mlp" \(the model is "cnn"\); expected null/,
    );
  });
  it('is not combined with weight decay', () => {
    expect(() => resolveExperiment({ ...mnist, model: { kind: 'mlp' }, train: { lowRank: { rank: 4 }, optimizer: { weightDecay: 0.001 } } })).toThrow(
      /train\.optimizer\.weightDecay = 0\.001: weight decay is not combined with low-rank fine-tuning/,
    );
  });
});
