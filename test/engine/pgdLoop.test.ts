/**
 * One PGD loop (main/engine/attacks/pgd.ts) whose step is a strategy the input-gradient session
 * picks (attacks/pgdStep.ts): the loop runs whatever step the session carries, once per PGD step
 * at the point where the step says the gradient is taken; the fused kernel step equals the tfjs
 * step, from a random start and clipped to the data range too; the fused trainer's training
 * attack is that loop; and no other module steps PGD itself.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSparseCoding, type ExperimentInput } from '../../shared/config.ts';
import { pgdAttack, pgdPerturb } from '../../main/engine/attacks/pgd.ts';
import { fusedPgdStep, tensorPgdStep, type PgdStep } from '../../main/engine/attacks/pgdStep.ts';
import { loadFusedKernels, type FusedKernels } from '../../main/engine/kernels/fusedKernels.ts';
import type { MarginModel } from '../../main/engine/models/marginModel.ts';
import { fusedInputGradient } from '../../main/engine/models/twoLayerFusedGradient.ts';
import { TwoLayerNet } from '../../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../../main/engine/random.ts';
import { createFusedTrainer } from '../../main/engine/training/fusedTrainer.ts';
import { createGenericTrainer } from '../../main/engine/training/genericTrainer.ts';
import type { TrainingAttack } from '../../main/engine/training/trainer.ts';
import { useWasm } from '../support/backend.ts';

const d = 12;
const m = 10;
const n = 24;
let kernels: FusedKernels;

beforeAll(async () => {
  await useWasm();
  kernels = (await loadFusedKernels())!;
});

function config() {
  return resolveSparseCoding({ model: { kind: 'two-layer', width: m }, task: { kind: 'sparse-coding', d, trainSize: 100 }, train: { batchSize: n } } as ExperimentInput);
}

/** Inputs in [0, 1], so that clipping to the data range [0, 1] binds. */
function batch(seed: number) {
  const rng = RandomStream.derive(seed, 'pgd-loop-test');
  return {
    x: tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.uniform()), [n, d]),
    y: tf.tensor1d(Float32Array.from({ length: n }, () => rng.sign())),
  };
}

/** A model whose session carries `step`, recording each gradient the loop hands it. */
function withStep(net: TwoLayerNet, step: PgdStep, seen: { points: number[][]; begins: number }): MarginModel {
  return {
    inputDim: net.inputDim,
    margins: (x, y) => net.margins(x, y),
    openInputGradient() {
      const session = net.openInputGradient();
      const recording: PgdStep = {
        begin(x0, eps, alpha, start, options) {
          seen.begins += 1;
          const inner = step.begin(x0, eps, alpha, start, options);
          return {
            point: () => inner.point(),
            advance(gradient, first) {
              seen.points.push(Array.from(inner.point().dataSync()));
              inner.advance(gradient, first);
            },
            finish: () => inner.finish(),
          };
        },
      };
      return { marginGradient: session.marginGradient, pgdStep: recording, dispose: () => session.dispose() };
    },
  };
}

