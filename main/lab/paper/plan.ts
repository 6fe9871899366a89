/**
 * The runs the paper's five claims (../../../shared/paper.ts) need for a base experiment and
 * seeds: per seed the main fine-tune, the small-init run and one low-rank fine-tune per rank, and
 * C4's baseline set, each with its resolved config and config hash (what ./runMatching.ts looks
 * up in the store), plus the settings line every caption ends with and the CLI command that makes
 * the same figures.
 *
 * Pure: nothing here reads the store, starts a run or trains a baseline. The CLI (../cli/verbs/
 * figures.ts) and the service (./paperService.ts) each start the missing work their own way.
 */
import { configOverrides, cliValue, shellWord } from '../../../shared/cliCommand.ts';
import { ConfigError, isSparseCoding, limits, resolveExperiment, type ExperimentInput, type ResolvedExperiment, type SparseCodingExperiment } from '../../../shared/config.ts';
import { setConfigPath } from '../../../shared/configPath.ts';
import { paperDefaults, type ClaimId } from '../../../shared/paper.ts';
import { defaultAutoScale, thresholdRatioText } from '../../../shared/thresholdRatio.ts';
import { configHash } from '../provenance.ts';

/** What the figures are of: a preset's experiment (with any changes), seeds 0..seeds-1, the rank sweep. */
export interface PaperRequest {
  /** The preset the input started from (named in captions and in the CLI command). */
  readonly preset: string;
  readonly presetConfig: ExperimentInput;
  /** The whole experiment: the preset's config with the user's changes laid over it. */
  readonly input: ExperimentInput;
  readonly seeds: number;
  readonly ranks: readonly number[];
  /** C3 against dimension: the d of each point (none: C3 without it). */
  readonly dimensions?: readonly number[];
}

/** A run the claims need. */
export interface PaperRunSpec {
  readonly kind: 'run';
  readonly key: string;
  readonly seed: number;
  readonly label: string;
  /** The run's name in the store. */
  readonly name: string;
  readonly claims: readonly ClaimId[];
  readonly input: ExperimentInput;
  readonly config: SparseCodingExperiment;
  readonly configHash: string;
}

/** C4's baselines of one seed (trained on the main run's config, kept in the BaselineCache). */
export interface PaperBaselineSpec {
  readonly kind: 'baselines';
  readonly key: 'baselines';
  readonly seed: number;
  readonly label: string;
  readonly claims: readonly ClaimId[];
  readonly config: SparseCodingExperiment;
  readonly configHash: string;
}

export type PaperSpec = PaperRunSpec | PaperBaselineSpec;

export interface PaperSpecs {
  readonly request: PaperRequest;
  readonly seeds: readonly number[];
  /** The main run's config at seed 0: what the captions describe. */
  readonly main: SparseCodingExperiment;
  readonly runs: readonly PaperRunSpec[];
  readonly baselines: readonly PaperBaselineSpec[];
  /** The settings line every caption ends with. */
  readonly settings: string;
  /** `npm run lab -- figures --out DIR ...`: the same figures without a window. */
  readonly command: string;
}

/** The preset `lab figures` records on the runs it starts (so the runs list can find them). */
export const paperRunPreset = 'figures';

/** Which claims rest on each kind of run (see shared/paper.ts). */
const runClaims: Readonly<Record<'main' | 'small-init' | 'dimension' | 'rank' | 'baselines', readonly ClaimId[]>> = {
  main: ['C1', 'C2', 'C3', 'C4', 'C5'],
  'small-init': ['C3'],
  dimension: ['C3'],
  rank: ['C5'],
  baselines: ['C4'],
};

