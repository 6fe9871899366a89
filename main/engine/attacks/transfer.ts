/**
 * Transfer attacks between the models of one run (Papernot et al. 2016; Tramèr et al. 2017):
 * adversarial inputs crafted white-box on a source model, then fed to a target model. The
 * run's two models (after clean training, after fine-tuning) share one MarginModel whose
 * weights are swapped in by `activate`, so the table is a square: entry [s][t] is the target t's
 * robust accuracy on the inputs crafted on s, and the diagonal is the white-box number.
 *
 * Only the diagonal is an upper bound on the target's robust accuracy in the usual sense (the
 * attack saw the target's gradients); an off-diagonal entry says how far the perturbations of one
 * model carry to the other, and is usually higher. A sample counts as robust only when the
 * target classifies it correctly both clean and on the crafted input (as in evaluate.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalAttack, Norm } from '../../../shared/config.ts';
import type { TransferSummary } from '../../../shared/events.ts';
import type { MarginModel } from '../models/marginModel.ts';
import type { RandomStream } from '../random.ts';
import { accuracyOf, cleanMistakes, describeAttack, type TestSet } from './evaluate.ts';
import { pgdRows, stepSizeFor } from './pgd.ts';

/** The gradient attacks that craft a transferable input: PGD as configured, or FGM (one step of size eps). */
export type TransferAttack = Extract<EvalAttack, { kind: 'pgd' | 'fgm' }>;

export interface TransferContext {
  readonly eps: number;
  readonly norm: Norm;
  readonly clip: readonly [number, number] | null;
  readonly rng: RandomStream;
}

/** The first gradient attack of the evaluation's list (the one the headline uses when it leads), or null. */
export function transferAttackOf(attacks: readonly EvalAttack[]): TransferAttack | null {
  return (attacks.find((a) => a.kind === 'pgd' || a.kind === 'fgm') as TransferAttack | undefined) ?? null;
}

/**
 * The adversarial inputs x + delta [n, d] that `attack` finds on `model` at radius `context.eps`,
 * with the attack's own steps, step size, random start, restarts and clipping. With restarts, each
 * sample keeps the restart with the lowest margin on the source, as pgdAttack does.
 */
export function craftAdversarial(model: MarginModel, test: TestSet, attack: TransferAttack, context: TransferContext): tf.Tensor2D {
  const pgd =
    attack.kind === 'pgd'
      ? { steps: attack.steps, stepSize: attack.stepSize, stepScale: undefined, randomStart: attack.randomStart, restarts: attack.restarts }
      : { steps: 1, stepSize: null, stepScale: 1, randomStart: false, restarts: 1 };
  const clip = attack.clip ? context.clip : null;
  const eps = new Float32Array(test.n).fill(context.eps);
  const alpha = new Float32Array(test.n).fill(stepSizeFor(context.eps, pgd.steps, pgd.stepSize, pgd.stepScale));
  const session = model.openInputGradient();
  try {
    let best: tf.Tensor2D | null = null;
    let bestMargin: tf.Tensor1D | null = null;
    for (let r = 0; r < pgd.restarts; r++) {
      const { x, zeroGradient } = pgdRows(session, test.x, test.y, eps, alpha, { norm: context.norm, steps: pgd.steps, randomStart: pgd.randomStart, clip, rng: context.rng });
      zeroGradient.dispose();
      const margin = tf.tidy(() => session.marginGradient(x, test.y).margin);
      if (!best || !bestMargin) {
        best = x;
        bestMargin = margin;
        continue;
      }
      const [keptX, keptMargin] = tf.tidy(() => {
        const better = tf.less(margin, bestMargin!);
        return [tf.where(tf.reshape(better, [-1, 1]), x, best!) as tf.Tensor2D, tf.minimum(margin, bestMargin!) as tf.Tensor1D];
      });
      tf.dispose([best, bestMargin, x, margin]);
      best = keptX;
      bestMargin = keptMargin;
    }
    bestMargin?.dispose();
    return best!;
  } finally {
    session.dispose();
  }
}

/** A model of the table: its label and how to load its weights into the shared classifier. */
export interface TransferModel {
  readonly label: string;
  readonly activate: () => void;
}


/**
 * The square transfer table of `models` on `test`. `model` is the classifier whose weights each
 * `activate` loads; it is left holding the last model's weights, so a caller that needs another
 * one loaded afterwards activates it itself.
 */
export function transferTable(model: MarginModel, models: readonly TransferModel[], test: TestSet, attack: TransferAttack, context: TransferContext): TransferSummary {
  const crafted: tf.Tensor2D[] = [];
  try {
    for (const source of models) {
      source.activate();
      crafted.push(craftAdversarial(model, test, attack, context));
    }
    const columns = models.map((target) => {
      target.activate();
      const cleanWrong = cleanMistakes(model, test);
      return crafted.map((xAdv) => {
        const fooled = tf.tidy(() => tf.lessEqual(model.margins(xAdv, test.y), 0)).dataSync();
        let correct = 0;
        for (let i = 0; i < test.n; i++) if (!fooled[i] && !cleanWrong[i]) correct++;
        return accuracyOf(correct, test.n);
      });
    });
    return {
      attack: describeAttack(attack, context.norm),
      eps: context.eps,
      models: models.map((m) => m.label),
      accuracy: models.map((_, s) => models.map((__, t) => columns[t]![s]!)),
    };
  } finally {
    tf.dispose(crafted);
  }
}
