/**
 * The typed API between the renderer and the engine side: the one contract that browser mode
 * (HTTP + WebSocket, main/web) and the desktop shell (a MessagePort, main/desktop) both carry. The
 * renderer sees this and nothing else.
 *
 * Calls are request/response: `{ method, params }` -> `{ ok: true, result }` or
 * `{ ok: false, error: { message, problems? } }`. The engine side validates every request's
 * params with the schemas below before acting (the renderer is untrusted); the renderer
 * validates the envelopes it receives with the same schemas.
 *
 * Events flow the other way on a subscription: `JobStreamMessage`s, batched so that a chart
 * receives at most a few updates per second whatever the training speed.
 */
import { z } from 'zod';
import type { ExperimentInput, ResolvedExperiment } from './config.ts';
import type { BackendInfo, RunEvent, RunSummary } from './events.ts';
import type { FileEvaluation } from './fileEvaluation.ts';
import type { RunResult } from './result.ts';
import type { RobustSetting } from './robustSetting.ts';
import { maxJobs, type JobSettings } from './jobSettings.ts';
import { claimIds, paperDefaults, type PaperFigures, type PaperFile, type PaperPlan } from './paper.ts';

/** Run ids as the store makes them (also accepts a unique prefix of 4+ characters). */
const runId = z.string().regex(/^[0-9a-z-]{4,40}$/, 'expected a run id like 20261125-150719-92d1');
const runStatus = z.enum(['queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled']);
/** A run's name: what the runs list shows, so it must show something. */
const runName = z.string().max(200).regex(/\S/, 'expected a name with at least one visible character');
/** A user's experiment (validated in full by config.validate / runs.start). */
/**
 * A (partial) experiment, kept exactly as sent: the config schema then names every bad key.
 * (z.record would rebuild the object, and a "__proto__" key would become its prototype, silently.)
 */
const experimentInput = z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), { error: 'expected an object' });

const jobCountMessage = `expected an integer from 1 to ${maxJobs}`;
const jobCount = z.number(jobCountMessage).int(jobCountMessage).min(1, jobCountMessage).max(maxJobs, jobCountMessage);

export const figureNames = [
  'accuracy-over-training',
  'mixture-accumulation',
  'mixture-accumulation-heatmap',
  'mixture-ratio',
  'mixture-ratio-heatmap',
  'participation-coherence',
  'robust-accuracy-final',
  'robust-accuracy-comparison',
  'coefficient-heatmap',
  /** Image runs only: roughness of the hidden units over training, and the units as images. */
  'neuron-roughness',
  'neuron-images',
  /** The attack on chosen test inputs: images (δ and x + δ per model), or dictionary coefficients M^T δ. */
  'adversarial-images',
  'adversarial-coefficients',
] as const;

/**
 * What the Paper page's methods are about: the five claims of a preset's experiment (with
 * `input`'s changes laid over it, as in runs.start), over seeds 0..seeds-1, with the low-rank
 * sweep at `ranks` (see shared/paper.ts; defaults: flagship, 3 seeds, ranks 1, 2, 4, 8).
 */
const paperRequest = {
  preset: z.string().max(40).optional(),
  input: experimentInput.optional(),
  seeds: z.number().int().min(1).max(paperDefaults.maxSeeds).optional(),
  ranks: z.array(z.number().int().min(1).max(65536)).min(1).max(paperDefaults.maxRanks).optional(),
  /** C3 against dimension: the d of each point (absent or empty: none). */
  dimensions: z.array(z.number().int().min(1).max(8192)).max(paperDefaults.maxDimensions).optional(),
};

/** A sweep as the setup form states it: the preset and its changes, the grid over fields, the seeds. */
const sweepRequest = {
  preset: z.string().max(40).optional(),
  input: experimentInput,
  grid: z.array(z.strictObject({ path: z.string().min(1).max(200), values: z.array(z.union([z.number(), z.string().max(200), z.boolean(), z.null()])).min(1).max(100) })).min(1).max(8),
  seeds: z.number().int().min(1).max(1000),
};

