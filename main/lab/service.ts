/**
 * The lab as a service: every method of the API contract (shared/api.ts) over one run store and
 * one job queue, for whichever transport carries it (browser mode's HTTP + WebSocket, the
 * desktop shell's MessagePort). The caller is untrusted, so every request's params are
 * validated here with the contract's own schemas before anything acts on them, and every error
 * that reaches the caller is an ApiError whose problems name the field.
 *
 * Two smaller ideas live beside the dispatch, because every transport needs them the same way:
 * - the event stream, batched: run events leave at most every `eventFlushIntervalMs`, progress
 *   coalesced to the latest per run, so a chart redraws a few times per second whatever the
 *   training speed; status changes leave at once (after the run's pending events, so a client
 *   never sees "finished" before the last metrics: ./streamBatcher.ts);
 * - the cost estimate of an experiment (./costEstimate.ts) and the throughput behind it.
 */
import { basename } from 'node:path';
import type { z } from 'zod';
import {
  ApiError,
  apiParams,
  type AddedFile,
  eventFlushIntervalMs,
  figureNames,
  type ApiMethod,
  type ApiResults,
  type AppInfo,
  type ConfigCheck,
  type JobStreamMessage,
  type RunDetail,
  type RunListItem,
} from '../../shared/api.ts';
import { figureSet, NEURON_IMAGES_FIGURE, NEURON_IMAGES_MISSING, pictureFigures } from '../../shared/charts/index.ts';
import { ConfigError, resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { presetByName, presets } from '../../shared/presets.ts';
import { robustSetting } from '../../shared/robustSetting.ts';
import { costEstimate, onSoftwareAdapter, storedThroughput, type Throughput } from './costEstimate.ts';
import { availableMemory, checkRunFits } from './memoryCheck.ts';
import { figureBytes, figureContentTypes } from './export/figureFile.ts';
import { sanitizeName } from './export/render.ts';
import { tidyCsv, tidyRows } from './export/tidyMetrics.ts';
import { maxJobs, type JobSettings } from '../../shared/jobSettings.ts';
import { defaultJobs, physicalCores } from './jobCount.ts';
import type { JobControl, JobUpdate } from './jobs.ts';
import { NotFoundError } from './notFoundError.ts';
import { PaperService } from './paper/paperService.ts';
import { exportRunsArchive } from './runExport.ts';
import { addStoreFileBytes, listStoreFiles } from './storeFiles.ts';
import { readInputFile } from './formats/inputFile.ts';
import { readWeightTensors, weightsKind } from './formats/pytorchMlp.ts';
import type { FileEvaluation } from '../../shared/fileEvaluation.ts';
import { importSlurmFolder, slurmFolders, slurmStatus, writeSlurmFolder } from './slurmService.ts';
import { slurmScriptPreview, sweepFromParams, sweepList } from './sweepService.ts';
import { sweepName } from './sweep.ts';
import { sweepStacks } from './stacks.ts';
import { codeIdentity, codeVersion } from './provenance.ts';
import { jsonValueProblem } from './requestLimits.ts';
import { StoreError, type RunRecord, type RunStore } from './store/runStore.ts';
import { StreamBatcher } from './streamBatcher.ts';

/** This checkout: what a sweep submitted from here runs on this machine's cluster (as the CLI's --submit). */
const thisProject = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

/** The most members a sweep started from the UI queues on this machine at once. */
const maxLocalSweepMembers = 1000;

export type { JobControl };

export { NotFoundError };

/** A downloadable file, built in memory. */
export interface ExportedFile {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly fileName: string;
}

export interface LabServiceOptions {
  /** Batches of run events leave at most this often (default: the contract's 250 ms). */
  readonly flushIntervalMs?: number;
  /**
   * Measure the training and evaluation throughput on this backend (costEstimate.ts) when no
   * finished run in the store tells it (default true; tests with a stand-in queue turn it off).
   */
  readonly measureThroughput?: boolean;
}

type Problem = { path: string; message: string };
type Handlers = { [M in ApiMethod]: (params: z.output<(typeof apiParams)[M]>) => Promise<ApiResults[M]> | ApiResults[M] };

// --- the service ---------------------------------------------------------------------------

/** Zod issues as problems that name the field (`ids.2`, `name`; unknown keys by name). */
function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path: issue.keys.map((k) => (at ? `${at}.${k}` : k)).join(', '), message: `unknown field${issue.keys.length > 1 ? 's' : ''}` };
    }
    return { path: at || '(params)', message: issue.message.replace(/^Invalid input: /, '') };
  });
}

