/**
 * The flagship end to end against the project's NumPy float32 peer (./numpy_flagship.py), issue 13's
 * "Performance": the default flagship (instruments every epoch, robust accuracy every 5 epochs, 3
 * attacks and the random-noise check over a 6-point eps grid after each phase) and the same
 * protocol on NumPy's evaluation schedule (PGD-20 and the mixture direction at the headline radius,
 * instruments, only after each phase), each against NumPy, the ratios in the same run.
 *
 * Three rounds, each running the three in turn, and the median of each: on a shared machine a
 * busy moment then spoils one round of each, not one side. Beside the wall time, the CPU seconds
 * each got (ours: this process; NumPy: its process_time, all its BLAS threads), and the
 * evaluation's share of our run: everything that is not a training step (the instruments, the
 * epochs' metrics, the robust accuracies, the phase-end evaluations, the clean-to-final summary and
 * the data set-up), the part issue 13, item 3 makes cheaper.
 * `npm run bench` prints it; `node --import tsx bench/flagshipVsNumpy.ts [rounds]` prints it alone.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { resolveSparseCoding, type ResolvedExperiment } from '../shared/config.ts';
import type { BackendInfo } from '../shared/events.ts';
import type { RunResult } from '../shared/result.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { runExperiment, type ExperimentHooks } from '../main/engine/experiment.ts';

interface Timed {
  readonly wall: number;
  readonly cpu: number;
  readonly train: number;
}

interface NumpyRun extends Timed {
  readonly numpy: string;
  readonly blas: string;
}

/** Debian's python3 has NumPy here; a pyenv or venv python3 first on PATH may not. */
const pythons = ['python3', '/usr/bin/python3'];

function numpyRun(): NumpyRun | string {
  const python = pythons.find((p) => spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
  if (!python) return `skipped: neither ${pythons.join(' nor ')} can import numpy`;
  const run = spawnSync(python, [new URL('./numpy_flagship.py', import.meta.url).pathname, '--seed', '0'], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) return `failed: ${run.stderr.trim().split('\n').pop()}`;
  const out = JSON.parse(run.stdout) as { seconds: number; trainSeconds: number; cpuSeconds: number; numpy: string; blas: string };
  return { wall: out.seconds, cpu: out.cpuSeconds, train: out.trainSeconds, numpy: out.numpy, blas: out.blas };
}

async function ours(config: ResolvedExperiment, info: BackendInfo, hooks: ExperimentHooks): Promise<Timed & { result: RunResult }> {
  const cpu0 = process.cpuUsage();
  const result = await runExperiment(config, info, hooks);
  const cpu = process.cpuUsage(cpu0);
  return { wall: result.timing.seconds, cpu: (cpu.user + cpu.system) / 1e6, train: result.timing.trainSeconds, result };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** The medians of a side's rounds (each figure its own median). */
function medians(runs: Timed[]): Timed {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), train: median(runs.map((r) => r.train)) };
}

/** Prints the figures; returns the wall ratios ours / NumPy (NaN without NumPy). */
export async function printFlagshipVsNumpy(rounds = 3): Promise<{ defaultSchedule: number; numpySchedule: number }> {
  const { info, hooks } = await prepareBackend({ backend: 'wasm' });
  const schedules = [
    { name: 'default flagship', target: 2.0, config: resolveSparseCoding({}) },
    {
      name: "NumPy's evaluation schedule",
      target: 1.3,
      config: resolveSparseCoding({
        eval: { every: 0, epsGrid: [0.3], noiseDraws: 0, attacks: [{ kind: 'pgd', steps: 20 }, { kind: 'mixture-direction' }] },
        instruments: { every: 30, coefficientsEvery: 0 },
      }),
    },
  ];
  console.log(`\nFlagship end to end vs the NumPy float32 peer (30 clean + 30 PGD-5 epochs; median of ${rounds} rounds, each running all three)`);
  console.log(`  load average before (1, 5, 15 min): ${load()}`);
  const runs: Timed[][] = schedules.map(() => []);
  const numpyRuns: NumpyRun[] = [];
  let numpyFailure: string | null = null;
  let last: RunResult[] = [];
  for (let round = 0; round < rounds; round++) {
    last = [];
    for (const [i, schedule] of schedules.entries()) {
      const r = await ours(schedule.config, info, hooks);
      runs[i]!.push(r);
      last.push(r.result);
    }
    const n = numpyRun();
    if (typeof n === 'string') numpyFailure = n;
    else numpyRuns.push(n);
  }
  schedules.forEach((schedule, i) => {
    const m = medians(runs[i]!);
    const evaluation = m.wall - m.train;
    const summary = last[i]!.summary;
    console.log(
      `  wasm${info.fusedKernels ? ' fused' : ''}, ${schedule.name}: ${fmt(m.wall)} s wall, ${fmt(m.cpu)} s CPU; training ${fmt(m.train)} s, ` +
        `evaluation ${fmt(evaluation)} s = ${fmt((100 * evaluation) / m.wall, 0)} % of the run; robust ${fmt(summary.afterClean!.robustAccuracy, 3)} -> ${fmt(summary.final.robustAccuracy, 3)}`,
    );
  });
  if (numpyRuns.length === 0) {
    console.log(`  NumPy float32: ${numpyFailure}`);
    return { defaultSchedule: NaN, numpySchedule: NaN };
  }
  const np = medians(numpyRuns);
  console.log(`  NumPy float32 (${numpyRuns[0]!.numpy}, ${numpyRuns[0]!.blas}): ${fmt(np.wall)} s wall, ${fmt(np.cpu)} s CPU; training ${fmt(np.train)} s`);
  const ratios = schedules.map((schedule, i) => {
    const m = medians(runs[i]!);
    const wall = m.wall / np.wall;
    const verdict = wall <= schedule.target ? 'PASS' : `MISSED by ${fmt(wall / schedule.target)}x`;
    console.log(
      `  ratio ours / NumPy, ${schedule.name}: wall ${fmt(wall)}x (target <= ${fmt(schedule.target, 1)}x: ${verdict}), CPU ${fmt(m.cpu / np.cpu)}x, training ${fmt(m.train / np.train)}x`,
    );
    return wall;
  });
  console.log(`  load average after: ${load()}`);
  return { defaultSchedule: ratios[0]!, numpySchedule: ratios[1]! };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printFlagshipVsNumpy(Number(process.argv[2] ?? 3));