/** A Slurm job array's resources, as the setup form states them (main/lab/slurm/sbatchScript.ts checks them again). */
const slurmResources = z.strictObject({
  partition: z.string().max(100).optional(),
  time: z.string().max(40).optional(),
  cpusPerTask: z.number().int().min(1).max(4096).optional(),
  mem: z.string().max(40).optional(),
  gres: z.string().max(100).optional(),
  maxParallel: z.number().int().min(1).max(100_000).optional(),
  setup: z.array(z.string().max(500)).max(20).optional(),
  project: z.string().max(1000).optional(),
});

/** A job folder on the engine's machine: an absolute path. */
const slurmFolder = z.string().min(1).max(1000).refine((p) => p.startsWith('/') && !p.includes('\0'), 'an absolute path (starting with /)');

/** Every method: its params schema. Results are typed in `ApiResults`. */
export const apiParams = {
  /** Versions, backend, store location, presets, the flagship's resolved config. */
  'app.info': z.strictObject({}),
  /**
   * Resolve a config: the resolved tree, or the problems (each naming its field), and the cost
   * estimate. With `preset`, `input` is laid over that preset's config first, as in runs.start.
   */
  'config.validate': z.strictObject({ input: experimentInput, preset: z.string().max(40).optional() }),
  /**
   * Start a run (queued behind any running one). `input` is laid over the named preset's config
   * (as `lab run --preset P --config FILE` does; without `preset`, over the defaults, which are
   * the flagship), so either the whole experiment or only its changes may be sent; `preset` is
   * also recorded as the run's preset. Problems name fields of the experiment (`task.d`), as in
   * config.validate, or `preset`.
   */
  'runs.start': z.strictObject({ input: experimentInput, preset: z.string().max(40).optional(), name: runName.optional(), notes: z.string().max(10_000).optional() }),
  'runs.list': z.strictObject({ status: runStatus.optional(), text: z.string().max(200).optional(), sweepId: z.string().max(80).optional() }),
  /** A run's record and its (partial, while running) result. */
  'runs.get': z.strictObject({ id: runId }),
  'runs.cancel': z.strictObject({ id: runId }),
  'runs.resume': z.strictObject({ id: runId }),
  'runs.delete': z.strictObject({ ids: z.array(runId).min(1).max(500) }),
  'runs.rename': z.strictObject({ id: runId, name: runName }),
  'runs.setNotes': z.strictObject({ id: runId, notes: z.string().max(10_000) }),
  /**
   * The runs (and C4's baseline sets) the five claims need, each with where it stands: finished
   * (reused from the store by config hash and code version), queued or running, or missing.
   * Problems name `preset`, `seeds`, `ranks.N` or a field of the experiment (`task.d`).
   */
  'paper.plan': z.strictObject(paperRequest),
  /** Queue what is missing (runs on the job queue, as runs.start does; stopped attempts are resumed), and train the missing baselines. */
  'paper.start': z.strictObject(paperRequest),
  /** Cancel the plan's queued and running runs, and its baselines in training. */
  'paper.cancel': z.strictObject(paperRequest),
  /** The five claims from what is finished; a claim whose runs are not all finished is pending. */
  'paper.figures': z.strictObject(paperRequest),
  /** One file of a ready claim (svg, png, pdf, csv, txt), or the one-page summary (`claim: 'summary'`, html). */
  'paper.export': z.strictObject({ ...paperRequest, claim: z.enum([...claimIds, 'summary']), format: z.enum(['svg', 'png', 'pdf', 'csv', 'txt', 'html']) }),
  /** The weights and datasets added to the store (its imports/ folder), oldest first. */
  'files.list': z.strictObject({}),
  /** An MLP weights file of the store evaluated on a dataset file of the store, by their names in files.list; `input` sets the model's activation and the evaluation (as --set does). */
  'files.evaluate': z.strictObject({ weights: z.string().min(1).max(300), data: z.string().min(1).max(300), input: experimentInput.optional() }),
  /** How many runs compute at once, its default and this machine's physical cores. */
  'jobs.settings': z.strictObject({}),
  /** Set the runs computing at once (more: queued runs start now; fewer: running ones finish first). Answers the new settings. */
  'jobs.set': z.strictObject({ jobs: jobCount }),
  /**
   * Run a sweep here: the grid over fields (each path with its values) x seeds, laid over the
   * preset as runs.start does, recorded as a sweep and queued member by member. Problems name
   * `grid.N.path`, a field of the experiment (the member is named in the message), or `grid` (size).
   * `stack` (default true): same-shaped members compute together, one stack a job slot; false
   * runs every member alone (the CLI's --no-stack).
   */
  'sweeps.start': z.strictObject({ ...sweepRequest, name: runName.optional(), stack: z.boolean().optional() }),
  /** The store's sweeps (run here or imported from a cluster), newest first, each grid point's mean ± std over its finished seeds. */
  'sweeps.list': z.strictObject({}),
  /**
   * The sbatch script of a sweep written as a Slurm job array (`lab sweep ... --slurm DIR`): the
   * grid over fields (each path with its values) x seeds, laid over the preset as runs.start does,
   * and the cluster's resources. Nothing is written: the setup form shows the script and the
   * command. Problems name `grid.N.path`, a field of the experiment, or a resource.
   */
  'sweeps.slurmScript': z.strictObject({ ...sweepRequest, resources: slurmResources }),
  /**
   * Write the sweep's Slurm job folder on this machine (`lab sweep ... --slurm FOLDER`), and with
   * `submit` call sbatch on it (`--submit`). The folder: an absolute path that does not exist or is
   * an empty folder. Remembered in the store, for slurm.folders. Problems name `folder`, `grid.N.path`,
   * a field of the experiment, a resource, or `submit` (sbatch refused or missing).
   */
  'slurm.write': z.strictObject({ ...sweepRequest, resources: slurmResources, folder: slurmFolder, submit: z.boolean() }),
  /** The job folders this store's UI wrote or looked at, newest first (whether each still exists). */
  'slurm.folders': z.strictObject({}),
  /** Each member's state in a job folder (`lab sweep status FOLDER`), with one squeue call. */
  'slurm.status': z.strictObject({ folder: slurmFolder }),
  /** Bring a job folder's finished (and interrupted) runs into the store (`lab import FOLDER`). */
  'slurm.import': z.strictObject({ folder: slurmFolder }),
} as const;

