/**
 * The lower-bound baselines of claim C4 (the paper, "Baselines for the lower
 * bound"), trained and evaluated on the experiment's own data, protocol and radius:
 *
 *   linear            f(x) = <v, x>                                   (models/baselines/linearClassifier.ts)
 *   quadratic         f(x) = <v, x> + x^T Q x, a degree-2 polynomial  (models/baselines/quadraticClassifier.ts)
 *   random-features   the network's first layer frozen at init, a trained (models/baselines/randomFeatures.ts)
 *   tangent           the network linearised at init, its NTK model    (models/baselines/tangentModel.ts)
 *
 * each trained two ways:
 *   clean         `epochs` epochs of clean training (default: the config's cleanEpochs);
 *   adversarial   the same number of epochs of the config's TRAINING attack (PGD at train.attack's
 *                 eps/steps/norm, replace or mix as train.mix says), from scratch.
 * The data (`sparseCodingTask(config.task, seed, eval.testSize)`), the batch order (the seeded
 * stream `train.shuffle`), the optimiser and schedule are the network's; the initial weights are
 * the network's init (`TwoLayerNet.initialise`). Each model is then evaluated by `evaluateModel`
 * at the config's eps grid with every configured attack, exactly as the network is.
 *
 * Learning rates. Each kind has its own. The network's lr suits the linear model. The random-
 * features and tangent models see the network's activation pattern AT INIT, where the thresholds
 * b_i = rho ||w_i^0|| sit about two standard deviations above a typical pre-activation: few
 * neurons fire per sample and the active features s_b(<w_i^0, x>) are small, so both need a much
 * larger step to move in `epochs` epochs. Defaults, as multiples of train.optimizer.lr, tuned at
 * the `quick` preset (SGD, lr 0.5, 30 epochs; loss after 30 clean epochs at x{16, 64, 256}:
 * random features 0.656, 0.626, 0.613 with the adversarial loss unstable at x256; tangent at
 * x{16, 64, 256}: clean 0.264, 0.212, 0.195 but adversarial 0.665, 0.744, 1.29, diverging):
 *   linear x1, random-features x64, tangent x16; quadratic x1 (x{1, 4, 16}: clean loss 0.093,
 *   0.026, 0.007 but adversarial 0.703, 0.733, 0.888; robust accuracy 0.24 clean-trained, 0.20
 *   adversarially trained, against the network's 0.50).
 * `options.lr` overrides any of them (absolute rates). With another optimiser (Adam), pass them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SparseCodingExperiment } from '../../shared/config.ts';
import type { Evaluation } from '../../shared/events.ts';
import { evaluateModel, type TestSet } from './attacks/evaluate.ts';
import { pgdPerturb } from './attacks/pgd.ts';
import { disposeBatches, epochBatches } from './training/batches.ts';
import { baselineKinds, type BaselineKind, type TrainableBaseline } from './models/baselines/baseline.ts';
import { LinearClassifier } from './models/baselines/linearClassifier.ts';
import { QuadraticClassifier } from './models/baselines/quadraticClassifier.ts';
import { RandomFeatures } from './models/baselines/randomFeatures.ts';
import { TangentModel } from './models/baselines/tangentModel.ts';
import { TwoLayerNet } from './models/twoLayerNet.ts';
import { Optimizer } from './training/optimizer.ts';
import { learningRate } from './training/schedule.ts';
import { RandomStream } from './random.ts';
import { mixtureDirection, sparseCodingTask } from './tasks/sparseCoding.ts';
import { trainingAttack } from './training/trainer.ts';

export { baselineKinds, type BaselineKind } from './models/baselines/baseline.ts';

export const baselineTrainings = ['clean', 'adversarial'] as const;
export type BaselineTraining = (typeof baselineTrainings)[number];

/** Default learning rate of each kind, as a multiple of train.optimizer.lr (see the header). */
export const defaultLrFactor: Readonly<Record<BaselineKind, number>> = { linear: 1, quadratic: 1, 'random-features': 64, tangent: 16 };

export interface BaselineOptions {
  /** Which baselines (default: all three). */
  readonly kinds?: readonly BaselineKind[];
  /** Which trainings (default: clean and adversarial). */
  readonly trainings?: readonly BaselineTraining[];
  /** Epochs of each training (default: the config's cleanEpochs, or its adversarialEpochs if that is 0). */
  readonly epochs?: number;
  /** Absolute learning rates per kind; a kind left out gets defaultLrFactor[kind] * train.optimizer.lr. */
  readonly lr?: Partial<Record<BaselineKind, number>>;
  /** Called after each epoch. */
  readonly onEpoch?: (event: { kind: BaselineKind; training: BaselineTraining; epoch: number; epochs: number; loss: number }) => void;
  /** Aborting stops between epochs (with an error). */
  readonly signal?: AbortSignal;
}

export interface BaselineSummary {
  readonly cleanAccuracy: number;
  /** The headline attack's robust accuracy at eval.eps. */
  readonly robustAccuracy: number;
  /** The per-sample worst case over every attack that ran, at eval.eps. */
  readonly worstCaseRobustAccuracy: number;
}

export interface BaselineResult {
  readonly kind: BaselineKind;
  readonly training: BaselineTraining;
  readonly lr: number;
  readonly epochs: number;
  /** Mean training loss of the last epoch. */
  readonly finalLoss: number;
  readonly summary: BaselineSummary;
  readonly evaluation: Evaluation;
}

