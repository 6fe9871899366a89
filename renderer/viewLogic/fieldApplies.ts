/**
 * Fields that mean nothing under the draft's other choices: Adam's moments under SGD, the
 * threshold value b in relative mode, PGD's steps under FGM, the step schedule's factor under a
 * constant rate. The form leaves them out (unless their value is refused, so a problem is never
 * hidden); their values stay in the draft and come back when the choice does.
 */
import { valueAt, type Draft } from './draft.ts';

type Rule = (draft: Draft) => boolean;

const is = (path: string, ...values: unknown[]): Rule => (draft) => values.includes(valueAt(draft, path));
const not = (rule: Rule): Rule => (draft) => !rule(draft);

/** When each conditional field applies, by its path. */
const appliesWhen: Readonly<Record<string, Rule>> = {
  'train.cleanEpochs': not(is('train.protocol', 'adversarial')),
  'train.adversarialEpochs': not(is('train.protocol', 'clean')),
  'train.optimizer.momentum': is('train.optimizer.kind', 'sgd'),
  'train.optimizer.beta1': is('train.optimizer.kind', 'adam'),
  'train.optimizer.beta2': is('train.optimizer.kind', 'adam'),
  'train.optimizer.epsilon': is('train.optimizer.kind', 'adam'),
  'train.optimizer.weightDecay': is('model.kind', 'mlp'),
  'train.schedule.every': is('train.schedule.kind', 'step'),
  'train.schedule.gamma': is('train.schedule.kind', 'step'),
  'train.schedule.minLr': is('train.schedule.kind', 'cosine'),
  'train.attack.steps': is('train.attack.kind', 'pgd'),
  'train.attack.stepSize': is('train.attack.kind', 'pgd'),
  'train.attack.randomStart': is('train.attack.kind', 'pgd'),
  'train.mix.lambda': is('train.mix.mode', 'mix'),
  'train.lowRank': not(is('model.kind', 'cnn')),
  'train.lowRank.initScale': not(is('train.lowRank.rank', null, undefined)),
  'model.threshold.ratio': is('model.threshold.mode', 'relative'),
  'model.threshold.autoScale': is('model.threshold.ratio', 'auto'),
  'model.threshold.value': is('model.threshold.mode', 'fixed', 'learned'),
  'model.thresholdRatio': is('model.activation', 'symmetric-threshold'),
};

/** Whether the field at `path` means something under the draft's choices. */
export function fieldApplies(path: string, draft: Draft): boolean {
  const rule = appliesWhen[path];
  return rule ? rule(draft) : true;
}