export type ApiMethod = keyof typeof apiParams;
export type ApiParams<M extends ApiMethod> = z.input<(typeof apiParams)[M]>;

/** One row of the runs list. */
export interface RunListItem {
  readonly id: string;
  readonly name: string;
  readonly notes: string;
  readonly status: z.output<typeof runStatus>;
  readonly preset: string | null;
  readonly seed: number;
  readonly sweepId: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly protocol: string;
  /** Where the summary's robust accuracies were measured (radius, norm, attack): printed with them. */
  readonly robust: RobustSetting;
  readonly summary: RunSummary | null;
  readonly progress: { done: number; total: number; phase: string; epoch: number; epochs: number } | null;
  readonly checkpointEpoch: number | null;
  readonly error: string | null;
}

export interface RunDetail extends RunListItem {
  readonly input: ExperimentInput;
  readonly config: ResolvedExperiment;
  readonly configHash: string;
  readonly codeVersion: string;
  readonly backend: BackendInfo | null;
  readonly provenance: Record<string, unknown> | null;
  readonly folder: string;
  /** Everything recorded so far (complete once finished). */
  readonly result: RunResult;
}

export interface ConfigCheck {
  readonly ok: boolean;
  readonly config: ResolvedExperiment | null;
  /** Each bad field: its dotted path and what is wrong (value and expectation). */
  readonly problems: readonly { readonly path: string; readonly message: string }[];
  /** Training steps (attack steps counted), and the expected seconds from measured throughput. */
  readonly estimate: {
    readonly steps: number;
    readonly stepEquivalents: number;
    readonly seconds: number | null;
    /** Why there are no seconds where it is not for want of a measurement ("software adapter: no estimate"). */
    readonly noEstimate?: string;
  } | null;
}

