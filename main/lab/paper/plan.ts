/**
 * The paper's claims from the store: which runs the five figures of ../../shared/paper.ts need for
 * a base experiment and seeds, which of them the store already holds (finished runs are reused
 * by config hash and code version, so the Paper page, `lab figures` and any earlier `lab run` of
 * the same config share them), and the five claims built from the finished ones. What is still
 * missing leaves its claims pending, never failing: a page can show C1 while C5's rank sweep runs.
 *
 * Pure over the store: nothing here starts a run or trains a baseline. The CLI (cli/
 * figuresCommand.ts) and the service (paperService.ts) each start the missing work their own way.
 */
import { meanStd, type MeanStd } from '../../../shared/aggregate.ts';
import { configOverrides, cliValue, shellWord } from '../../../shared/cliCommand.ts';
import { FOREGROUND, type ClaimChart } from '../../../shared/charts/claims.ts';
import { CLEAN, ROBUST } from '../../../shared/charts/palette.ts';
import { ConfigError, isSparseCoding, resolveExperiment, type ExperimentInput, type ResolvedExperiment, type SparseCodingExperiment } from '../../../shared/config.ts';
import { setConfigPath } from '../../../shared/configPath.ts';
import {
  claimIds,
  claimMeta,
  paperDefaults,
  type ClaimCheck,
  type ClaimId,
  type PaperBaselineItem,
  type PaperClaim,
  type PaperItem,
  type PaperItemStatus,
  type PaperRunItem,
  type ReadyClaim,
} from '../../../shared/paper.ts';
import { coherentShareOf, hasDictionaryInstruments } from '../../../shared/events.ts';
import type { RunResult } from '../../../shared/result.ts';
import type { BaselineResult } from '../../engine/baselines.ts';
import { baselineDescriptions, learnedTolerance, lowerBoundCheck } from '../lowerBound.ts';
import { codeVersion, configHash } from '../provenance.ts';
import type { BaselineCache } from '../store/baselineCache.ts';
import type { RunRecord, RunStore } from '../store/runStore.ts';