describe('the PGD loop runs the step its session carries', () => {
  it('once per step and restart, and returns what the step finished with', () => {
    const net = TwoLayerNet.initialise(config().model, d, 1);
    const { x, y } = batch(1);
    const seen = { points: [] as number[][], begins: 0 };
    const options = { eps: [0.2, 0.5], norm: 'l2' as const, steps: 4, restarts: 3, randomStart: true, clip: [0, 1] as const };
    const recorded = pgdAttack(withStep(net, tensorPgdStep, seen), x, y, { ...options, rng: RandomStream.derive(2, 's') });
    const plain = pgdAttack(net, x, y, { ...options, rng: RandomStream.derive(2, 's') });
    expect(seen.begins).toBe(3);
    expect(seen.points).toHaveLength(3 * 4);
    // The first gradient of each restart is taken at x0 + the drawn start, clipped: inside [0, 1].
    for (const p of seen.points) for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
    expect(recorded.margins.map((r) => Array.from(r))).toEqual(plain.margins.map((r) => Array.from(r)));
    expect(recorded.zeroGradient).toEqual(plain.zeroGradient);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('a step that never moves leaves the clean margins (the loop adds no step of its own)', () => {
    const net = TwoLayerNet.initialise(config().model, d, 2);
    const { x, y } = batch(2);
    const still: PgdStep = {
      begin: (x0) => ({ point: () => x0, advance: () => {}, finish: () => ({ x: tf.clone(x0), zeroGradient: tf.scalar(0) }) }),
    };
    const model: MarginModel = { ...net, inputDim: net.inputDim, margins: (a, b) => net.margins(a, b), openInputGradient: () => ({ ...net.openInputGradient(), pgdStep: still }) };
    const attacked = pgdAttack(model, x, y, { eps: [1], norm: 'linf', steps: 5 });
    const clean = net.margins(x, y).dataSync();
    expect(Array.from(attacked.margins[0]!)).toEqual(Array.from(clean));
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('the fused step equals the tfjs step', () => {
  for (const norm of ['l2', 'linf'] as const) {
    for (const randomStart of [false, true]) {
      it(`${norm}, ${randomStart ? 'from a random start' : 'from x'}, clipped to [0, 1]`, () => {
        const net = TwoLayerNet.initialise(config().model, d, 3);
        const { x, y } = batch(3);
        const options = { eps: 0.3, norm, steps: 6, randomStart, clip: [0, 1] as const };
        const generic = pgdPerturb(net, x, y, { ...options, rng: RandomStream.derive(4, 'r') });
        const fused = pgdPerturb(withStep(net, fusedPgdStep(kernels), { points: [], begins: 0 }), x, y, { ...options, rng: RandomStream.derive(4, 'r') });
        const a = generic.dataSync();
        const b = fused.dataSync();
        const moved = Math.max(...Array.from(a, (v, i) => Math.abs(v - x.dataSync()[i]!)));
        expect(moved).toBeGreaterThan(0.05); // the attack did move
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
        tf.dispose([generic, fused, x, y]);
        net.dispose();
      });
    }
  }

  it('the fused session of the two-layer net counts the same zero-gradient rows', () => {
    // Fixed thresholds far above every pre-activation of half the samples: those rows are silent.
    const model = resolveSparseCoding({ model: { kind: 'two-layer', width: m, threshold: { mode: 'fixed', value: 0.5 } }, task: { kind: 'sparse-coding', d } } as ExperimentInput).model;
    const net = TwoLayerNet.initialise(model, d, 4);
    const rng = RandomStream.derive(5, 'silent');
    const x = tf.tensor2d(Float32Array.from({ length: n * d }, (_, i) => (Math.floor(i / d) % 2 === 0 ? 0.001 : 3) * rng.normal()), [n, d]);
    const y = tf.tensor1d(Float32Array.from({ length: n }, () => rng.sign()));
    const options = { eps: [0.1], norm: 'l2' as const, steps: 3 };
    const generic = pgdAttack(net, x, y, options);
    net.inputGradientProvider = (k) => fusedInputGradient(kernels, k);
    const fused = pgdAttack(net, x, y, options);
    expect(generic.zeroGradient[0]).toBeGreaterThanOrEqual(n / 2);
    expect(fused.zeroGradient).toEqual(generic.zeroGradient);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe("the fused trainer's training attack is the PGD loop", () => {
  for (const norm of ['l2', 'linf'] as const) {
    it(`${norm}, from a random start, clipped: equal to the generic trainer's`, () => {
      const c = config();
      const net = TwoLayerNet.initialise(c.model, d, 5);
      const { x, y } = batch(5);
      const attack = (): TrainingAttack => ({ eps: 0.25, norm, steps: 5, stepSize: null, randomStart: true, clip: [0, 1], rng: RandomStream.derive(6, 'a') });
      const generic = createGenericTrainer(net, c).perturb(x, y, attack());
      const trainer = createFusedTrainer(kernels, net, c)!;
      const fused = trainer.perturb(x, y, attack());
      const a = generic.dataSync();
      const b = fused.dataSync();
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
      for (const v of b) expect(v >= 0 && v <= 1).toBe(true);
      tf.dispose([generic, fused, x, y]);
      trainer.dispose();
      net.dispose();
    });
  }
});

describe('PGD lives in one place', () => {
  const root = new URL('../../main/', import.meta.url).pathname;
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'kernels' ? [] : sources(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  const files = sources(root).map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));

  it('only the step strategy calls the fused PGD step kernels', () => {
    const callers = files.filter((f) => /\.pgd(L2|Linf)Step\(/.test(f.text)).map((f) => f.path);
    expect(callers).toEqual(['engine/attacks/pgdStep.ts']);
  });

  it('only the loop draws random starts and loops over PGD steps', () => {
    expect(files.filter((f) => /\brandomStart\(/.test(f.text) && !/function randomStart\(/.test(f.text)).map((f) => f.path)).toEqual([]);
    // Steps are advanced in the loop, and by a stack, which drives pgd.ts's stepwise loop
    // (beginPgdRows) for many members at once, one kernel call for all their gradients a step.
    const loops = files.filter((f) => /\.advance\(/.test(f.text)).map((f) => f.path);
    expect(loops.sort()).toEqual(['engine/attacks/pgd.ts', 'engine/training/stackedProgram.ts', 'engine/training/stackedTrainer.ts']);
  });
});