export interface AppInfo {
  readonly version: string;
  readonly codeVersion: string;
  readonly backend: BackendInfo;
  readonly store: string;
  readonly presets: readonly { readonly name: string; readonly description: string; readonly config: ExperimentInput }[];
  readonly flagship: ResolvedExperiment;
  /** Measured training steps per second (step equivalents) on this backend, for estimates. */
  readonly stepsPerSecond: number | null;
}

export interface ApiResults {
  'app.info': AppInfo;
  'config.validate': ConfigCheck;
  'runs.start': { readonly id: string };
  'runs.list': readonly RunListItem[];
  'runs.get': RunDetail;
  'runs.cancel': { readonly cancelled: boolean };
  'runs.resume': { readonly id: string };
  'runs.delete': { readonly deleted: readonly string[] };
  'runs.rename': { readonly id: string };
  'runs.setNotes': { readonly id: string };
  'paper.plan': PaperPlan;
  /** The runs queued (new or resumed), and the seeds whose baselines started training. */
  'paper.start': { readonly runIds: readonly string[]; readonly baselineSeeds: readonly number[] };
  'paper.cancel': { readonly runIds: readonly string[]; readonly baselineSeeds: readonly number[] };
  'paper.figures': PaperFigures;
  'paper.export': PaperFile;
  'files.list': readonly StoreFileItem[];
  'files.evaluate': FileEvaluation;
  'jobs.settings': JobSettings;
  'jobs.set': JobSettings;
  'sweeps.start': { readonly sweepId: string; readonly runIds: readonly string[] };
  'sweeps.list': readonly SweepItem[];
  'sweeps.slurmScript': SlurmScriptPreview;
  'slurm.write': { readonly folder: string; readonly sweepId: string; readonly members: number; readonly jobId: string | null };
  'slurm.folders': readonly { readonly folder: string; readonly exists: boolean; readonly writtenAt: string }[];
  'slurm.status': SlurmSweepStatus;
  'slurm.import': { readonly added: number; readonly updated: number; readonly unchanged: number; readonly interrupted: number; readonly sweeps: readonly string[] };
}

/** One member of a Slurm sweep as the status view shows it (main/lab/slurm/sweepStatus.ts). */
export interface SlurmMemberStatus {
  readonly index: number;
  readonly runId: string;
  readonly name: string;
  readonly state: 'not submitted' | 'queued' | 'running' | 'finished' | 'failed' | 'interrupted';
  /** "JOBID_N", null before a submission. */
  readonly task: string | null;
  /** squeue's state, reason and node for its task; null when squeue does not list it. */
  readonly squeue: { readonly state: string; readonly reason: string; readonly node: string } | null;
  readonly epoch: string | null;
  /** The last (running) or final (finished) clean and robust accuracy. */
  readonly clean: number | null;
  readonly robust: number | null;
  readonly why: readonly string[];
}

export interface SlurmSweepStatus {
  readonly folder: string;
  readonly sweepId: string;
  readonly name: string;
  readonly jobIds: readonly string[];
  /** null when squeue answered; why it could not otherwise. */
  readonly squeueUnreachable: string | null;
  readonly counts: Readonly<Record<SlurmMemberStatus['state'], number>>;
  readonly members: readonly SlurmMemberStatus[];
}

/** Mean and sample standard deviation over a grid point's finished seeds (n of them). */
export interface SeedMeanStd {
  readonly mean: number | null;
  readonly std: number | null;
  readonly n: number;
}

/** A sweep of the store, as the runs list's sweep view shows it. */
export interface SweepItem {
  readonly id: string;
  readonly name: string;
  readonly grid: Readonly<Record<string, readonly unknown[]>>;
  readonly seeds: number;
  readonly createdAt: string;
  /** Each grid point: its runs by status, and the final model's clean and robust accuracy over its finished seeds. */
  readonly points: readonly {
    readonly point: Readonly<Record<string, unknown>>;
    readonly runs: number;
    readonly finished: number;
    readonly clean: SeedMeanStd;
    readonly robust: SeedMeanStd;
  }[];
}

export interface SlurmScriptPreview {
  readonly members: number;
  /** The sweep.sbatch the job folder would hold. */
  readonly script: string;
  /** The command that writes the folder (and submits it with --submit). */
  readonly command: string;
}