/** What the figures are of: a preset's experiment (with any changes), seeds 0..seeds-1, the rank sweep. */
export interface PaperRequest {
  /** The preset the input started from (named in captions and in the CLI command). */
  readonly preset: string;
  readonly presetConfig: ExperimentInput;
  /** The whole experiment: the preset's config with the user's changes laid over it. */
  readonly input: ExperimentInput;
  readonly seeds: number;
  readonly ranks: readonly number[];
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
const runClaims: Readonly<Record<'main' | 'small-init' | 'rank' | 'baselines', readonly ClaimId[]>> = {
  main: ['C1', 'C2', 'C3', 'C4', 'C5'],
  'small-init': ['C3'],
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
  return `${preset} preset (d = ${config.task.d}, m = ${config.model.width}, k = ${config.task.k}, ${config.task.trainSize} training samples, rho = ${config.model.threshold.ratio}, ${config.train.cleanEpochs} clean + ${config.train.adversarialEpochs} ${attack} epochs at eps ${a.eps}); ${n} seed${n > 1 ? 's' : ''}, mean ± std (${seedsText(seeds)}); test set ${config.eval.testSize}`;
}

/** The CLI command that makes the same figures. */
export function figuresCliCommand(request: PaperRequest): string {
  const words = ['npm', 'run', 'lab', '--', 'figures', '--out', 'DIR', '--preset', shellWord(request.preset), '--seeds', String(request.seeds)];
  if (request.ranks.join(',') !== paperDefaults.ranks.join(',')) words.push('--ranks', request.ranks.join(','));
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

// --- what the store holds -------------------------------------------------------------------

/** A run spec's matches in the store, by config hash and code version. */
export interface RunMatch {
  readonly finished: RunRecord | null;
  /** Queued or running now. */
  readonly active: RunRecord | null;
  /** The newest stopped attempt (interrupted, cancelled, failed, or queued with nothing to run it). */
  readonly previous: RunRecord | null;
  /** A finished run of the same config by other code (not reused: the code that made it differs). */
  readonly otherCode: RunRecord | null;
}

/**
 * Whether a queued or running record is being worked on. The default trusts the store; the
 * service knows better for "queued" (a record left queued by a server that stopped has nothing
 * to run it).
 */
export type LiveCheck = (run: RunRecord) => boolean;
const trustStore: LiveCheck = (run) => run.status === 'queued' || run.status === 'running';

export function matchRun(store: RunStore, spec: PaperRunSpec, isLive: LiveCheck = trustStore): RunMatch {
  let finished: RunRecord | null = null;
  let active: RunRecord | null = null;
  let previous: RunRecord | null = null;
  let otherCode: RunRecord | null = null;
  const code = codeVersion();
  for (const run of store.withConfig(spec.configHash)) {
    if (run.codeVersion !== code) {
      if (run.status === 'finished') otherCode ??= run;
    } else if (run.status === 'finished') finished ??= run;
    else if ((run.status === 'queued' || run.status === 'running') && isLive(run)) active ??= run;
    else previous ??= run;
  }
  return { finished, active, previous, otherCode };
}

/** Where a baseline set stands while something trains it (the service's BaselineJobs). */
export interface BaselineProgress {
  readonly status: 'queued' | 'running' | 'failed';
  readonly progress: { readonly done: number; readonly total: number } | null;
  readonly error: string | null;
}

export interface PaperLookup {
  readonly store: RunStore;
  readonly baselines: BaselineCache;
  readonly isLive?: LiveCheck;
  /** Where a baseline set that is not in the cache stands (null: nobody is training it). */
  readonly baselineProgress?: (spec: PaperBaselineSpec) => BaselineProgress | null;
  /** Expected training seconds of a run (null: unknown). */
  readonly estimateSeconds?: (config: ResolvedExperiment) => number | null;
}

/** Every needed run and baseline set, with where it stands. */
export function paperItems(specs: PaperSpecs, lookup: PaperLookup): PaperItem[] {
  const runs = specs.runs.map((spec): PaperRunItem => {
    const match = matchRun(lookup.store, spec, lookup.isLive);
    const found = match.finished ?? match.active;
    const status: PaperItemStatus = match.finished ? 'finished' : match.active ? (match.active.status as 'queued' | 'running') : match.previous?.status === 'failed' ? 'failed' : 'missing';
    const previous = found ? null : match.previous;
    return {
      kind: 'run',
      key: spec.key,
      seed: spec.seed,
      label: spec.label,
      claims: spec.claims,
      status,
      runId: found?.id ?? null,
      configHash: spec.configHash,
      previous: previous ? { id: previous.id, status: previous.status, checkpointEpoch: previous.checkpointEpoch, error: previous.error } : null,
      otherCode: match.finished ? null : (match.otherCode?.codeVersion ?? null),
      estimateSeconds: match.finished ? null : (lookup.estimateSeconds?.(spec.config) ?? null),
    };
  });
  const baselines = specs.baselines.map((spec): PaperBaselineItem => {
    const cached = lookup.baselines.has(spec.configHash, codeVersion());
    const progress = cached ? null : (lookup.baselineProgress?.(spec) ?? null);
    return {
      kind: 'baselines',
      key: spec.key,
      seed: spec.seed,
      label: spec.label,
      claims: spec.claims,
      status: cached ? 'finished' : (progress?.status ?? 'missing'),
      progress: progress?.progress ?? null,
      error: progress?.error ?? null,
    };
  });
  return [...runs, ...baselines];
}

// --- the claims -----------------------------------------------------------------------------

/** What the claims are built from: the finished results, by spec. */
export interface ClaimInputs {
  readonly result: (spec: PaperRunSpec, runId: string) => RunResult;
  readonly baselines: (spec: PaperBaselineSpec) => readonly BaselineResult[];
}

const ms = (m: MeanStd, digits = 3) => (m.n === 0 ? '–' : m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits));
const pct = (x: number) => `${Math.round(100 * x)} %`;

/** Aggregate `pick` over seeds, at each index. */
function across<T>(items: readonly T[], length: number, pick: (item: T, i: number) => number | null | undefined): MeanStd[] {
  return Array.from({ length }, (_, i) => meanStd(items.map((it) => pick(it, i)).filter((v): v is number => typeof v === 'number')));
}

function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CSV text: numbers as they are (non-finite as empty), strings quoted. */
export function csvOf(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map((v) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : `"${v.replace(/"/g, '""')}"`)).join(','))].join('\n') + '\n';
}

