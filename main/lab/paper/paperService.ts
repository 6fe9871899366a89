/**
 * The Paper page's methods (paper.plan, .start, .cancel, .figures, .export of shared/api.ts) over
 * the service's store and job queue: the claims' runs go through the same queue as runs.start,
 * so they appear in the runs list with their progress and can be cancelled there; C4's
 * baselines train beside them (BaselineJobs) into the store's BaselineCache. Params arrive
 * validated by the contract's schemas; what only the experiment can tell (a bad field, a
 * protocol the figures cannot use, a rank too large) comes back as an ApiError naming the field.
 */
import type { z } from 'zod';
import { ApiError, type apiParams, type ApiResults } from '../../../shared/api.ts';
import { ConfigError, type ExperimentInput, type ResolvedExperiment } from '../../../shared/config.ts';
import { mergeConfig } from '../../../shared/configPath.ts';
import { claimMeta, paperDefaults, type PaperClaim, type PaperFigures, type PaperFile, type PaperItem, type PaperPlan } from '../../../shared/paper.ts';
import { presetByName, presets } from '../../../shared/presets.ts';
import type { BackendInfo } from '../../../shared/events.ts';
import type { RunResult } from '../../../shared/result.ts';
import { BaselineJobs } from '../baselineJobs.ts';
import { claimFile, paperSummaryHtml, type ClaimFileFormat } from '../export/claimFiles.ts';
import { buildClaims } from './claims/buildClaims.ts';
import { paperRunPreset, planPaper, type PaperSpecs } from './plan.ts';
import { paperItems, type LiveCheck, type PaperLookup } from './runMatching.ts';
import { codeVersion } from '../provenance.ts';
import type { JobControl } from '../jobs.ts';
import { BaselineCache } from '../store/baselineCache.ts';
import type { RunStore } from '../store/runStore.ts';

type PaperParams = z.output<(typeof apiParams)['paper.plan']>;
type ExportParams = z.output<(typeof apiParams)['paper.export']>;

export interface PaperServiceDependencies {
  readonly store: RunStore;
  readonly queue: JobControl;
  /** Whether a queued or running record is being worked on by this service's queue. */
  readonly isLive: LiveCheck;
  /** Expected training seconds of a config, from the measured throughput (null: unknown). */
  readonly estimator: () => Promise<(config: ResolvedExperiment) => number | null>;
}

/** Finished results never change: keep the latest few parsed (a flagship result is megabytes of JSON). */
const resultCacheSize = 64;

export class PaperService {
  private readonly cache: BaselineCache;
  private readonly baselineJobs: BaselineJobs;
  private readonly results = new Map<string, RunResult>();

  constructor(private readonly deps: PaperServiceDependencies) {
    this.cache = new BaselineCache(deps.store.dir);
    const train = deps.queue.trainBaselines?.bind(deps.queue) ?? (() => Promise.reject(new Error('this service has no workers to train baselines in')));
    this.baselineJobs = new BaselineJobs(this.cache, train, () => deps.queue.concurrency ?? 1);
  }

  /** The plan's specs; problems name `preset`, `seeds`, `ranks.N` or an experiment field. */
  private specs(p: PaperParams): PaperSpecs {
    const preset = p.preset ?? paperDefaults.preset;
    let presetConfig: ExperimentInput;
    try {
      presetConfig = presetByName(preset).config;
    } catch (error) {
      throw new ApiError((error as Error).message, [{ path: 'preset', message: `"${preset}": expected one of ${presets.map((x) => x.name).join(', ')}` }]);
    }
    try {
      return planPaper({ preset, presetConfig, input: mergeConfig(presetConfig, (p.input ?? {}) as ExperimentInput), seeds: p.seeds ?? paperDefaults.seeds, ranks: p.ranks ?? paperDefaults.ranks, dimensions: p.dimensions ?? paperDefaults.dimensions });
    } catch (error) {
      if (error instanceof ConfigError) throw new ApiError(error.message, error.problems);
      throw error;
    }
  }

  private lookup(estimate?: (config: ResolvedExperiment) => number | null): PaperLookup {
    return {
      store: this.deps.store,
      baselines: this.cache,
      isLive: this.deps.isLive,
      baselineProgress: (spec) => this.baselineJobs.state(spec.configHash),
      ...(estimate ? { estimateSeconds: estimate } : {}),
    };
  }

  async plan(p: PaperParams): Promise<PaperPlan> {
    const specs = this.specs(p);
    const items = paperItems(specs, this.lookup(await this.deps.estimator()));
    const toRun = items.filter((i) => i.kind === 'run' && i.status !== 'finished' && i.status !== 'running');
    const seconds = toRun.map((i) => (i.kind === 'run' ? i.estimateSeconds : null));
    return {
      preset: specs.request.preset,
      seeds: specs.seeds,
      ranks: specs.request.ranks,
      config: specs.main,
      settings: specs.settings,
      items,
      counts: {
        needed: items.length,
        finished: items.filter((i) => i.status === 'finished').length,
        active: items.filter((i) => i.status === 'queued' || i.status === 'running').length,
        missing: items.filter((i) => i.status === 'missing' || i.status === 'failed').length,
        otherCode: items.filter((i) => i.kind === 'run' && i.otherCode !== null).length,
      },
      estimateSeconds: seconds.every((s) => s !== null) ? seconds.reduce<number>((a, s) => a + s!, 0) : null,
      command: specs.command,
    };
  }

