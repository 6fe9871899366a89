/**
 * `lab figures --out DIR`: one figure per claim of the paper (C1-C5 of the paper),
 * each aggregated over seeds as mean ± std, with a caption stating the settings and seeds, as SVG,
 * PNG and PDF plus the CSV behind it, and a one-page HTML summary that holds all five.
 *
 * The Paper page's twin without a window: the runs the claims need, the reuse of finished runs by
 * config hash and code version, and the claims themselves all come from ../../paper/; this file
 * only starts what is missing on its own job queue, waits, and writes the files. C4's baselines
 * are kept in the store too (store/baselineCache.ts), so a second call reuses everything.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { paperDefaults, type ReadyClaim } from '../../../../shared/paper.ts';
import { presetByName } from '../../../../shared/presets.ts';
import { atMostAtOnce } from '../../atMostAtOnce.ts';
import { cachedBaselines } from '../../baselineJobs.ts';
import { paperSummaryHtml, writeClaimFiles } from '../../export/claimFiles.ts';
import { experimentInput } from '../../experimentInput.ts';
import { JobQueue } from '../../jobs.ts';
import { buildClaims } from '../../paper/claims/buildClaims.ts';
import { paperRunPreset, planPaper } from '../../paper/plan.ts';
import { matchRun, paperItems } from '../../paper/runMatching.ts';
import { codeVersion } from '../../provenance.ts';
import { BaselineCache } from '../../store/baselineCache.ts';
import { backendLine, jobsOption, openStore, threadsOption, type Verb } from '../options.ts';
import { progressView } from '../progressBar.ts';
import { UsageError } from '../usage.ts';

/** `--ranks 1,2,4,8` */
function parseRanks(text: string | undefined): readonly number[] {
  if (text === undefined) return paperDefaults.ranks;
  const ranks = text.split(',').map((part) => Number(part.trim()));
  if (ranks.length === 0 || ranks.some((r) => !Number.isInteger(r) || r < 1)) throw new UsageError(`--ranks "${text}": expected positive integers separated by commas, e.g. 1,2,4,8`);
  return ranks;
}

/** `--dimensions 64,128,256,512,1024`: C3 against dimension (none by default). */
function parseDimensions(text: string | undefined): readonly number[] {
  if (text === undefined) return paperDefaults.dimensions;
  const dimensions = text.split(',').map((part) => Number(part.trim()));
  if (dimensions.some((d) => !Number.isInteger(d) || d < 1)) throw new UsageError(`--dimensions "${text}": expected positive integers separated by commas, e.g. 64,128,256,512,1024`);
  return dimensions;
}

export const figuresVerb: Verb = async (values, rest, io) => {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (!values.out) throw new UsageError('figures needs --out DIR');
  const seeds = values.seeds === undefined ? paperDefaults.seeds : Number(values.seeds);
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError(`--seeds "${values.seeds}": expected an integer >= 1`);
  const preset = values.preset ?? 'quick';
  const input = experimentInput({ preset, configFile: values.config, sets: values.set });
  const specs = planPaper({ preset, presetConfig: presetByName(preset).config, input, seeds, ranks: parseRanks(values.ranks), dimensions: parseDimensions(values.dimensions) });
  const out = resolve(values.out);
  const jobs = jobsOption(values);
  const started = performance.now();

  const store = openStore(values, io);
  try {
    const queue = new JobQueue(store, { backend: values.backend as never, fused: !values['no-fused'], concurrency: jobs, threads: threadsOption(values) ?? 'auto' });
    const info = await queue.backendInfo();
    io.stdout.write(backendLine(info));
    const view = progressView(io.stderr);
    const unsubscribe = queue.subscribe((u) => u.kind === 'event' && view.onEvent(u.event));
    let reused = 0;
    for (const spec of specs.runs) {
      if (matchRun(store, spec).finished) reused += 1;
      else queue.submit({ input: spec.input, config: spec.config, name: spec.name, preset: paperRunPreset });
    }
    io.stderr.write(`figures: ${specs.runs.length} runs (${reused} reused from the store, ${specs.runs.length - reused} to compute), ${seeds} seeds, preset ${preset}\n`);
    await queue.idle();
    unsubscribe();
    view.clear();
    const baselineCache = new BaselineCache(store.dir);
    const items = paperItems(specs, { store, baselines: baselineCache, isLive: () => false });
    for (const item of items) {
      if (item.kind === 'run' && item.status !== 'finished') throw new Error(`the run ${item.label} did not finish: ${item.previous ? `${item.previous.id} ${item.previous.status}${item.previous.error ? `: ${item.previous.error}` : ''}` : 'not found'}`);
    }

    const missingBaselines = specs.baselines.filter((spec) => !baselineCache.has(spec.configHash, codeVersion()));
    io.stderr.write(`figures: the lower-bound baselines (C4): ${specs.baselines.length - missingBaselines.length} of ${specs.baselines.length} seeds reused from the store${missingBaselines.length ? ', training the rest...' : ''}\n`);
    // The seeds' baseline sets train `jobs` at a time, each in a worker of its own.
    await atMostAtOnce(missingBaselines, jobs, (spec) => cachedBaselines(baselineCache, spec.config, (config, options) => queue.trainBaselines(config, options)));

    const claims = buildClaims(specs, paperItems(specs, { store, baselines: baselineCache }), {
      result: (_spec, runId) => store.result(runId),
      baselines: (spec) => baselineCache.get(spec.configHash, codeVersion())!,
    });
    const ready = claims.filter((c): c is ReadyClaim => c.status === 'ready');
    if (ready.length < claims.length) throw new Error(`claims still pending: ${claims.filter((c) => c.status === 'pending').map((c) => c.id).join(', ')}`);
    const pngs = await writeClaimFiles(out, ready);
    for (const claim of ready) io.stdout.write(`${claim.fileStem}: ${join(out, claim.fileStem)}.{svg,png,pdf,csv}\n`);
    const seconds = (performance.now() - started) / 1000;
    const html = await paperSummaryHtml(claims, { settings: specs.settings, codeVersion: codeVersion(), backend: info.label, seconds, filesBeside: true }, async (claim) => pngs.get(claim.id)!);
    writeFileSync(join(out, 'summary.html'), html);
    io.stdout.write(`summary: ${join(out, 'summary.html')} (${seconds.toFixed(0)} s)\n`);
    return 0;
  } finally {
    store.close();
  }
};