/** A fresh baseline of `kind` at the network's initialisation for this config. */
export function createBaseline(kind: BaselineKind, config: SparseCodingExperiment): TrainableBaseline {
  const d = config.task.d;
  if (kind === 'linear') return new LinearClassifier(d);
  if (kind === 'quadratic') return new QuadraticClassifier(d);
  const net = TwoLayerNet.initialise(config.model, d, config.seed);
  try {
    return kind === 'random-features' ? RandomFeatures.fromNetwork(net) : TangentModel.fromNetwork(net);
  } finally {
    net.dispose();
  }
}

/** The learning rate a kind trains with under `options`. */
export function baselineLr(kind: BaselineKind, config: SparseCodingExperiment, options: Pick<BaselineOptions, 'lr'> = {}): number {
  return options.lr?.[kind] ?? defaultLrFactor[kind] * config.train.optimizer.lr;
}

const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Train every requested baseline clean and adversarially, and evaluate each. */
export async function runBaselines(config: SparseCodingExperiment, options: BaselineOptions = {}): Promise<BaselineResult[]> {
  const data = sparseCodingTask(config.task, config.seed, config.eval.testSize);
  const direction = mixtureDirection(data, config.eval.norm);
  const clip = data.dataRange;
  const epochs = options.epochs ?? (config.train.cleanEpochs > 0 ? config.train.cleanEpochs : config.train.adversarialEpochs);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError(`epochs ${epochs}: expected an integer >= 1`);
  const test: TestSet = { x: tf.tensor2d(data.test.x, [data.test.n, data.d]), y: tf.tensor1d(data.test.y), n: data.test.n };
  const { mode, lambda } = config.train.mix;
  const results: BaselineResult[] = [];
  try {
    for (const kind of options.kinds ?? baselineKinds) {
      for (const training of options.trainings ?? baselineTrainings) {
        const lr0 = baselineLr(kind, config, options);
        if (!(lr0 > 0 && Number.isFinite(lr0))) throw new RangeError(`lr for ${kind} = ${lr0}: expected a finite rate > 0`);
        const model = createBaseline(kind, config);
        const optimizer = new Optimizer(config.train.optimizer);
        // The network's streams: the same batch order, the same random starts.
        const shuffleRng = RandomStream.derive(config.seed, 'train.shuffle');
        const attack = training === 'adversarial' ? trainingAttack(config, clip, RandomStream.derive(config.seed, 'train.attack')) : null;
        let finalLoss = NaN;
        try {
          for (let epoch = 1; epoch <= epochs; epoch++) {
            if (options.signal?.aborted) throw new Error('The baselines run was cancelled');
            const lr = learningRate(lr0, config.train.schedule, epoch - 1, epochs);
            const batches = epochBatches(data.train, shuffleRng.permutation(data.train.n), config.train.batchSize);
            let lossSum: tf.Scalar = tf.scalar(0);
            try {
              for (const batch of batches) {
                let x = batch.x;
                let y = batch.y;
                let scale = batch.scale;
                const owned: tf.Tensor[] = [];
                if (attack) {
                  const xAdv = pgdPerturb(model, batch.x, batch.y, attack);
                  owned.push(xAdv);
                  if (mode === 'replace') {
                    x = xAdv;
                  } else {
                    // loss = (1 - lambda) L(clean) + lambda L(adversarial)
                    x = tf.concat([batch.x, xAdv], 0) as tf.Tensor2D;
                    y = tf.concat([batch.y, batch.y]) as tf.Tensor1D;
                    scale = tf.tidy(() => tf.concat([tf.mul(batch.scale, 1 - lambda), tf.mul(batch.scale, lambda)])) as tf.Tensor1D;
                    owned.push(x, y, scale);
                  }
                }
                const { grads, loss } = model.gradients(x, y, scale);
                model.setParameters(optimizer.step(model.parameters(), grads, lr));
                const next = tf.add(lossSum, loss) as tf.Scalar;
                tf.dispose([lossSum, loss, ...grads, ...owned]);
                lossSum = next;
              }
            } finally {
              disposeBatches(batches);
            }
            finalLoss = lossSum.dataSync()[0]! / batches.length;
            lossSum.dispose();
            if (!Number.isFinite(finalLoss)) {
              throw new Error(`The ${kind} baseline's ${training} training loss became ${finalLoss} at epoch ${epoch}: lower its learning rate (${lr0})`);
            }
            options.onEpoch?.({ kind, training, epoch, epochs, loss: finalLoss });
            await breathe();
          }
          const evaluation = evaluateModel(model, test, config.eval, {
            label: 'final',
            globalEpoch: epochs,
            direction,
            clip,
            rng: RandomStream.derive(config.seed, 'eval.attacks'),
          });
          const headline = evaluation.worstCase.eps.indexOf(config.eval.eps);
          results.push({
            kind,
            training,
            lr: lr0,
            epochs,
            finalLoss,
            summary: {
              cleanAccuracy: evaluation.cleanAccuracy.estimate,
              robustAccuracy: evaluation.robustAccuracy.estimate,
              worstCaseRobustAccuracy: evaluation.worstCase.accuracy[headline]!.estimate,
            },
            evaluation,
          });
        } finally {
          optimizer.dispose();
          model.dispose();
        }
      }
    }
  } finally {
    tf.dispose([test.x, test.y]);
  }
  return results;
}