/** A weights file or dataset in the store, as `lab files` lists it. */
export interface StoreFileItem {
  /** The file's name in the store: the time it was added, then its own name. */
  readonly name: string;
  readonly bytes: number;
  /** ISO 8601. */
  readonly modified: string;
}

/** What adding a file answers: what it holds (weights or a dataset), its name in the store, and a one-line summary. */
export interface AddedFile {
  readonly kind: 'weights' | 'data';
  readonly name: string;
  readonly summary: string;
}

/**
 * The largest upload browser mode takes (`POST files`): far above any weights file or dataset
 * of this project (the 784-dimensional image set with 60,000 examples is about 190 MB as
 * float32), and far below what would strain the server's memory.
 */
export const uploadLimitBytes = 512 * 1024 ** 2;

export const apiRequestSchema = z.strictObject({
  method: z.enum(Object.keys(apiParams) as [ApiMethod, ...ApiMethod[]]),
  params: z.unknown(),
});

export type ApiResponse<M extends ApiMethod> =
  | { readonly ok: true; readonly result: ApiResults[M] }
  | { readonly ok: false; readonly error: { readonly message: string; readonly problems?: readonly { path: string; message: string }[] } };

export const apiResponseSchema = z.union([
  z.strictObject({ ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ message: z.string(), problems: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional() }) }),
]);

/** What the event subscription carries: batches of run events, and status changes. */
export type JobStreamMessage =
  | { readonly type: 'events'; readonly runId: string; readonly events: readonly RunEvent[] }
  | { readonly type: 'status'; readonly runId: string; readonly status: z.output<typeof runStatus>; readonly error?: string };

export const jobStreamMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('events'), runId: z.string(), events: z.array(z.looseObject({ type: z.string() })) }),
  z.strictObject({ type: z.literal('status'), runId: z.string(), status: runStatus, error: z.string().optional() }),
]);

/** Batches leave the engine side at most this often (a few chart updates per second). */
export const eventFlushIntervalMs = 250;

/** What can be downloaded: a figure of the run's figure set, or its metrics table. */
export type ExportTarget = (typeof figureNames)[number] | 'metrics';
/** Figures export as svg, png or pdf; `metrics` as csv (tidy rows, as `lab export --format csv`). */
export type ExportFormat = 'svg' | 'png' | 'pdf' | 'csv';

/**
 * Browser mode's routes (main/web), so that the renderer's HTTP + WebSocket client and the
 * server cannot disagree: calls are `POST call` with a JSON `{ method, params }` body, the event
 * stream is a WebSocket on `events` carrying one JobStreamMessage (JSON) per frame, and exports
 * are `GET exportPath(...)` downloads.
 */
export const browserRoutes = {
  call: '/api/call',
  events: '/api/events',
  export: '/api/export',
  /** `POST files?name=NAME` with the file's bytes as the body: add a weights file or dataset to the store. */
  files: '/api/files',
  /** `GET exportRuns?id=A&id=B`: the runs' figures, metrics and weights as one zip download. */
  exportRuns: '/api/export-runs',
} as const;

/** The download path of the runs' export archive (every run in the store when `ids` is empty). */
export function exportRunsPath(ids: readonly string[]): string {
  return `${browserRoutes.exportRuns}${ids.length > 0 ? `?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}` : ''}`;
}

/** The download path of an export: `/api/export/<runId>/<figure or metrics>.<format>`. */
export function exportPath(runId: string, target: ExportTarget, format: ExportFormat): string {
  return `${browserRoutes.export}/${encodeURIComponent(runId)}/${encodeURIComponent(target)}.${format}`;
}

/** The typed client the renderer holds: one method per API call, and a subscription. */
export interface LabApi {
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]>;
  subscribe(listener: (message: JobStreamMessage) => void): () => void;
  /** A URL the browser can download a figure or table from (rendered by the engine side). */
  exportUrl(runId: string, figure: ExportTarget, format: ExportFormat): string;
}

/** The error a call rejects with: the message, and the fields it names. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly problems: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