/** The index of the snapshot at the epoch, or of the last one before it. */
function snapshotAt(epochs: readonly number[], epoch: number): number {
  const exact = epochs.indexOf(epoch);
  if (exact >= 0) return exact;
  let best = 0;
  epochs.forEach((e, i) => {
    if (e <= epoch) best = i;
  });
  return best;
}

const evaluation = (r: RunResult, label: 'after-clean' | 'final') => {
  const found = r.evaluations.find((e) => e.label === label);
  if (!found) throw new Error(`a run of the paper's figures has no "${label}" evaluation`);
  return found;
};

export interface BuiltClaim {
  readonly caption: string;
  readonly check: ClaimCheck;
  readonly chart: ClaimChart;
  readonly csv: string;
}

export interface ClaimContext {
  readonly specs: PaperSpecs;
  readonly config: SparseCodingExperiment;
  readonly settings: string;
  /** The finished results per seed, by variant key. */
  readonly results: readonly Readonly<Record<string, RunResult>>[];
  readonly baselines: readonly (readonly BaselineResult[])[];
}

const mainsOf = (c: ClaimContext) => c.results.map((r) => r.main!);

/**
 * Two binomial standard errors of an accuracy at p = 1/2 (the widest) on the test set: below it a
 * difference of accuracies is noise (0.022 at n = 2000).
 */
export const accuracyNoise = (testSize: number) => 2 * Math.sqrt(0.25 / testSize);

/**
 * How far a median over m neurons of a coherent share that is pure chance can stray from 0: one
 * random neuron's kappa has standard deviation about 1/sqrt(D), the median of m of them about
 * 1.25/sqrt(m D); two of those (0.020 at m = D = 128).
 */
export const kappaNoise = (width: number, atoms: number) => 2 * (1.25 / Math.sqrt(width * atoms));

/** C1's criterion: kappa rose by more than chance, and robust accuracy is below clean by more than noise (null: not measured). */
export function accumulationHolds(kappa: { init: number; afterClean: number }, accuracy: { clean: number; robust: number }, noise: { kappa: number; accuracy: number }): boolean | null {
  const rise = kappa.afterClean - kappa.init;
  const gap = accuracy.clean - accuracy.robust;
  return Number.isFinite(rise) && Number.isFinite(gap) ? rise > noise.kappa && gap > noise.accuracy : null;
}

/** C2's criterion: the worst-case robust accuracy rose by more than the test set's noise (null: not measured). */
export function purificationHolds(before: number, after: number, testSize: number): boolean | null {
  return Number.isFinite(before) && Number.isFinite(after) ? after - before > accuracyNoise(testSize) : null;
}

