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
 * the flagship of ../shared/SCIENCE.md, so `{}` parses to the flagship experiment.
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

export const taskSchema = z.discriminatedUnion('kind', [sparseCodingTaskSchema]);

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

export const modelSchema = z.discriminatedUnion('kind', [twoLayerModelSchema]);

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
export type TwoLayerModel = z.output<typeof twoLayerModelSchema>;
export type TrainAttack = z.output<typeof trainAttackSchema>;
export type EvalAttack = z.output<typeof evalAttackSchema>;
export type Norm = z.output<typeof normSchema>;

/** A resolved config: every null that means "the same as ..." replaced by its value. */
export type ResolvedExperiment = ExperimentConfig & {
  eval: ExperimentConfig['eval'] & { eps: number; norm: Norm };
};

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
  const atoms = task.atoms ?? task.d;
  if (atoms > task.d) {
    problems.push({ path: 'task.atoms', message: `${atoms}: expected at most task.d = ${task.d} (orthonormal dictionary)` });
  }
  if (task.k > atoms) {
    problems.push({ path: 'task.k', message: `${task.k}: expected at most the dictionary size ${atoms}` });
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
  for (const [key, kind] of [['task', 'sparse-coding'], ['model', 'two-layer']] as const) {
    const part = out[key];
    if (part && typeof part === 'object' && !Array.isArray(part) && !('kind' in part)) out[key] = { kind, ...part };
  }
  return out;
}

/** The dictionary size D of a sparse-coding task. */
export function dictionarySize(task: SparseCodingTask): number {
  return task.atoms ?? task.d;
}
