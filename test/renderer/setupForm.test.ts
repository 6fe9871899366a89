/**
 * The setup form's pure pieces: problems in plain words at the field (a list element's on its
 * list), fields that do not apply, what changed from the preset (one edit, one change), the draft
 * kept across a reload, and radii as fractions of 255 on image tasks.
 */
import { describe, expect, it } from 'vitest';
import { cliCommand, configOverrides } from '../../shared/cliCommand.ts';
import type { ConfigError} from '../../shared/config.ts';
import { experimentSchema, resolveExperiment } from '../../shared/config.ts';
import { presetByName } from '../../shared/presets.ts';
import { changedFields } from '../../renderer/viewLogic/changedFields.ts';
import { isRadiusField, listFromText, numberFromText, withValue, type Draft } from '../../renderer/viewLogic/draft.ts';
import { fieldApplies } from '../../renderer/viewLogic/fieldApplies.ts';
import { onListFields, plainMessage } from '../../renderer/viewLogic/plainProblem.ts';
import { experimentFields, listFieldPaths } from '../../renderer/viewLogic/schemaFields.ts';
import { loadSetup, saveSetup, setupStorageKey } from '../../renderer/viewLogic/setupStorage.ts';

const draftOf = (preset: string): Draft => structuredClone(experimentSchema.parse(presetByName(preset).config)) as Draft;

/** The problems the schema names for a draft. */
function problemsOf(draft: Draft) {
  try {
    resolveExperiment(draft);
    return [];
  } catch (e) {
    return [...(e as ConfigError).problems];
  }
}

describe('problems in plain words', () => {
  it('says what is expected, not what the validator said', () => {
    const says = (patch: [string, unknown]) => problemsOf(withValue(draftOf('flagship'), ...patch)).map((p) => [p.path, plainMessage(p.message)]);
    expect(says(['seed', -1])).toEqual([['seed', 'at least 0']]);
    expect(says(['seed', 1.5])).toEqual([['seed', 'a whole number, at least 0']]);
    expect(says(['train.cleanEpochs', 1.5])).toEqual([['train.cleanEpochs', 'a whole number from 0 to 10000']]);
    expect(says(['seed', 'abc'])).toEqual([['seed', 'a number']]);
    expect(says(['train.optimizer.lr', 0])).toEqual([['train.optimizer.lr', 'more than 0']]);
    expect(says(['train.optimizer.beta1', 1])).toEqual([['train.optimizer.beta1', 'at most 0.9999']]);
    expect(says(['task.d', null])).toEqual([['task.d', 'a number']]);
    expect(says(['model.threshold.mode', 'bogus'])).toEqual([['model.threshold.mode', 'one of relative, fixed, learned']]);
    expect(says(['train.batchSize', 99999])).toEqual([['train.batchSize', 'at most task.trainSize = 8000']]);
    expect(says(['eval.epsGrid', []])).toEqual([['eval.epsGrid', 'at least one value']]);
  });

  it('marks a bad eps grid on its own field, naming the value by its place', () => {
    const problems = problemsOf(withValue(draftOf('flagship'), 'eval.epsGrid', listFromText('0, x, -1')));
    const lists = listFieldPaths(experimentFields());
    expect(lists.has('eval.epsGrid')).toBe(true);
    expect(onListFields(problems, lists).map((p) => [p.path, plainMessage(p.message)])).toEqual([
      ['eval.epsGrid', '2nd value (x): a number'],
      ['eval.epsGrid', '3rd value (-1): at least 0'],
    ]);
  });
});