function resolveVariant(input: ExperimentInput, path: string): SparseCodingExperiment {
  let config: ResolvedExperiment;
  try {
    config = resolveExperiment(input, 'experiment');
  } catch (error) {
    if (error instanceof ConfigError && path !== '') {
      // A variant's own field (ranks.2) is the user's input that made it.
      throw new ConfigError(error.message, error.problems.map((p) => (p.path === 'train.lowRank.rank' ? { ...p, path } : p)));
    }
    throw error;
  }
  if (!isSparseCoding(config)) throw new ConfigError(`The paper's figures are of the synthetic sparse-coding task with the two-layer network, not ${config.task.kind} with ${config.model.kind}`, [{ path: 'task.kind', message: `"${config.task.kind}": expected sparse-coding (with model.kind two-layer)` }]);
  return config;
}

/**
 * C3 at dimension d: the small-init run (C3's regime) with m = d, rho = c · sqrt(k/d) (auto, the
 * base's c if it has one) so that the network stays alive, and the training set scaled with d
 * (the sample size a two-layer net needs grows with d; the reference point is 20,000 at d = 512).
 * Epochs and everything else are the base's.
 */
export function dimensionInput(withSeed: ExperimentInput, base: SparseCodingExperiment, d: number): ExperimentInput {
  let input = setConfigPath(withSeed, 'model.initScale', paperDefaults.smallInitScale);
  input = setConfigPath(input, 'task.d', d);
  input = setConfigPath(input, 'model.width', d);
  input = setConfigPath(input, 'task.trainSize', Math.max(base.train.batchSize, Math.round((base.task.trainSize * d) / base.task.d)));
  input = setConfigPath(input, 'model.threshold.ratio', 'auto');
  return setConfigPath(input, 'model.threshold.autoScale', base.model.threshold.autoScale ?? defaultAutoScale);
}

/** "seeds 0–2" / "seed 0" */
export function seedsText(seeds: readonly number[]): string {
  if (seeds.length === 1) return `seed ${seeds[0]}`;
  return `seeds ${seeds[0]}–${seeds[seeds.length - 1]}`;
}

/** The settings line of every caption: the experiment, the seeds, the test set. */
export function paperSettings(preset: string, config: SparseCodingExperiment, seeds: readonly number[]): string {
  const a = config.train.attack;
  const attack = `${a.kind.toUpperCase()}${a.kind === 'pgd' ? `-${a.steps}` : ''} ${a.norm}`;
  const n = seeds.length;
  return `${preset} preset (d = ${config.task.d}, m = ${config.model.width}, k = ${config.task.k}, ${config.task.trainSize} training samples, ${thresholdRatioText(config.model.threshold, config.task)}, ${config.train.cleanEpochs} clean + ${config.train.adversarialEpochs} ${attack} epochs at eps ${a.eps}); ${n} seed${n > 1 ? 's' : ''}, mean ± std (${seedsText(seeds)}); test set ${config.eval.testSize}`;
}

/** The CLI command that makes the same figures. */
export function figuresCliCommand(request: PaperRequest): string {
  const words = ['npm', 'run', 'lab', '--', 'figures', '--out', 'DIR', '--preset', shellWord(request.preset), '--seeds', String(request.seeds)];
  if (request.ranks.join(',') !== paperDefaults.ranks.join(',')) words.push('--ranks', request.ranks.join(','));
  if (request.dimensions && request.dimensions.length > 0) words.push('--dimensions', request.dimensions.join(','));
  for (const o of configOverrides(request.presetConfig, request.input)) {
    if (o.path === 'seed') continue; // the figures' seeds are 0..N-1 whatever the input says
    words.push('--set', shellWord(`${o.path}=${cliValue(o.value)}`));
  }
  return words.join(' ');
}

/**
 * The runs and baselines the five claims need. Throws a ConfigError whose problems name the
 * field: an experiment field (`task.d`), `seeds`, or `ranks.N`.
 */
