/**
 * `lab figures --out DIR`: one figure per claim of the paper (C1-C5 in ../shared/SCIENCE.md),
 * each aggregated over seeds as mean ± std, with a caption stating the settings, as SVG, PNG and
 * PDF plus the CSV behind it, and a one-page HTML summary that holds all five.
 *
 * It starts the runs it needs through the job queue (so they are ordinary runs in the store), or
 * reuses finished runs with the same config hash and code version:
 *   per seed, the fine-tune run at the preset (C1, C2, C3, the full update for C5), the same at
 *   a small init scale (C3 in the paper's regime), low-rank fine-tunes at ranks 1, 2, 4, 8 (C5);
 * and it trains the lower-bound baselines per seed (C4; not stored).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { meanStd, type MeanStd } from '../../../shared/aggregate.ts';
import { resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../../shared/config.ts';
import { setConfigPath } from '../../../shared/configPath.ts';
import { claimBars, claimMixtures, claimPrinciple, claimPurification, aggregatedLines } from '../../../shared/charts/claims.ts';
import { CLEAN, ROBUST, okabeIto } from '../../../shared/charts/palette.ts';
import type { RunResult } from '../../../shared/result.ts';
import { describeBackend } from '../../engine/backend.ts';
import { runBaselines, type BaselineResult } from '../../engine/baselines.ts';
import { exportFigure } from '../export/render.ts';
import { experimentInput } from '../experimentInput.ts';
import { JobQueue } from '../jobs.ts';
import { codeVersion, configHash } from '../provenance.ts';
import type { RunStore } from '../store/runStore.ts';
import { openStore, type CliValues } from './main.ts';
import { progressView } from './progressBar.ts';
import { UsageError } from './usage.ts';

const ranks = [1, 2, 4, 8];
const smallInitScale = 0.05;

interface Claim {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly option: ReturnType<typeof aggregatedLines>;
  readonly csv: string;
  readonly size: 'column' | 'wide';
}

const ms = (m: MeanStd, digits = 3) => (m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits));

/** Aggregate `pick` over seeds, at each index. */
function across<T>(items: readonly T[], length: number, pick: (item: T, i: number) => number | undefined): MeanStd[] {
  return Array.from({ length }, (_, i) => meanStd(items.map((it) => pick(it, i)).filter((v): v is number => v !== undefined)));
}

function csvOf(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map((v) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : `"${v.replace(/"/g, '""')}"`)).join(','))].join('\n') + '\n';
}

/** A finished run of exactly this config by this code (reused), or a new one (queued). */
function ensureRun(store: RunStore, queue: JobQueue, input: ExperimentInput, config: ResolvedExperiment, name: string): { id: string; reused: boolean } {
  const found = store.findFinished(configHash(config), codeVersion());
  if (found) return { id: found.id, reused: true };
  return { id: queue.submit({ input, config, name, preset: 'figures' }).id, reused: false };
}

