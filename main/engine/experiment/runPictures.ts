/**
 * The run's adversarial pictures (../attacks/adversarialPictures.ts): eval.pictures' samples
 * attacked on the model after clean training (when the protocol has one) and on the final model,
 * with the evaluation's first gradient attack at its radius, from their own random stream. Null
 * when no pictures are asked for, no gradient attack is configured, or the clean model's learned
 * thresholds were lost (a checkpoint from before they were kept). The final weights are loaded
 * again afterwards.
 */
import type { AdversarialExamples } from '../../../shared/adversarial.ts';
import { picturesOf } from '../../../shared/config.ts';
import { adversarialPictures, pictureIndices } from '../attacks/adversarialPictures.ts';
import { transferAttackOf } from '../attacks/transfer.ts';
import { adversarialPicturesStreamName, RandomStream } from '../random.ts';
import type { ExperimentRun } from './experimentRun.ts';

export function picturesOfRun(run: ExperimentRun): AdversarialExamples | null {
  const { config, testbed, Wclean } = run;
  const { count, indices } = picturesOf(config.eval);
  const attack = transferAttackOf(config.eval.attacks);
  if (!attack || (count === 0 && indices.length === 0)) return null;
  const learned = config.model.kind === 'two-layer' && config.model.threshold.mode === 'learned';
  if (Wclean && learned && !run.bClean) return null;
  const chosen = pictureIndices(testbed.test.y.dataSync(), count, indices);
  if (chosen.length === 0) return null;
  const Wfinal = testbed.weights();
  const bFinal = testbed.thresholds();
  const finalLabel = config.train.protocol === 'fine-tune' ? 'after fine-tuning' : 'final';
  const models = [
    ...(Wclean ? [{ label: 'after clean', activate: () => testbed.restore(Wclean, run.bClean) }] : []),
    { label: finalLabel, activate: () => testbed.restore(Wfinal, bFinal) },
  ];
  const context = { eps: config.eval.eps, norm: config.eval.norm, clip: testbed.clip, rng: RandomStream.derive(config.seed, adversarialPicturesStreamName) };
  const pictures = adversarialPictures(testbed, models, chosen, attack, context);
  testbed.restore(Wfinal, bFinal);
  return pictures;
}