export function planPaper(request: PaperRequest): PaperSpecs {
  if (!Number.isInteger(request.seeds) || request.seeds < 1 || request.seeds > paperDefaults.maxSeeds) {
    throw new ConfigError(`seeds ${request.seeds}: expected an integer from 1 to ${paperDefaults.maxSeeds}`, [{ path: 'seeds', message: `${request.seeds}: expected an integer from 1 to ${paperDefaults.maxSeeds}` }]);
  }
  const main = resolveVariant({ ...request.input, seed: 0 }, '');
  const problems: { path: string; message: string }[] = [];
  if (main.train.protocol !== 'fine-tune') problems.push({ path: 'train.protocol', message: `"${main.train.protocol}": the paper's figures need the fine-tune protocol (clean, then adversarial from the clean weights)` });
  if (main.train.lowRank.rank !== null) problems.push({ path: 'train.lowRank.rank', message: `${main.train.lowRank.rank}: the main runs need the full update; the low-rank fine-tunes come from ranks` });
  const full = Math.min(main.task.d, main.model.width);
  if (request.ranks.length === 0) problems.push({ path: 'ranks', message: 'expected at least one rank' });
  request.ranks.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 1 || r >= full) problems.push({ path: `ranks.${i}`, message: `${r}: expected an integer from 1 to ${full - 1} (below min(d, m) = ${full}, the full update's rank)` });
    else if (request.ranks.indexOf(r) !== i) problems.push({ path: `ranks.${i}`, message: `${r}: given twice` });
  });
  const dimensions = request.dimensions ?? paperDefaults.dimensions;
  if (dimensions.length > paperDefaults.maxDimensions) problems.push({ path: 'dimensions', message: `${dimensions.length} dimensions: expected at most ${paperDefaults.maxDimensions}` });
  dimensions.forEach((d, i) => {
    if (!Number.isInteger(d) || d < main.task.k || d > limits.dimension) problems.push({ path: `dimensions.${i}`, message: `${d}: expected an integer from k = ${main.task.k} to ${limits.dimension}` });
    else if (dimensions.indexOf(d) !== i) problems.push({ path: `dimensions.${i}`, message: `${d}: given twice` });
  });
  if (problems.length > 0) throw new ConfigError(`The paper's figures cannot be made of this experiment: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);

  const ranks = [...request.ranks].sort((a, b) => a - b);
  const seeds = Array.from({ length: request.seeds }, (_, s) => s);
  const runs: PaperRunSpec[] = [];
  const baselines: PaperBaselineSpec[] = [];
  for (const seed of seeds) {
    const withSeed: ExperimentInput = { ...request.input, seed };
    const variants: { key: string; claims: readonly ClaimId[]; input: ExperimentInput; path: string }[] = [
      { key: 'main', claims: runClaims.main, input: withSeed, path: '' },
      { key: 'small-init', claims: runClaims['small-init'], input: setConfigPath(withSeed, 'model.initScale', paperDefaults.smallInitScale), path: '' },
      ...ranks.map((r) => ({ key: `rank-${r}`, claims: runClaims.rank, input: setConfigPath(withSeed, 'train.lowRank.rank', r), path: `ranks.${request.ranks.indexOf(r)}` })),
      ...[...dimensions]
        .sort((a, b) => a - b)
        .filter((d) => d <= paperDefaults.singleSeedAbove || seed === seeds[0])
        .map((d) => ({ key: `dim-${d}`, claims: runClaims.dimension, input: dimensionInput(withSeed, main, d), path: `dimensions.${dimensions.indexOf(d)}` })),
    ];
    for (const v of variants) {
      const config = resolveVariant(v.input, v.path);
      const label = `${v.key} · seed ${seed}`;
      runs.push({ kind: 'run', key: v.key, seed, label, name: `figures ${request.preset} ${label}`, claims: v.claims, input: v.input, config, configHash: configHash(config) });
    }
    const mainConfig = runs.find((r) => r.key === 'main' && r.seed === seed)!.config;
    baselines.push({ kind: 'baselines', key: 'baselines', seed, label: `baselines · seed ${seed}`, claims: runClaims.baselines, config: mainConfig, configHash: configHash(mainConfig) });
  }
  return { request: { ...request, ranks }, seeds, main, runs, baselines, settings: paperSettings(request.preset, main, seeds), command: figuresCliCommand(request) };
}
