/**
 * The CNN's trainer on the fused kernels (main/engine/training/fusedImageTrainer.ts: the model's own
 * gradients, then every parameter updated in place) computes the same maths as the generic image
 * trainer: the same weights and losses after 8 steps of SGD and of SGD with momentum, and an
 * optimiser state in the generic format that either trainer resumes. Adam keeps the generic trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, type CnnModel } from '../../shared/config.ts';
import { createFusedImageTrainer } from '../../main/engine/training/fusedImageTrainer.ts';
import { createImageTrainer } from '../../main/engine/training/imageTrainer.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import { Cnn } from '../../main/engine/models/cnn.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { useWasm } from '../support/backend.ts';

const spec: CnnModel = { kind: 'cnn', channels: [4, 6], kernelSize: 3, initScale: 1 };
const picture = { height: 8, width: 8, channels: 1 }; // d = 64
const d = 64;
const classes = 10;
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});

function configFor(optimizer: Record<string, unknown>) {
  return resolveExperiment({ task: { kind: 'mnist', trainSize: 1000 }, model: spec, train: { batchSize: 30, optimizer } });
}

interface Batch {
  x: tf.Tensor2D;
  xT: tf.Tensor2D;
  y: tf.Tensor1D;
  scale: tf.Tensor1D;
}

/** Eight batches, full ones and a smaller last one as an epoch has. */
function batches(seed: number): Batch[] {
  const rng = RandomStream.derive(seed, 'fused-cnn-batches');
  return [30, 17, 30, 30, 17, 30, 30, 17].map((n) => {
    const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.uniform()), [n, d]);
    return {
      x,
      xT: tf.transpose(x) as tf.Tensor2D,
      y: tf.tensor1d(Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes))),
      scale: tf.fill([n], 1 / n) as tf.Tensor1D,
    };
  });
}

const parametersOf = (model: Cnn) => model.exportParameters().map((t) => t.data);

/** Parameters agree to `rtol` of each tensor's largest entry. */
function expectSameParameters(name: string, got: Float32Array[], ref: Float32Array[], rtol = 1e-5): void {
  expect(got.length).toBe(ref.length);
  got.forEach((g, p) => {
    const r = ref[p]!;
    const big = r.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
    let worst = 0;
    for (let k = 0; k < r.length; k++) worst = Math.max(worst, Math.abs(g[k]! - r[k]!));
    expect(worst, `${name}, parameter ${p}: max |difference| ${worst} vs largest entry ${big}`).toBeLessThanOrEqual(rtol * big);
  });
}

const optimizers: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.1 }],
  ['SGD with momentum', { lr: 0.05, momentum: 0.9 }],
];

describe('the fused CNN trainer', () => {
  for (const [name, optimizer] of optimizers) {
    it(`${name}: the same weights and losses as the generic trainer after 8 steps, and the same optimiser state`, () => {
      const config = configFor(optimizer);
      const lr = optimizer.lr as number;
      const generic = Cnn.initialise(spec, picture, classes, 11, true);
      const fused = Cnn.initialise(spec, picture, classes, 11, true);
      const init = parametersOf(generic).map((v) => Float32Array.from(v));
      const g = createImageTrainer(generic, config);
      const f = createFusedImageTrainer(fused, config, kernels);
      const data = batches(1);
      for (const b of data) {
        g.step(b.x, b.xT, b.y, b.scale, lr);
        f.step(b.x, b.xT, b.y, b.scale, lr);
      }
      const lossG = g.takeLoss();
      expect(Math.abs(f.takeLoss() - lossG)).toBeLessThanOrEqual(1e-5 * lossG);
      expectSameParameters(name, parametersOf(fused), parametersOf(generic));
      // The weights moved (the comparison is not between two untouched inits).
      parametersOf(fused).forEach((values, p) => {
        if (p % 2 === 0) expect(values.some((v, k) => Math.abs(v - init[p]![k]!) > 1e-4), `parameter ${p} moved`).toBe(true);
      });
      // The state is the generic optimiser's: the same step count and velocities.
      const fusedState = f.exportState();
      const genericState = g.exportState();
      expect(fusedState.t).toBe(8);
      expect(Object.keys(fusedState.tensors).sort()).toEqual(Object.keys(genericState.tensors).sort());
      expectSameParameters(`${name} state`, Object.keys(genericState.tensors).sort().map((k) => fusedState.tensors[k]!), Object.keys(genericState.tensors).sort().map((k) => genericState.tensors[k]!));
      g.dispose();
      f.dispose();
      generic.dispose();
      fused.dispose();
      for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
    });
  }

  it('resumes the generic trainer’s checkpointed state and goes on as the generic trainer does', () => {
    const config = configFor({ lr: 0.05, momentum: 0.9 });
    const data = batches(2);
    const generic = Cnn.initialise(spec, picture, classes, 12, true);
    const g = createImageTrainer(generic, config);
    for (const b of data.slice(0, 4)) g.step(b.x, b.xT, b.y, b.scale, 0.05);
    const flat = Float32Array.from(generic.exportParameters().flatMap((t) => Array.from(t.data)));
    const resumed = Cnn.fromFlat(spec, picture, classes, flat, true);
    const f = createFusedImageTrainer(resumed, config, kernels);
    f.importState(g.exportState());
    for (const b of data.slice(4)) {
      g.step(b.x, b.xT, b.y, b.scale, 0.05);
      f.step(b.x, b.xT, b.y, b.scale, 0.05);
    }
    expectSameParameters('resumed', parametersOf(resumed), parametersOf(generic));
    g.dispose();
    f.dispose();
    generic.dispose();
    resumed.dispose();
    for (const b of data) tf.dispose([b.x, b.xT, b.y, b.scale]);
  });
});