function claimC1(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const epochs = mains[0]!.instruments.map((e) => e.globalEpoch);
  const dictionary = (r: RunResult, i: number) => {
    const s = r.instruments[i];
    return s && hasDictionaryInstruments(s) ? s : undefined;
  };
  const mixture = across(mains, epochs.length, (r, i) => dictionary(r, i)?.mixtureRatio.summary.median);
  const coherence = across(mains, epochs.length, (r, i) => dictionary(r, i)?.coherence.summary.median);
  const share = across(mains, epochs.length, (r, i) => {
    const s = dictionary(r, i);
    return s ? coherentShareOf(s).summary.median : undefined;
  });
  const boundary = c.config.train.cleanEpochs;
  const atBoundary = snapshotAt(epochs, boundary);
  const atInit = snapshotAt(epochs, 0);
  const clean = meanStd(mains.map((r) => r.summary.afterClean!.cleanAccuracy));
  const robust = meanStd(mains.map((r) => r.summary.afterClean!.robustAccuracy));
  const attack = evaluation(mains[0]!, 'after-clean').attacks[0] ?? 'the evaluation attack';
  const shareBoundary = share[atBoundary]!;
  const shareInit = share[atInit]!;
  const kNoise = kappaNoise(c.config.model.width, c.config.task.atoms ?? c.config.task.d);
  const aNoise = accuracyNoise(c.config.eval.testSize);
  const rise = shareBoundary.mean - shareInit.mean;
  const gap = clean.mean - robust.mean;
  return {
    caption: `Median over neurons of the coherent mixture share κ (the part of each neuron's mixture along the label direction, as a share of the neuron: coherence × √(mixture ratio)), of the mixture coherence (dashed, same colour) and of the mixture ratio (energy outside each neuron's principal atom; grey dashed), over training; dashed vertical line: the end of clean training. The mixture ratio falls from about 1 because a random init is fully mixed and clean training grows the principal part faster than the mixture; the coherent part grows. After clean training: clean accuracy ${ms(clean)}, robust accuracy ${ms(robust)} (${attack}) at eps ${c.config.eval.eps}, median κ ${ms(shareBoundary)}. ${c.settings}.`,
    check: {
      text: `after clean training: median κ ${ms(shareBoundary, 3)} (init ${ms(shareInit, 3)}: a rise of ${rise.toFixed(3)}, chance ±${kNoise.toFixed(3)}); clean accuracy ${ms(clean)} vs robust ${ms(robust)} (a gap of ${gap.toFixed(3)}, noise ±${aNoise.toFixed(3)}); median mixture ratio ${ms(mixture[atBoundary]!, 2)}, coherence ${ms(coherence[atBoundary]!, 2)}`,
      holds: accumulationHolds({ init: shareInit.mean, afterClean: shareBoundary.mean }, { clean: clean.mean, robust: robust.mean }, { kappa: kNoise, accuracy: aNoise }),
    },
    chart: { kind: 'mixtures', data: { epochs, coherentShare: share, mixtureRatio: mixture, coherence, boundary } },
    csv: csvOf(
      ['epoch', 'coherent_share_mean', 'coherent_share_std', 'mixture_ratio_mean', 'mixture_ratio_std', 'coherence_mean', 'coherence_std'],
      epochs.map((e, i) => [e, share[i]!.mean, share[i]!.std, mixture[i]!.mean, mixture[i]!.std, coherence[i]!.mean, coherence[i]!.std]),
    ),
  };
}