  /** Queue the missing runs (stopped attempts resume from their checkpoint) and train the missing baselines. */
  start(p: PaperParams): ApiResults['paper.start'] {
    const specs = this.specs(p);
    const items = paperItems(specs, this.lookup());
    const runIds: string[] = [];
    for (const spec of specs.runs) {
      const item = itemFor(items, spec.kind, spec.key, spec.seed);
      if (item.kind !== 'run' || (item.status !== 'missing' && item.status !== 'failed')) continue;
      // A stopped attempt goes on from its checkpoint; a failed one starts afresh (its error is in the plan).
      if (item.previous && item.previous.status !== 'failed') {
        try {
          runIds.push(this.deps.queue.resume(item.previous.id).id);
          continue;
        } catch {
          // deleted or started meanwhile: start a new run instead
        }
      }
      runIds.push(this.deps.queue.submit({ input: spec.input, config: spec.config, preset: paperRunPreset, name: spec.name }).id);
    }
    const baselineSeeds = specs.baselines.filter((spec) => this.baselineJobs.request(spec.config)).map((spec) => spec.seed);
    return { runIds, baselineSeeds };
  }

  /** Cancel the plan's queued and running runs and its baselines in training. */
  cancel(p: PaperParams): ApiResults['paper.cancel'] {
    const specs = this.specs(p);
    const items = paperItems(specs, this.lookup());
    const runIds: string[] = [];
    for (const item of items) {
      if (item.kind === 'run' && item.runId && (item.status === 'queued' || item.status === 'running') && this.deps.queue.cancel(item.runId)) runIds.push(item.runId);
    }
    const baselineSeeds = specs.baselines.filter((spec) => this.baselineJobs.cancel(spec.configHash)).map((spec) => spec.seed);
    return { runIds, baselineSeeds };
  }

  figures(p: PaperParams): PaperFigures {
    const specs = this.specs(p);
    return { settings: specs.settings, seeds: specs.seeds, claims: this.claims(specs) };
  }

  private claims(specs: PaperSpecs): PaperClaim[] {
    const items = paperItems(specs, this.lookup());
    return buildClaims(specs, items, {
      result: (_spec, runId) => this.result(runId),
      baselines: (spec) => {
        const found = this.cache.get(spec.configHash, codeVersion());
        if (!found) throw new Error(`the baselines of ${spec.label} are not in the store`);
        return found;
      },
    });
  }

  private result(runId: string): RunResult {
    const cached = this.results.get(runId);
    if (cached) return cached;
    const result = this.deps.store.result(runId);
    this.results.set(runId, result);
    if (this.results.size > resultCacheSize) this.results.delete(this.results.keys().next().value!);
    return result;
  }

  /** A claim's file, or the summary page, as base64 for the API's JSON. */
  async export(p: ExportParams, backend: BackendInfo): Promise<PaperFile> {
    const { claim: which, format, ...request } = p;
    const specs = this.specs(request);
    const claims = this.claims(specs);
    if (which === 'summary') {
      if (format !== 'html') throw new ApiError(`The summary is a page (html), not ${format}`, [{ path: 'format', message: `"${format}": expected html for the summary` }]);
      const html = await paperSummaryHtml(claims, { settings: specs.settings, codeVersion: codeVersion(), backend: backend.label });
      return { fileName: 'summary.html', contentType: 'text/html; charset=utf-8', base64: Buffer.from(html, 'utf8').toString('base64') };
    }
    if (format === 'html') throw new ApiError(`A claim exports as svg, png, pdf, csv or txt, not html (the summary is html)`, [{ path: 'format', message: '"html": only for claim "summary"' }]);
    const claim = claims.find((c) => c.id === which)!;
    if (claim.status === 'pending') {
      throw new ApiError(`${claimMeta[which].title} is not computed yet: it waits for ${claim.waitingFor.join(', ')}`, [{ path: 'claim', message: `"${which}": pending (${claim.done} of ${claim.needed} finished)` }]);
    }
    const file = await claimFile(claim, format as ClaimFileFormat);
    return { fileName: file.fileName, contentType: file.contentType, base64: Buffer.from(file.bytes).toString('base64') };
  }

  /** Stop the baselines in training (the service is closing). */
  close(): void {
    this.baselineJobs.close();
  }

  /** For tests and the CLI: resolves when no baseline set is queued or training. */
  baselinesIdle(): Promise<void> {
    return this.baselineJobs.idle();
  }
}

function itemFor(items: readonly PaperItem[], kind: PaperItem['kind'], key: string, seed: number): PaperItem {
  return items.find((i) => i.kind === kind && i.key === key && i.seed === seed)!;
}