describe('fields that do not apply', () => {
  it('hides Adam’s moments under SGD and momentum under Adam', () => {
    const sgd = draftOf('flagship');
    expect(['momentum', 'beta1', 'beta2', 'epsilon'].map((k) => fieldApplies(`train.optimizer.${k}`, sgd))).toEqual([true, false, false, false]);
    const adam = withValue(sgd, 'train.optimizer.kind', 'adam');
    expect(['momentum', 'beta1', 'beta2', 'epsilon'].map((k) => fieldApplies(`train.optimizer.${k}`, adam))).toEqual([false, true, true, true]);
  });

  it('hides the value b in relative mode, the ratio in fixed mode, PGD’s steps under FGM', () => {
    const relative = draftOf('flagship');
    expect([fieldApplies('model.threshold.value', relative), fieldApplies('model.threshold.ratio', relative)]).toEqual([false, true]);
    const fixed = withValue(relative, 'model.threshold.mode', 'fixed');
    expect([fieldApplies('model.threshold.value', fixed), fieldApplies('model.threshold.ratio', fixed)]).toEqual([true, false]);
    const fgm = withValue(relative, 'train.attack.kind', 'fgm');
    expect(['steps', 'stepSize', 'randomStart', 'eps'].map((k) => fieldApplies(`train.attack.${k}`, fgm))).toEqual([false, false, false, true]);
    expect(fieldApplies('train.mix.lambda', relative)).toBe(false);
    expect(fieldApplies('train.schedule.gamma', withValue(relative, 'train.schedule.kind', 'step'))).toBe(true);
  });

  it('shows low-rank fine-tuning for the two-layer net and the image MLP, which take it, and hides it for the CNN, which refuses it', () => {
    const mlp = withValue(draftOf('mnist-mlp'), 'train.lowRank.rank', 16);
    expect([fieldApplies('train.lowRank', draftOf('flagship')), fieldApplies('train.lowRank', mlp), fieldApplies('train.lowRank.initScale', mlp)]).toEqual([true, true, true]);
    expect(problemsOf(mlp)).toEqual([]);
    expect(fieldApplies('train.lowRank', draftOf('cifar-cnn'))).toBe(false);
    // A refused value stays visible where it is refused (ConfigGroup shows a field with a problem).
    expect(problemsOf(withValue(draftOf('cifar-cnn'), 'train.lowRank.rank', 4)).map((p) => p.path)).toContain('train.lowRank.rank');
  });
});

describe('what changed from the preset', () => {
  it('counts one edit as one change, with the preset’s value, and the command line adds no attack kind', () => {
    const preset = presetByName('flagship').config;
    const edited = withValue(draftOf('flagship'), 'train.attack.eps', 0.1);
    expect([...changedFields(preset, edited)]).toEqual([['train.attack.eps', 0.3]]);
    expect(configOverrides(preset, edited)).toEqual([{ path: 'train.attack.eps', value: 0.1 }]);
    expect(cliCommand({ preset: 'flagship', presetConfig: preset, input: edited })).not.toContain('train.attack.kind');
    // Putting the preset's value back is no change at all.
    expect(changedFields(preset, withValue(edited, 'train.attack.eps', 0.3)).size).toBe(0);
  });

  it('still names a union’s kind on the command line where the schema needs it', () => {
    const preset = presetByName('flagship').config;
    const edited = withValue(draftOf('flagship'), 'model.width', 64);
    expect(configOverrides(preset, edited).map((o) => o.path)).toEqual(['model.kind', 'model.width']);
    expect([...changedFields(preset, edited).keys()]).toEqual(['model.width']);
  });
});

describe('the draft across a reload', () => {
  const memory = () => {
    const items = new Map<string, string>();
    return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
  };

  it('comes back as it was saved', () => {
    const storage = memory();
    const draft = withValue(draftOf('quick'), 'seed', 7);
    saveSetup(storage, { preset: 'quick', draft, runName: 'mine', notes: 'a note' });
    expect(loadSetup(storage, ['flagship', 'quick'])).toEqual({ preset: 'quick', draft, runName: 'mine', notes: 'a note' });
  });

  it('ignores what it did not write: bad JSON, another shape, an unknown preset', () => {
    const storage = memory();
    for (const bad of ['{', '[]', '{"preset":"nope","draft":{}}', '{"preset":"quick","draft":[1]}']) {
      storage.items.set(setupStorageKey, bad);
      expect(loadSetup(storage, ['quick'])).toBeNull();
    }
  });
});

describe('radii on image tasks', () => {
  it('reads fractions, and knows which fields are radii', () => {
    expect(numberFromText('1/255', false)).toBe(1 / 255);
    expect(numberFromText(' 8 / 255 ', false)).toBe(8 / 255);
    expect(numberFromText('1/0', false)).toBe('1/0');
    expect(numberFromText('a/255', false)).toBe('a/255');
    expect(listFromText('0, 1/255, 2/255')).toEqual([0, 1 / 255, 2 / 255]);
    expect(['train.attack.eps', 'eval.eps', 'eval.epsGrid', 'eval.attacks.0.stepSize', 'train.attack.steps'].map(isRadiusField)).toEqual([true, true, true, true, false]);
  });
});