function listItem(run: RunRecord): RunListItem {
  return {
    id: run.id,
    name: run.name,
    notes: run.notes,
    status: run.status,
    preset: run.preset,
    seed: run.seed,
    sweepId: run.sweepId,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    protocol: run.config.train.protocol,
    robust: robustSetting(run.config),
    summary: run.summary,
    progress: run.progress,
    checkpointEpoch: run.checkpointEpoch,
    error: run.error,
  };
}

export class LabService {
  private readonly listeners = new Set<(message: JobStreamMessage) => void>();
  private readonly batcher: StreamBatcher;
  private readonly unsubscribeQueue: () => void;
  private throughput: Promise<Throughput | null> | null = null;
  private readonly timingCache: Parameters<typeof storedThroughput>[3] = new Map();
  /** Runs queued through this service's queue that have not started yet. */
  private readonly waiting = new Set<string>();
  private readonly handlers: Handlers;
  /** The Paper page's methods (paper.*). */
  private readonly paper: PaperService;

  constructor(
    readonly store: RunStore,
    readonly queue: JobControl,
    private readonly options: LabServiceOptions = {},
  ) {
    this.batcher = new StreamBatcher(options.flushIntervalMs ?? eventFlushIntervalMs, (message) => this.publish(message));
    this.unsubscribeQueue = queue.subscribe((update) => this.onUpdate(update));
    this.paper = new PaperService({
      store,
      queue,
      // A record left "queued" by a server that stopped has nothing to run it: not live.
      isLive: (run) => run.status === 'running' || this.waiting.has(run.id) || this.queue.active.includes(run.id),
      estimator: async () => {
        const throughput = await this.measuredThroughput();
        // With the backend, as the setup form's: finished runs on a software adapter leave a
        // throughput behind, but its speed says nothing of a GPU, so it estimates no time.
        const backend = await this.queue.backendInfo().catch(() => null);
        return (config) => costEstimate(config, throughput, backend).seconds;
      },
    });
    this.handlers = {
      'app.info': () => this.appInfo(),
      'config.validate': (p) => this.validate(p.input as ExperimentInput, p.preset),
      'runs.start': (p) => this.start(p),
      'runs.list': (p) => this.store.list({ status: p.status, text: p.text, sweepId: p.sweepId }).map(listItem),
      'runs.get': (p) => this.detail(p.id),
      'runs.cancel': (p) => ({ cancelled: this.queue.cancel(this.run(p.id).id) }),
      'runs.resume': (p) => this.resume(p.id),
      'runs.delete': (p) => this.delete(p.ids),
      'runs.rename': (p) => {
        const run = this.run(p.id);
        this.store.rename(run.id, p.name);
        return { id: run.id };
      },
      'runs.setNotes': (p) => {
        const run = this.run(p.id);
        this.store.setNotes(run.id, p.notes);
        return { id: run.id };
      },
      'paper.plan': (p) => this.paper.plan(p),
      'paper.start': (p) => this.paper.start(p),
      'paper.cancel': (p) => this.paper.cancel(p),
      'paper.figures': (p) => this.paper.figures(p),
      'paper.export': async (p) => this.paper.export(p, await this.queue.backendInfo()),
      'files.list': () => listStoreFiles(this.store).map(({ name, bytes, modified }) => ({ name, bytes, modified })),
      'files.evaluate': (p) => this.evaluateFile(p.weights, p.data, (p.input ?? {}) as ExperimentInput),
      'jobs.settings': () => this.jobSettings(),
      'jobs.set': (p) => {
        if (!this.queue.setConcurrency) throw new ApiError('This engine runs a fixed number of jobs at once', [{ path: 'jobs', message: 'cannot be changed here' }]);
        this.queue.setConcurrency(p.jobs);
        // New runs compute on a new share of the cores ('auto' threads): measure again when asked.
        this.throughput = null;
        return this.jobSettings();
      },
      'sweeps.start': (p) => this.startSweep(p),
      'sweeps.list': () => sweepList(this.store),
      'sweeps.slurmScript': (p) => slurmScriptPreview(p),
      'slurm.write': (p) => writeSlurmFolder(this.store, p, thisProject),
      'slurm.folders': () => slurmFolders(this.store),
      'slurm.status': (p) => slurmStatus(this.store, p),
      'slurm.import': (p) => importSlurmFolder(this.store, p),
    };
  }