export async function figuresCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (!values.out) throw new UsageError('figures needs --out DIR');
  const seeds = values.seeds === undefined ? 3 : Number(values.seeds);
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError(`--seeds "${values.seeds}": expected an integer >= 1`);
  const preset = values.preset ?? 'quick';
  const base = experimentInput({ preset, configFile: values.config, sets: values.set });
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const started = performance.now();

  const variants = (seed: number) => {
    const withSeed = { ...base, seed };
    const list: { key: string; input: ExperimentInput }[] = [
      { key: 'main', input: withSeed },
      { key: 'small-init', input: setConfigPath(withSeed, 'model.initScale', smallInitScale) },
      ...ranks.map((r) => ({ key: `rank-${r}`, input: setConfigPath(withSeed, 'train.lowRank.rank', r) })),
    ];
    return list.map((v) => ({ ...v, config: resolveExperiment(v.input, `figures run ${v.key} seed ${seed}`) }));
  };
  const plan = Array.from({ length: seeds }, (_, s) => variants(s));
  const mainConfig = plan[0]![0]!.config;
  if (mainConfig.train.protocol !== 'fine-tune') throw new UsageError('figures needs the fine-tune protocol (the paper\'s): its preset or config must not change train.protocol');

  const store = openStore(values);
  try {
    const queue = new JobQueue(store, { backend: values.backend as never, fused: !values['no-fused'] });
    const info = await queue.backendInfo();
    process.stdout.write(`${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`);
    const view = progressView(process.stderr);
    const unsubscribe = queue.subscribe((u) => u.kind === 'event' && view.onEvent(u.event));
    const ensured = plan.map((runs, s) => runs.map((r) => ({ key: r.key, ...ensureRun(store, queue, r.input, r.config, `figures ${r.key} · seed ${s}`) })));
    const ids = ensured.map((runs) => runs.map(({ key, id }) => ({ key, id })));
    const reused = ensured.flat().filter((r) => r.reused).length;
    process.stderr.write(`figures: ${ids.flat().length} runs (${reused} reused from the store, ${ids.flat().length - reused} to compute), ${seeds} seeds, preset ${preset}\n`);
    await queue.idle();
    unsubscribe();
    view.clear();
    const results = ids.map((runs) => Object.fromEntries(runs.map((r) => [r.key, store.result(r.id)])) as Record<string, RunResult>);
    for (const runs of ids) for (const r of runs) if (store.get(r.id).status !== 'finished') throw new Error(`run ${r.id} (${r.key}) did not finish: ${store.get(r.id).error ?? store.get(r.id).status}`);

    process.stderr.write('figures: training the lower-bound baselines (C4)...\n');
    const baselines: BaselineResult[][] = [];
    for (let s = 0; s < seeds; s++) baselines.push(await runBaselines(plan[s]![0]!.config));

    const settings = `${preset} preset (d = ${mainConfig.task.d}, m = ${mainConfig.model.width}, k = ${mainConfig.task.k}, ${mainConfig.task.trainSize} training samples, rho = ${mainConfig.model.threshold.ratio}, ${mainConfig.train.cleanEpochs} clean + ${mainConfig.train.adversarialEpochs} ${mainConfig.train.attack.kind.toUpperCase()}-${mainConfig.train.attack.steps} ${mainConfig.train.attack.norm} epochs at eps ${mainConfig.train.attack.eps}); ${seeds} seed${seeds > 1 ? 's' : ''}, mean ± std; test set ${mainConfig.eval.testSize}`;
    const mains = results.map((r) => r.main!);
    const claims: Claim[] = [];

    // C1: the mixtures over training.
    const epochs = mains[0]!.instruments.map((e) => e.globalEpoch);
    const mixture = across(mains, epochs.length, (r, i) => r.instruments[i]?.mixtureRatio?.summary.median);
    const coherence = across(mains, epochs.length, (r, i) => r.instruments[i]?.coherence?.summary.median);
    const boundary = mainConfig.train.cleanEpochs;
    const clean = meanStd(mains.map((r) => r.summary.afterClean!.cleanAccuracy));
    const robust = meanStd(mains.map((r) => r.summary.afterClean!.robustAccuracy));
    claims.push({
      id: 'C1-mixtures',
      title: 'C1. Clean training leaves coherent dense mixtures',
      caption: `Median over neurons of the mixture ratio (energy outside each neuron's principal dictionary atom) and of the mixture coherence (cosine of the mixture with the label direction), over training. After clean training: clean accuracy ${ms(clean)}, PGD-20 robust accuracy ${ms(robust)} at eps ${mainConfig.eval.eps}, median coherence ${ms(coherence[epochs.indexOf(boundary)]!)}. ${settings}.`,
      option: claimMixtures({ epochs, mixtureRatio: mixture, coherence, boundary }, { static: true }),
      csv: csvOf(['epoch', 'mixture_ratio_mean', 'mixture_ratio_std', 'coherence_mean', 'coherence_std'], epochs.map((e, i) => [e, mixture[i]!.mean, mixture[i]!.std, coherence[i]!.mean, coherence[i]!.std])),
      size: 'column',
    });

    // C2: purification makes robust.
    const evalOf = (r: RunResult, label: string) => r.evaluations.find((e) => e.label === label)!;
    const eps = evalOf(mains[0]!, 'final').worstCase.eps;
    const mixCurve = (r: RunResult, label: string) => evalOf(r, label).curves.find((c) => c.attack.startsWith('mixture direction'));
    const worstClean = across(mains, eps.length, (r, i) => evalOf(r, 'after-clean').worstCase.accuracy[i]?.estimate);
    const worstFinal = across(mains, eps.length, (r, i) => evalOf(r, 'final').worstCase.accuracy[i]?.estimate);
    const mixClean = across(mains, eps.length, (r, i) => mixCurve(r, 'after-clean')?.accuracy[i]?.estimate);
    const mixFinal = across(mains, eps.length, (r, i) => mixCurve(r, 'final')?.accuracy[i]?.estimate);
    const change = meanStd(mains.map((r) => r.summary.update!.relativeChange));
    const at = eps.indexOf(mainConfig.eval.eps);
    claims.push({
      id: 'C2-purification',
      title: 'C2. Adversarial fine-tuning purifies the neurons and makes them robust',
      caption: `Robust accuracy against eps (l2), per-sample worst case over PGD-20, FGM, the mixture direction and random noise, after clean training and after adversarial fine-tuning from it; dashed: the mixture-direction attack alone. At eps ${mainConfig.eval.eps}: ${ms(worstClean[at]!)} -> ${ms(worstFinal[at]!)}, while the weights move by ||W' - W|| / ||W|| = ${ms(change)}. ${settings}.`,
      option: claimPurification({ eps, afterClean: worstClean, final: worstFinal, mixtureAfterClean: mixClean, mixtureFinal: mixFinal }, { static: true }),
      csv: csvOf(['eps', 'after_clean_mean', 'after_clean_std', 'final_mean', 'final_std', 'mixture_after_clean_mean', 'mixture_final_mean'], eps.map((e, i) => [e, worstClean[i]!.mean, worstClean[i]!.std, worstFinal[i]!.mean, worstFinal[i]!.std, mixClean[i]!.mean, mixFinal[i]!.mean])),
      size: 'column',
    });

    // C3: the principle, at the small init scale (the paper's regime).
    const small = results.map((r) => r['small-init']!);
    const logRatio = small.flatMap((r) => r.summary.decomposition!.normRatio.values.map((v) => Math.log10(v)));
    const cosClean = small.flatMap((r) => [...r.summary.decomposition!.cosCleanInit.values]);
    const cosRobust = small.flatMap((r) => [...r.summary.decomposition!.cosRobustInit.values]);
    const share = meanStd(small.map((r) => r.summary.decomposition!.shareAboveOne));
    const shareMain = meanStd(mains.map((r) => r.summary.decomposition!.shareAboveOne));
    claims.push({
      id: 'C3-principle',
      title: "C3. w = beta w' + v with ||beta w'|| > ||v||, far from the init",
      caption: `Left: log10 of ||beta_i w_i'|| / ||v_i|| per neuron (w after clean training, w' after fine-tuning, beta_i = <w_i, w_i'> / ||w_i'||^2), pooled over seeds; share of neurons above 1: ${ms(share)} (${ms(shareMain)} at init scale ${mainConfig.model.initScale}). Right: cosines of the clean and fine-tuned neurons with their initialisation. Init scale ${smallInitScale}; otherwise ${settings}.`,
      option: claimPrinciple({ logRatio, cosClean, cosRobust }, { static: true }),
      csv: csvOf(['quantity', 'value'], [...logRatio.map((v) => ['log10_norm_ratio', v] as const), ...cosClean.map((v) => ['cos_clean_init', v] as const), ...cosRobust.map((v) => ['cos_robust_init', v] as const)]),
      size: 'wide',
    });

    // C4: the lower bound.
    const kinds = baselines[0]!.map((b) => `${b.kind}, ${b.training}`);
    const networkRobust = meanStd(mains.map((r) => r.summary.final.worstCaseRobustAccuracy));
    const networkClean = meanStd(mains.map((r) => r.summary.final.cleanAccuracy));
    const baseRobust = kinds.map((_, k) => meanStd(baselines.map((b) => b[k]!.summary.worstCaseRobustAccuracy)));
    const baseClean = kinds.map((_, k) => meanStd(baselines.map((b) => b[k]!.summary.cleanAccuracy)));
    claims.push({
      id: 'C4-lower-bound',
      title: 'C4. Linear models, random features and the NTK cannot be robust there',
      caption: `Clean and worst-case robust accuracy at eps ${mainConfig.eval.eps} of the network after clean -> adversarial fine-tuning and of the lower-bound baselines (a linear classifier; random features: the first layer frozen at init, output weights trained; the network linearised at its init, trained in its tangent space), each trained clean and adversarially with the same data and eps. Network: ${ms(networkRobust)}; best baseline: ${Math.max(...baseRobust.map((m) => m.mean)).toFixed(3)}. ${settings}.`,
      option: claimBars({ categories: ['network, fine-tuned', ...kinds], series: [{ name: 'clean accuracy', color: CLEAN, values: [networkClean, ...baseClean] }, { name: `robust accuracy (worst case, eps ${mainConfig.eval.eps})`, color: ROBUST, values: [networkRobust, ...baseRobust] }], y: 'accuracy' }, { static: true }),
      csv: csvOf(['model', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'], [['network, fine-tuned', networkClean.mean, networkClean.std, networkRobust.mean, networkRobust.std], ...kinds.map((k, i) => [k, baseClean[i]!.mean, baseClean[i]!.std, baseRobust[i]!.mean, baseRobust[i]!.std] as const)]),
      size: 'wide',
    });

    // C5: a low-rank update suffices.
    const d = mainConfig.task.d;
    const rankAxis = [...ranks, Math.min(d, mainConfig.model.width)];
    const pickRank = (r: Record<string, RunResult>, i: number) => (i < ranks.length ? r[`rank-${ranks[i]}`]! : r.main!);
    const rankRobust = across(results, rankAxis.length, (r, i) => pickRank(r, i).summary.final.worstCaseRobustAccuracy);
    const rankClean = across(results, rankAxis.length, (r, i) => pickRank(r, i).summary.final.cleanAccuracy);
    const before = meanStd(mains.map((r) => r.summary.afterClean!.worstCaseRobustAccuracy));
    const effRank = meanStd(mains.map((r) => r.summary.update!.effectiveRank));
    const stableRank = meanStd(mains.map((r) => r.summary.update!.stableRank));
    claims.push({
      id: 'C5-low-rank',
      title: 'C5. A low-rank adversarial update is enough',
      caption: `Clean and worst-case robust accuracy at eps ${mainConfig.eval.eps} after adversarial fine-tuning of W' = W + U V^T with W frozen and U, V of rank r (the last point: the full update, r = ${rankAxis[rankAxis.length - 1]}); robust accuracy before fine-tuning ${ms(before)}. The full update W' - W has effective rank ${ms(effRank, 1)} and stable rank ${ms(stableRank, 2)}. ${settings}.`,
      option: aggregatedLines(
        [
          { name: 'clean accuracy', color: CLEAN, x: rankAxis, values: rankClean },
          { name: `robust accuracy (worst case)`, color: ROBUST, x: rankAxis, values: rankRobust },
          { name: 'robust before fine-tuning', color: okabeIto.black, x: rankAxis, values: rankAxis.map(() => before), dashed: true },
        ],
        { x: 'rank r of the update', y: 'accuracy', yMin: 0, yMax: 1, xLog: true },
        { static: true },
      ),
      csv: csvOf(['rank', 'clean_mean', 'clean_std', 'robust_mean', 'robust_std'], rankAxis.map((r, i) => [r, rankClean[i]!.mean, rankClean[i]!.std, rankRobust[i]!.mean, rankRobust[i]!.std])),
      size: 'column',
    });

    const sections: string[] = [];
    for (const claim of claims) {
      await exportFigure(claim.option, out, claim.id, ['svg', 'png', 'pdf'], claim.size);
      writeFileSync(join(out, `${claim.id}.csv`), claim.csv);
      writeFileSync(join(out, `${claim.id}.txt`), `${claim.title}\n\n${claim.caption}\n`);
      const png = readFileSync(join(out, `${claim.id}.png`)).toString('base64');
      sections.push(`<section><h2>${escapeHtml(claim.title)}</h2><img alt="${escapeHtml(claim.title)}" src="data:image/png;base64,${png}"><p>${escapeHtml(claim.caption)}</p><p class="files">${claim.id}.svg · .png · .pdf · .csv</p></section>`);
      process.stdout.write(`${claim.id}: ${join(out, claim.id)}.{svg,png,pdf,csv}\n`);
    }
    const seconds = (performance.now() - started) / 1000;
    writeFileSync(
      join(out, 'summary.html'),
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>Feature purification: the five claims</title><style>body{font-family:'Source Sans 3',sans-serif;max-width:980px;margin:2em auto;color:#1a1a1a}section{margin-bottom:2.5em}img{max-width:100%;border:1px solid #ddd}p{line-height:1.45}.files{color:#666;font-size:.9em}</style><h1>Feature purification: the five claims</h1><p>Allen-Zhu &amp; Li, "Feature Purification: How Adversarial Training Performs Robust Deep Learning" (arXiv 2005.10190), reproduced by Purification Lab ${escapeHtml(codeVersion())} on ${escapeHtml(info.label)}. ${escapeHtml(settings)}. Computed in ${seconds.toFixed(0)} s.</p>${sections.join('')}</html>\n`,
    );
    process.stdout.write(`summary: ${join(out, 'summary.html')} (${seconds.toFixed(0)} s)\n`);
    return 0;
  } finally {
    store.close();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