function claimC2(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const eps = evaluation(mains[0]!, 'final').worstCase.eps;
  const mixCurve = (r: RunResult, label: 'after-clean' | 'final') => evaluation(r, label).curves.find((curve) => curve.attack.startsWith('mixture direction'));
  const worstClean = across(mains, eps.length, (r, i) => evaluation(r, 'after-clean').worstCase.accuracy[i]?.estimate);
  const worstFinal = across(mains, eps.length, (r, i) => evaluation(r, 'final').worstCase.accuracy[i]?.estimate);
  const mixClean = across(mains, eps.length, (r, i) => mixCurve(r, 'after-clean')?.accuracy[i]?.estimate);
  const mixFinal = across(mains, eps.length, (r, i) => mixCurve(r, 'final')?.accuracy[i]?.estimate);
  const change = meanStd(mains.map((r) => r.summary.update!.relativeChange));
  const at = eps.indexOf(c.config.eval.eps);
  const before = worstClean[at] ?? meanStd([]);
  const after = worstFinal[at] ?? meanStd([]);
  const attacks = evaluation(mains[0]!, 'final').attacks.join(', ');
  const noise = accuracyNoise(c.config.eval.testSize);
  return {
    caption: `Robust accuracy against eps (${c.config.eval.norm}), per-sample worst case over ${attacks}, after clean training and after adversarial fine-tuning from it; dashed: the mixture-direction attack alone. At eps ${c.config.eval.eps}: ${ms(before)} -> ${ms(after)}, while the weights move by ||W' - W|| / ||W|| = ${ms(change)}. ${c.settings}.`,
    check: {
      text: `worst-case robust accuracy at eps ${c.config.eval.eps}: ${ms(before)} → ${ms(after)} (a gain of ${after.mean - before.mean >= 0 ? '+' : ''}${(after.mean - before.mean).toFixed(3)}, noise ±${noise.toFixed(3)} at n = ${c.config.eval.testSize}), with ||W′ − W|| / ||W|| = ${ms(change, 2)}`,
      holds: purificationHolds(before.mean, after.mean, c.config.eval.testSize),
    },
    chart: { kind: 'purification', data: { eps, afterClean: worstClean, final: worstFinal, mixtureAfterClean: mixClean, mixtureFinal: mixFinal } },
    csv: csvOf(
      ['eps', 'after_clean_mean', 'after_clean_std', 'final_mean', 'final_std', 'mixture_after_clean_mean', 'mixture_final_mean'],
      eps.map((e, i) => [e, worstClean[i]!.mean, worstClean[i]!.std, worstFinal[i]!.mean, worstFinal[i]!.std, mixClean[i]!.mean, mixFinal[i]!.mean]),
    ),
  };
}

function claimC3(c: ClaimContext): BuiltClaim {
  const small = c.results.map((r) => r['small-init']!);
  const mains = mainsOf(c);
  const logRatio = small.flatMap((r) => r.summary.decomposition!.normRatio.values.map((v) => Math.log10(v)));
  const cosClean = small.flatMap((r) => [...r.summary.decomposition!.cosCleanInit.values]);
  const cosRobust = small.flatMap((r) => [...r.summary.decomposition!.cosRobustInit.values]);
  const share = meanStd(small.map((r) => r.summary.decomposition!.shareAboveOne));
  const shareMain = meanStd(mains.map((r) => r.summary.decomposition!.shareAboveOne));
  const absCosClean = median(cosClean.map(Math.abs));
  const absCosRobust = median(cosRobust.map(Math.abs));
  return {
    caption: `Left: log10 of ||beta_i w_i'|| / ||v_i|| per neuron (w after clean training, w' after fine-tuning, beta_i = <w_i, w_i'> / ||w_i'||^2), pooled over seeds; share of neurons above 1: ${ms(share)} (${ms(shareMain)} at init scale ${c.config.model.initScale}). Right: cosines of the clean and fine-tuned neurons with their initialisation. Init scale ${paperDefaults.smallInitScale}; otherwise ${c.settings}.`,
    check: {
      text: `share of neurons with ||βw′|| > ||v|| = ${ms(share, 2)} (init scale ${paperDefaults.smallInitScale}; ${ms(shareMain, 2)} at ${c.config.model.initScale}); median |cos| with the init: ${absCosClean.toFixed(2)} clean, ${absCosRobust.toFixed(2)} fine-tuned`,
      holds: Number.isFinite(share.mean) ? share.mean > 0.5 : null,
    },
    chart: { kind: 'principle', data: { logRatio, cosClean, cosRobust } },
    csv: csvOf(['quantity', 'value'], [...logRatio.map((v) => ['log10_norm_ratio', v] as const), ...cosClean.map((v) => ['cos_clean_init', v] as const), ...cosRobust.map((v) => ['cos_robust_init', v] as const)]),
  };
}

