/**
 * The evaluation's share of the default flagship (issue 13, item 3), before and after: this
 * checkout's engine and, with `--against DIR`, the engine of another checkout of the project
 * (for example `git worktree add /tmp/before <commit>`), run in turn in one process, `rounds`
 * times each, so that both meet the same machine. For each run: wall and CPU seconds, training,
 * evaluation (everything that is not a training step: instruments, the epochs' metrics, the robust
 * accuracies, the phase-end evaluations, the summary, the data set-up) and its share; and whether
 * every measurement (metrics, instruments, evaluations, summary) equals the first run's.
 *   node --import tsx bench/evaluationShare.ts [--against DIR] [rounds]
 */
import { loadavg } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveSparseCoding } from '../shared/config.ts';
import type { RunResult } from '../shared/result.ts';
import type { prepareBackend as PrepareBackend } from '../main/engine/backend/prepareBackend.ts';
import type { runExperiment as RunExperiment } from '../main/engine/experiment.ts';

interface Engine {
  readonly name: string;
  readonly runExperiment: typeof RunExperiment;
  readonly prepareBackend: typeof PrepareBackend;
}

async function engineAt(root: string, name: string): Promise<Engine> {
  const at = (path: string) => pathToFileURL(join(root, path)).href;
  const { runExperiment } = (await import(at('main/engine/experiment.ts'))) as { runExperiment: typeof RunExperiment };
  const { prepareBackend } = (await import(at('main/engine/backend/prepareBackend.ts'))) as { prepareBackend: typeof PrepareBackend };
  return { name, runExperiment, prepareBackend };
}

/** What a run measured, without its timing and live tensor counts. */
function measurements(result: RunResult): string {
  const metrics = result.metrics.map(({ elapsedSeconds, tensors, ...rest }) => (void elapsedSeconds, void tensors, rest));
  return JSON.stringify({ metrics, instruments: result.instruments, evaluations: result.evaluations, summary: result.summary });
}

const load = () => loadavg()[0]!.toFixed(2);

export async function printEvaluationShare(against: string | null, rounds: number): Promise<void> {
  const here = resolve(new URL('..', import.meta.url).pathname);
  const engines = [await engineAt(here, 'this checkout')];
  if (against) engines.unshift(await engineAt(isAbsolute(against) ? against : resolve(against), against));
  const config = resolveSparseCoding({});
  console.log(`\nThe evaluation's share of the default flagship (${rounds} rounds${against ? `, ${engines.map((e) => e.name).join(' and ')} in turn` : ''})`);
  let first: string | null = null;
  for (let round = 0; round < rounds; round++) {
    for (const engine of engines) {
      const { info, hooks } = await engine.prepareBackend({ backend: 'wasm' });
      const loadBefore = load();
      const cpu0 = process.cpuUsage();
      const result = await engine.runExperiment(config, info, hooks);
      const cpu = process.cpuUsage(cpu0);
      const { seconds, trainSeconds, evalSeconds } = result.timing;
      const measured = measurements(result);
      first ??= measured;
      console.log(
        `  ${engine.name}: ${seconds.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU; training ${trainSeconds.toFixed(2)} s, ` +
          `evaluation ${evalSeconds.toFixed(2)} s = ${((100 * evalSeconds) / seconds).toFixed(0)} % of the run; load ${loadBefore} -> ${load()}; ` +
          `measurements ${measured === first ? 'equal to the first run' : 'DIFFER from the first run'}`,
      );
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--against');
  const against = at >= 0 ? args[at + 1]! : null;
  const rest = args.filter((_, i) => at < 0 || (i !== at && i !== at + 1));
  await printEvaluationShare(against, Number(rest[0] ?? 2));
}