  /**
   * Validate `rawParams` against the method's schema, then act. Rejects with an ApiError naming
   * the bad fields (NotFoundError for an unknown run), or with the unexpected error itself.
   */
  async call<M extends ApiMethod>(method: M, rawParams: unknown): Promise<ApiResults[M]> {
    if (!Object.hasOwn(apiParams, method)) {
      const message = `Unknown method "${String(method)}": expected one of ${Object.keys(apiParams).join(', ')}`;
      throw new ApiError(message, [{ path: 'method', message }]);
    }
    // Size, depth and kind first, iteratively: the schemas and the handlers below walk params
    // recursively (a merge over a preset, a serialiser), which a deep enough value overflows.
    const limit = jsonValueProblem(rawParams, { startDepth: 1 });
    if (limit) throw new ApiError(`Invalid params for ${method}: ${limit.path}: ${limit.message}`, [limit]);
    const parsed = apiParams[method].safeParse(rawParams ?? {});
    if (!parsed.success) {
      const problems = problemsOf(parsed.error);
      throw new ApiError(`Invalid params for ${method}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    }
    const handler = this.handlers[method] as (params: unknown) => Promise<ApiResults[M]> | ApiResults[M];
    return handler(parsed.data);
  }

  /** JobStreamMessages: run events batched per run, status changes at once. Returns the unsubscribe. */
  subscribe(listener: (message: JobStreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Add a weights file or dataset (uploaded bytes) to the store, checked as File > Import checks it. */
  addFile(name: string, bytes: Uint8Array): AddedFile {
    const added = addStoreFileBytes(this.store, name, bytes);
    return { kind: added.kind, name: basename(added.file), summary: added.summary };
  }

  /** The runs' figures, metrics and weights as one zip (every run when `ids` is empty); ids are checked. */
  async exportRuns(ids: readonly string[]): Promise<ExportedFile> {
    const checked = apiParams['runs.delete'].shape.ids.element;
    const runs = ids.map((id, i) => {
      const parsed = checked.safeParse(id);
      if (!parsed.success) throw new ApiError(`id ${i + 1}: ${parsed.error.issues[0]?.message ?? 'not a run id'}`, [{ path: `ids.${i}`, message: 'not a run id' }]);
      return this.run(parsed.data).id;
    });
    const archive = await exportRunsArchive(this.store, this, runs);
    return { bytes: archive.bytes, contentType: 'application/zip', fileName: runs.length === 1 ? sanitizeName(`${runs[0]}-export.zip`) : 'runs-export.zip' };
  }

  /**
   * A figure of the run's figure set (svg, png, pdf) or its tidy metrics (csv) as a file, built
   * exactly as `lab export` builds it. Arguments come from a URL, so each is checked and named.
   */
  async exportFile(runId: string, target: string, format: string): Promise<ExportedFile> {
    const id = apiParams['runs.get'].shape.id.safeParse(runId);
    if (!id.success) throw new NotFoundError(`No run "${runId}": ${id.error.issues[0]?.message ?? 'not a run id'}`, [{ path: 'runId', message: 'not a run id' }]);
    const run = this.run(id.data);
    if (target === 'metrics') {
      if (format !== 'csv') throw new ApiError(`The metrics table exports as csv, not "${format}"`, [{ path: 'format', message: `"${format}": expected csv` }]);
      return { bytes: new TextEncoder().encode(tidyCsv(tidyRows(this.store, [run]))), contentType: 'text/csv; charset=utf-8', fileName: sanitizeName(`${run.id}-metrics.csv`) };
    }
    if (!(figureNames as readonly string[]).includes(target)) {
      throw new NotFoundError(`Unknown figure "${target}": expected one of ${figureNames.join(', ')}, or metrics`, [{ path: 'figure', message: `"${target}": unknown` }]);
    }
    if (format !== 'svg' && format !== 'png' && format !== 'pdf') {
      throw new ApiError(`A figure exports as svg, png or pdf, not "${format}"`, [{ path: 'format', message: `"${format}": expected svg, png or pdf` }]);
    }
    const result = this.store.result(run.id);
    const figure = figureSet(result).find((f) => f.name === target) ?? pictureFigures(result).find((f) => f.name === target);
    if (!figure) {
      const why = target === NEURON_IMAGES_FIGURE && run.config.task.kind === 'sparse-coding' ? ` (${NEURON_IMAGES_MISSING})` : run.status === 'finished' ? ' (its protocol or instruments do not produce one)' : ' yet';
      throw new NotFoundError(`Run ${run.id} (${run.status}) has no "${target}" figure${why}`, [
        { path: 'figure', message: `"${target}": not available for this run` },
      ]);
    }
    return { bytes: await figureBytes(figure, format), contentType: figureContentTypes[format], fileName: sanitizeName(`${run.id}-${target}.${format}`) };
  }

  /**
   * An MLP weights file of the store evaluated on a dataset file of the store, in a job worker
   * (mlpEvaluation.ts). The files are found by their names in files.list, never by a path from
   * the page; a file that is not what it should be is refused naming it and why.
   */
  private async evaluateFile(weightsName: string, dataName: string, input: ExperimentInput): Promise<FileEvaluation> {
    const files = listStoreFiles(this.store);
    const find = (name: string, field: 'weights' | 'data') => {
      const entry = files.find((f) => f.name === name);
      if (!entry) throw new NotFoundError(`No file "${name}" in the store's weights and datasets`, [{ path: field, message: `"${name}": not in files.list` }]);
      return entry.file;
    };
    const weights = find(weightsName, 'weights');
    const data = find(dataName, 'data');
    let kind: 'mlp' | 'two-layer';
    try {
      kind = weightsKind([...readWeightTensors(readInputFile(weights, 'the weights'), weightsName).tensors.keys()], weightsName);
    } catch (error) {
      throw new ApiError((error as Error).message, [{ path: 'weights', message: 'not a weights file' }]);
    }
    if (kind !== 'mlp') {
      throw new ApiError(`${weightsName} holds the paper's two-layer net (W, a, b): evaluate it with \`npm run lab -- eval --weights ${weights} --data ${data}\`; the UI evaluates MLPs saved from PyTorch (fc1.*, fc2.*)`, [{ path: 'weights', message: 'two-layer weights' }]);
    }
    if (!this.queue.evaluateMlp) throw new ApiError('This engine cannot evaluate files (no job workers)', [{ path: 'weights', message: 'not available here' }]);
    try {
      return await this.queue.evaluateMlp({ weights, data, input, names: { weights: weightsName, data: dataName } });
    } catch (error) {
      // A file or a setting that does not fit is the caller's to fix: say so as a refusal, not a fault.
      const name = (error as Error).name;
      if (name === 'FileFormatError' || name === 'ConfigError' || name === 'RangeError') throw new ApiError((error as Error).message, [{ path: 'data', message: 'does not fit the model' }]);
      throw error;
    }
  }

  /** The throughput behind estimates: from finished runs on this backend, else measured once. */
  measuredThroughput(): Promise<Throughput | null> {
    this.throughput ??= this.queue
      .backendInfo()
      .then(async (backend) => {
        const stored = storedThroughput(this.store, backend, 5, this.timingCache);
        // A software adapter's speed says nothing about a GPU: nothing is measured on it.
        if (stored !== null || onSoftwareAdapter(backend) || this.options.measureThroughput === false || !this.queue.measureThroughput) return stored;
        return this.queue.measureThroughput();
      })
      .catch(() => null); // an estimate without seconds beats a failing validation
    return this.throughput;
  }

  /**
   * After `queue.shutdown()`: the runs queued here that never started would stay "queued" in the
   * store with nothing left to run them (and a queue elsewhere could not cancel them). Mark them
   * interrupted instead, so the runs list shows them as stopped and "resume" starts them.
   * Returns their ids.
   */
  settleQueued(): string[] {
    const settled: string[] = [];
    for (const id of this.waiting) {
      try {
        if (this.store.get(id).status !== 'queued') continue;
      } catch {
        continue; // deleted meanwhile
      }
      this.store.end(id, 'interrupted', 'the server stopped before this run started');
      settled.push(id);
    }
    this.waiting.clear();
    return settled;
  }

  /** Stop listening to the queue, and stop the Paper page's baselines in training (the queue and store stay open: their owner closes them). */
  /** The queue's jobs at once, beside the default a UI session gets (one core left to the UI). */
  private jobSettings(): JobSettings {
    const cores = physicalCores();
    return { jobs: this.queue.concurrency ?? 1, defaultJobs: defaultJobs({ uiOpen: true, cores }), physicalCores: cores, maxJobs };
  }

  close(): void {
    this.paper.close();
    this.unsubscribeQueue();
    this.batcher.close();
    this.listeners.clear();
  }

  // --- the stream ---

  private onUpdate(update: JobUpdate): void {
    if (update.kind === 'status') {
      if (update.status === 'queued') this.waiting.add(update.runId);
      else this.waiting.delete(update.runId);
      if (update.status === 'finished') this.throughput = null; // one more run to learn from
    }
    if (this.listeners.size === 0) return;
    if (update.kind === 'event') this.batcher.event(update.runId, update.event);
    else this.batcher.status({ type: 'status', runId: update.runId, status: update.status, ...(update.error !== undefined ? { error: update.error } : {}) });
  }

  private publish(message: JobStreamMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // One broken subscriber (a closed socket) must not starve the others.
      }
    }
  }

  // --- the methods ---

  /** The run with this id or unique prefix; NotFoundError naming `id` otherwise. */
  private run(id: string, path = 'id'): RunRecord {
    try {
      return this.store.get(id);
    } catch (error) {
      if (error instanceof StoreError) throw new NotFoundError(error.message, [{ path, message: error.message }]);
      throw error;
    }
  }

  /** The run with exactly this id; NotFoundError naming `path` otherwise (prefixes included). */
  private exactRun(id: string, path: string): RunRecord {
    try {
      return this.store.getExact(id);
    } catch (error) {
      if (error instanceof StoreError) throw new NotFoundError(error.message, [{ path, message: error.message }]);
      throw error;
    }
  }

  private async appInfo(): Promise<AppInfo> {
    const [backend, throughput] = await Promise.all([this.queue.backendInfo(), this.measuredThroughput()]);
    return {
      version: codeIdentity().version,
      codeVersion: codeVersion(),
      backend,
      store: this.store.dir,
      presets: presets.map((p) => ({ name: p.name, description: p.description, config: p.config })),
      flagship: resolveExperiment(presetByName('flagship').config),
      stepsPerSecond: throughput?.trainPerSecond ?? null,
    };
  }

  /** The user's input laid over the preset (the defaults without one); problems name `preset`. */
  private assemble(input: ExperimentInput, preset: string | undefined): ExperimentInput {
    if (preset === undefined) return input;
    let base: ExperimentInput;
    try {
      base = presetByName(preset).config;
    } catch (error) {
      const message = (error as Error).message;
      throw new ApiError(message, [{ path: 'preset', message: `"${preset}": expected one of ${presets.map((p) => p.name).join(', ')}` }]);
    }
    return mergeConfig(base, input);
  }

  private async validate(input: ExperimentInput, preset: string | undefined): Promise<ConfigCheck> {
    let config: ResolvedExperiment;
    try {
      config = resolveExperiment(this.assemble(input, preset), 'experiment');
      checkRunFits(config, undefined, 'experiment');
    } catch (error) {
      if (error instanceof ConfigError) return { ok: false, config: null, problems: error.problems, estimate: null };
      if (error instanceof ApiError) return { ok: false, config: null, problems: error.problems, estimate: null };
      throw error;
    }
    const [backend, throughput] = await Promise.all([this.queue.backendInfo().catch(() => null), this.measuredThroughput()]);
    return { ok: true, config, problems: [], estimate: costEstimate(config, throughput, backend) };
  }

  private start(p: z.output<(typeof apiParams)['runs.start']>): { id: string } {
    let input: ExperimentInput;
    let config: ResolvedExperiment;
    try {
      input = this.assemble(p.input as ExperimentInput, p.preset);
      config = resolveExperiment(input, 'experiment');
      checkRunFits(config, undefined, 'experiment');
    } catch (error) {
      if (error instanceof ConfigError) throw new ApiError(error.message, error.problems);
      throw error;
    }
    const run = this.queue.submit({ input, config, preset: p.preset, name: p.name, notes: p.notes });
    return { id: run.id };
  }

  /** Run a sweep here: every member checked (config, memory) before any is queued. */
  private startSweep(p: z.output<(typeof apiParams)['sweeps.start']>): { sweepId: string; runIds: string[] } {
    const sweep = sweepFromParams(p, maxLocalSweepMembers);
    try {
      for (const m of sweep.members) checkRunFits(m.config, undefined, `sweep member ${JSON.stringify(m.point)} seed ${m.seed}`);
    } catch (error) {
      if (error instanceof ConfigError) throw new ApiError(error.message, error.problems);
      throw error;
    }
    const sweepId = this.store.createSweep({ name: p.name ?? sweepName(sweep.grid, p.seeds), grid: Object.fromEntries(sweep.grid.map(([path, values]) => [path, [...values]])), seeds: p.seeds, input: sweep.base });
    // Same-shaped members compute as stacks, one per job slot (../stacks.ts), where the queue can
    // and the user did not ask for each alone.
    const runIds: string[] = [];
    const queue = this.queue;
    const stacks = queue.submitStack ? sweepStacks(sweep.members.map((m) => m.config), { jobs: queue.concurrency ?? 1, stack: p.stack ?? true, available: availableMemory() }) : sweep.members.map((_, i) => [i]);
    for (const stack of stacks) {
      const requests = stack.map((i) => ({ input: sweep.members[i]!.input, config: sweep.members[i]!.config, preset: sweep.preset, name: sweep.members[i]!.name, sweepId }));
      const records = queue.submitStack ? queue.submitStack(requests) : requests.map((r) => queue.submit(r));
      stack.forEach((i, k) => (runIds[i] = records[k]!.id));
    }
    return { sweepId, runIds };
  }

  private detail(id: string): RunDetail {
    const run = this.run(id);
    return {
      ...listItem(run),
      input: run.input,
      config: run.config,
      configHash: run.configHash,
      codeVersion: run.codeVersion,
      backend: run.backend,
      provenance: run.provenance,
      folder: run.folder,
      result: this.store.result(run.id),
    };
  }

  private resume(id: string): { id: string } {
    const run = this.run(id);
    try {
      return { id: this.queue.resume(run.id).id };
    } catch (error) {
      // The queue refuses finished, running and queued runs, with a message that says which.
      throw new ApiError((error as Error).message, [{ path: 'id', message: (error as Error).message }]);
    }
  }

  /**
   * Delete runs by their whole ids (a prefix is refused: a deletion cannot be undone): all of
   * them or none. A run queued here is taken off the queue first; a running one is refused (cancel
   * it first), as is an unknown id, each problem naming `ids.N`.
   */
  private delete(ids: readonly string[]): { deleted: string[] } {
    const problems: Problem[] = [];
    const runs: RunRecord[] = [];
    ids.forEach((id, index) => {
      try {
        const run = this.exactRun(id, `ids.${index}`);
        if (run.status === 'running' || this.queue.active.includes(run.id)) problems.push({ path: `ids.${index}`, message: `run ${run.id} is running: cancel it before deleting it` });
        else runs.push(run);
      } catch (error) {
        if (error instanceof ApiError) problems.push(...error.problems);
        else throw error;
      }
    });
    if (problems.length > 0) throw new ApiError(`Nothing was deleted: ${problems.map((p) => p.message).join('; ')}`, problems);
    const deleted: string[] = [];
    for (const run of runs) {
      if (run.status === 'queued') this.queue.cancel(run.id);
      this.store.delete(run.id);
      deleted.push(run.id);
    }
    return { deleted };
  }
}