/** C4: the network beside each lower-bound baseline; the check is lowerBound.ts's. */
export function claimC4(c: ClaimContext): BuiltClaim {
  const mains = mainsOf(c);
  const first = c.baselines[0]!;
  const kinds = first.map((b) => `${b.kind}, ${b.training}`);
  const networkRobust = meanStd(mains.map((r) => r.summary.final.worstCaseRobustAccuracy));
  const networkClean = meanStd(mains.map((r) => r.summary.final.cleanAccuracy));
  const baseRobust = kinds.map((_, k) => meanStd(c.baselines.map((b) => b[k]!.summary.worstCaseRobustAccuracy)));
  const baseClean = kinds.map((_, k) => meanStd(c.baselines.map((b) => b[k]!.summary.cleanAccuracy)));
  const check = lowerBoundCheck(
    c.config.eval.eps,
    { clean: networkClean, robust: networkRobust },
    kinds.map((name, k) => ({ name, clean: baseClean[k]!, robust: baseRobust[k]! })),
  );
  const described = [...new Set(first.map((b) => b.kind))].map((kind) => baselineDescriptions[kind]);
  const unlearned = check.notLearned.length > 0 ? ` Did not learn (clean accuracy more than ${learnedTolerance} below the network's, so they do not count): ${check.notLearned.join('; ')}.` : '';
  return {
    caption: `Clean and worst-case robust accuracy at eps ${c.config.eval.eps} of the network after clean -> adversarial fine-tuning and of the lower-bound baselines (${described.join('; ')}), each trained clean and adversarially with the same data and eps. Network: ${ms(networkRobust)}.${unlearned} ${c.settings}.`,
    check: { text: check.text, holds: check.holds },
    chart: {
      kind: 'bars',
      data: {
        categories: ['network, fine-tuned', ...kinds],
        series: [
          { name: 'clean accuracy', color: CLEAN, values: [networkClean, ...baseClean] },
          { name: `robust accuracy (worst case, eps ${c.config.eval.eps})`, color: ROBUST, values: [networkRobust, ...baseRobust] },
        ],
        y: 'accuracy',
      },
    },
    csv: csvOf(
      ['model', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'],
      [['network, fine-tuned', networkClean.mean, networkClean.std, networkRobust.mean, networkRobust.std], ...kinds.map((k, i) => [k, baseClean[i]!.mean, baseClean[i]!.std, baseRobust[i]!.mean, baseRobust[i]!.std] as const)],
    ),
  };
}

/** The share of the full update's robust gain that a rank must recover for C5's check: "most" of it. */
const recoveredShare = 0.5;

function claimC5(c: ClaimContext): BuiltClaim {
  const ranks = c.specs.request.ranks;
  const fullRank = Math.min(c.config.task.d, c.config.model.width);
  const rankAxis = [...ranks, fullRank];
  const pick = (r: Readonly<Record<string, RunResult>>, i: number) => (i < ranks.length ? r[`rank-${ranks[i]}`]! : r.main!);
  const rankRobust = across(c.results, rankAxis.length, (r, i) => pick(r, i).summary.final.worstCaseRobustAccuracy);
  const rankClean = across(c.results, rankAxis.length, (r, i) => pick(r, i).summary.final.cleanAccuracy);
  const mains = mainsOf(c);
  const before = meanStd(mains.map((r) => r.summary.afterClean!.worstCaseRobustAccuracy));
  const effRank = meanStd(mains.map((r) => r.summary.update!.effectiveRank));
  const stableRank = meanStd(mains.map((r) => r.summary.update!.stableRank));
  const full = rankRobust[rankAxis.length - 1]!;
  const gain = full.mean - before.mean;
  // Below about two binomial standard errors of an accuracy on the test set, a gain is noise,
  // and a share of it says nothing.
  const noise = accuracyNoise(c.config.eval.testSize);
  let check: ClaimCheck;
  if (!(gain > noise)) {
    check = { text: `the full update's robust gain (${ms(before)} → ${ms(full)}) is within the test set's noise (±${noise.toFixed(3)} at n = ${c.config.eval.testSize}): nothing for a low rank to recover`, holds: null };
  } else {
    const shares = ranks.map((_, i) => (rankRobust[i]!.mean - before.mean) / gain);
    const enough = shares.findIndex((s) => s >= recoveredShare);
    const bestIndex = shares.reduce((b, s, i) => (s > shares[b]! ? i : b), 0);
    check =
      enough >= 0
        ? { text: `a rank-${ranks[enough]} update recovers ${pct(shares[enough]!)} of the full update's robust gain (${ms(before)} → ${ms(rankRobust[enough]!)}, full ${ms(full)})`, holds: true }
        : { text: `no rank up to ${ranks[ranks.length - 1]} recovers ${pct(recoveredShare)} of the full update's robust gain (best: rank ${ranks[bestIndex]}, ${pct(shares[bestIndex]!)}; ${ms(before)} → full ${ms(full)})`, holds: false };
  }
  return {
    caption: `Clean and worst-case robust accuracy at eps ${c.config.eval.eps} after adversarial fine-tuning of W' = W + U V^T with W frozen and U, V of rank r (the last point: the full update, r = ${fullRank}); robust accuracy before fine-tuning ${ms(before)}. The full update W' - W has effective rank ${ms(effRank, 1)} and stable rank ${ms(stableRank, 2)}. ${c.settings}.`,
    check,
    chart: {
      kind: 'lines',
      curves: [
        { name: 'clean accuracy', color: CLEAN, x: rankAxis, values: rankClean },
        { name: 'robust accuracy (worst case)', color: ROBUST, x: rankAxis, values: rankRobust },
        { name: 'robust before fine-tuning', color: FOREGROUND, x: rankAxis, values: rankAxis.map(() => before), dashed: true },
      ],
      axes: { x: 'rank r of the update', y: 'accuracy', yMin: 0, yMax: 1, xLog: true },
    },
    csv: csvOf(['rank', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'], rankAxis.map((r, i) => [r, rankClean[i]!.mean, rankClean[i]!.std, rankRobust[i]!.mean, rankRobust[i]!.std])),
  };
}

const builders: Readonly<Record<ClaimId, (c: ClaimContext) => BuiltClaim>> = { C1: claimC1, C2: claimC2, C3: claimC3, C4: claimC4, C5: claimC5 };

/**
 * The five claims: built from the finished runs and baselines where all that a claim rests on
 * is finished; pending (with what it waits for) where not. `items` are paperItems(specs, ...).
 */
export function buildClaims(specs: PaperSpecs, items: readonly PaperItem[], inputs: ClaimInputs): PaperClaim[] {
  const itemOf = (spec: PaperSpec) => items.find((i) => i.kind === spec.kind && i.key === spec.key && i.seed === spec.seed)!;
  const loaded = new Map<string, RunResult>();
  const result = (spec: PaperRunSpec): RunResult => {
    const item = itemOf(spec) as PaperRunItem;
    let r = loaded.get(item.runId!);
    if (!r) {
      r = inputs.result(spec, item.runId!);
      loaded.set(item.runId!, r);
    }
    return r;
  };
  return claimIds.map((id): PaperClaim => {
    const meta = claimMeta[id];
    const needed: PaperSpec[] = [...specs.runs, ...specs.baselines].filter((s) => s.claims.includes(id));
    const waiting = needed.filter((s) => itemOf(s).status !== 'finished');
    if (waiting.length > 0) {
      const stopped = waiting.filter((s) => {
        const item = itemOf(s);
        return item.status === 'failed' || (item.status === 'missing' && item.kind === 'run' && item.previous !== null);
      });
      return { ...meta, status: 'pending', needed: needed.length, done: needed.length - waiting.length, waitingFor: waiting.map((s) => s.label), stopped: stopped.map((s) => s.label) };
    }
    const results = specs.seeds.map((seed) => Object.fromEntries(specs.runs.filter((s) => s.seed === seed && s.claims.includes(id)).map((s) => [s.key, result(s)])));
    const baselines = id === 'C4' ? specs.baselines.map((s) => inputs.baselines(s)) : [];
    const built = builders[id]({ specs, config: specs.main, settings: specs.settings, results, baselines });
    const runIds = needed.flatMap((s) => (s.kind === 'run' ? [(itemOf(s) as PaperRunItem).runId!] : []));
    const ready: ReadyClaim = { ...meta, status: 'ready', ...built, runIds };
    return ready;
  });
}
