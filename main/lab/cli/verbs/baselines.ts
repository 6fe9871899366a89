/**
 * `lab baselines [run options] | lab baselines ID`: claim C4's lower-bound baselines (a linear
 * classifier, a quadratic one, random features on the network's frozen init, the network's
 * tangent model), each trained clean and adversarially on the experiment's data at its eps,
 * printed beside the network after clean training and after clean -> adversarial fine-tuning,
 * with C4's verdict (../../lowerBound.ts). Without an ID the network is trained here (not recorded
 * in the store); with a stored run's ID its config and summary are used.
 */
import { writeFileSync } from 'node:fs';
import { meanStd } from '../../../../shared/aggregate.ts';
import { sparseCodingOnly, type ResolvedExperiment, type SparseCodingExperiment } from '../../../../shared/config.ts';
import type { ModelSummary, RunSummary } from '../../../../shared/events.ts';
import type { BackendRequest } from '../../../engine/backend/chooseBackend.ts';
import type { BaselineResult } from '../../../engine/baselines.ts';
import { lowerBoundCheck } from '../../lowerBound.ts';
import { textTable as table } from '../../textTable.ts';
import { resolveSources } from '../../experimentInput.ts';
import { JobHost } from '../../jobHost/jobHost.ts';
import { backendLine, checkBackendAndPreset, integerOption, jobsOption, openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

const interval = (v: number, i: readonly [number, number]) => `${v.toFixed(3)} [${i[0].toFixed(3)}, ${i[1].toFixed(3)}]`;

/** The C4 table: each model's clean, robust and worst-case accuracy at the config's eps. */
export function baselinesTable(config: ResolvedExperiment, network: RunSummary, baselines: readonly BaselineResult[]): string {
  const attack = baselines[0]?.evaluation.attacks[0] ?? 'the evaluation attack';
  const rows: string[][] = [['', 'clean accuracy', `robust accuracy, ${attack} at eps ${config.eval.eps}`, 'worst case over all attacks']];
  const networkRow = (name: string, s: ModelSummary) => [name, interval(s.cleanAccuracy, s.intervals.cleanAccuracy), interval(s.robustAccuracy, s.intervals.robustAccuracy), interval(s.worstCaseRobustAccuracy, s.intervals.worstCaseRobustAccuracy)];
  if (network.afterClean) rows.push(networkRow('network, after clean', network.afterClean));
  rows.push(networkRow(config.train.protocol === 'fine-tune' ? 'network, after fine-tuning' : `network (${config.train.protocol})`, network.final));
  for (const b of baselines) {
    const e = b.evaluation;
    const worst = e.worstCase.accuracy[e.worstCase.eps.indexOf(config.eval.eps)]!;
    const pair = (a: { lower: number; upper: number }) => [a.lower, a.upper] as const;
    rows.push([
      `${b.kind}, ${b.training} (lr ${b.lr}, ${b.epochs} epochs)`,
      interval(e.cleanAccuracy.estimate, pair(e.cleanAccuracy)),
      interval(e.robustAccuracy.estimate, pair(e.robustAccuracy)),
      interval(worst.estimate, pair(worst)),
    ]);
  }
  const one = (v: number) => meanStd([v]);
  const check = lowerBoundCheck(
    config.eval.eps,
    { clean: one(network.final.cleanAccuracy), robust: one(network.final.worstCaseRobustAccuracy) },
    baselines.map((b) => ({ name: `${b.kind}, ${b.training}`, clean: one(b.summary.cleanAccuracy), robust: one(b.summary.worstCaseRobustAccuracy) })),
  );
  const verdict = check.holds === true ? 'C4 holds here' : check.holds === false ? 'C4 does NOT hold here' : 'C4 is undecided here';
  return `${table(rows)}\n\n${verdict}: ${check.text}.`;
}

export const baselinesVerb: Verb = async (values, rest, io) => {
  if (rest.length > 1) throw new UsageError(`Unexpected argument "${rest[1]}"`);
  checkBackendAndPreset(values);
  const fromRun = rest[0];
  if (fromRun && (values.preset || values.config || values.set || values.seed)) {
    throw new UsageError('baselines ID takes the stored run\'s config: --preset, --config, --set and --seed do not apply');
  }
  let config: SparseCodingExperiment;
  let network: RunSummary | null = null;
  if (fromRun) {
    const store = openStore(values, io);
    try {
      const run = store.get(fromRun);
      const result = store.result(run.id);
      if (!result.summary?.final) throw new UsageError(`Run ${run.id} has not finished: it has no final summary to compare with`);
      config = sparseCodingOnly(result.config, 'lab baselines');
      network = result.summary;
      io.stdout.write(`network: stored run ${run.id}\n`);
    } finally {
      store.close();
    }
  } else {
    const seed = integerOption(values.seed, 'seed', 0);
    config = sparseCodingOnly(resolveSources({ preset: values.preset, configFile: values.config, sets: values.set, seed }), 'lab baselines');
  }

  // The training runs in workers (as every verb that trains): Ctrl-C ends it, stuck or not. The
  // network and the baselines are independent: with --jobs 2 or more they train at once.
  const jobs = jobsOption(values);
  const host = new JobHost({ backend: values.backend as BackendRequest | undefined, fused: !values['no-fused'], concurrency: jobs });
  const info = await host.backendInfo();
  io.stdout.write(backendLine(info));
  const trainNetwork = async (): Promise<RunSummary> => {
    io.stderr.write(`network: ${config.train.protocol}, ${config.train.cleanEpochs} clean + ${config.train.adversarialEpochs} adversarial epochs...\n`);
    const result = await host.start(
      { kind: 'experiment', config, checkpointEvery: 0 },
      {
        onEvent: (event) => {
          if (event.type === 'phase-changed') io.stderr.write(`network: ${event.phase} phase, ${event.epochs} epochs\n`);
        },
      },
    ).result;
    return result.summary;
  };
  const trainBaselines = () =>
    host.start(
      { kind: 'baselines', config },
      {
        onBaselineEpoch: (e) => {
          if (e.epoch === e.epochs) io.stderr.write(`${e.kind}, ${e.training}: ${e.epochs} epochs, loss ${e.loss.toFixed(4)}\n`);
        },
      },
    ).result;
  let baselines: BaselineResult[];
  if (network) baselines = await trainBaselines();
  else if (jobs >= 2) [network, baselines] = await Promise.all([trainNetwork(), trainBaselines()]);
  else {
    network = await trainNetwork();
    baselines = await trainBaselines();
  }
  await host.close();
  io.stdout.write(`\n${baselinesTable(config, network, baselines)}\n`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ config, backend: info, ...(fromRun ? { runId: fromRun } : {}), network, baselines }));
    io.stdout.write(`result written to ${values.json}\n`);
  }
  return 0;
};
