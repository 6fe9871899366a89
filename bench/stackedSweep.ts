/**
 * Many models in one program (issue 14, item 3), measured on the CPU: a 16-member sweep of
 * `quick` (seeds 0..15) as stacks, one job (all 16 in one stack, one worker), against one
 * `quick` run, each through a fresh job queue (its worker starts inside the timing, as a
 * sweep's does), in one process; beside them the same 16 with --no-stack (one after another in
 * the one worker). Taken in the order one, stacked, unstacked, one, and the single run's figure
 * is the mean of its two, so that a drift of the machine's load weighs on both sides alike; the
 * process's CPU seconds beside each wall time, which others' load moves less. The stacked
 * members train on the stack's kernels (main/engine/training/stackedProgram.ts), the lone runs on
 * the fused trainer.
 *
 * Then where the time of one `quick` run goes (start: the worker and its backend; data: the
 * task's samples and the testbed; training; evaluation: the instruments, the metrics of every
 * epoch and the phase-end evaluations); where a warm run's compute goes, part by part, and how
 * much of it is matMul (./computeLedger.ts): the matMuls of K members, as tfjs-wasm computes them,
 * bound what any stack computing each member's matMuls on this backend can reach; and what
 * stacking the matMuls would give on this backend: one [m, d] x [d, B] matMul at the quick size
 * (cached, and with a new right operand), the K-batched one of tfjs-wasm, and K plain ones in a
 * loop; where a stack member's time goes (./stackLedger.ts: the same sweep as one stack in this
 * process, its training, evaluation and the rest per member, beside the same sweep through the
 * queue); the floor a stack on one thread cannot go below, from those figures (the work that is
 * not training and the queue's own, with the training free and at the matMul peak); an evaluation attack's input gradient per member, alone and with K members in one call
 * of the stack's phase (what batching the evaluation across members would give; the members share
 * the points here, where a sweep's have their own, which only adds memory traffic); last,
 * a training step and a PGD step per member, alone (fused) and stacked.
 * `npm run bench` prints it; `node --import tsx bench/stackedSweep.ts` prints it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolveExperiment, type resolveSparseCoding } from '../shared/config.ts';
import { presetByName } from '../shared/presets.ts';
import { defaultLoaders } from '../main/engine/backend/chooseBackend.ts';
import { loadFusedKernels } from '../main/engine/kernels/fusedKernels.ts';
import { kernelThreadPool } from '../main/engine/kernels/threadPool.ts';
import { TwoLayerNet } from '../main/engine/models/twoLayerNet.ts';
import { RandomStream } from '../main/engine/random.ts';
import { createFusedTrainer } from '../main/engine/training/fusedTrainer.ts';
import { fusedInputGradient } from '../main/engine/models/twoLayerFusedGradient.ts';
import { createStackedTrainer, joinStack, leaveStack, stackedInputGradients } from '../main/engine/training/stackedTrainer.ts';
import { trainingAttack } from '../main/engine/training/trainer.ts';
import { JobQueue } from '../main/lab/jobs.ts';
import { RunStore } from '../main/lab/store/runStore.ts';
import { expandSweep, startSweep } from '../main/lab/sweep.ts';
import { computeLedger, ledgerTotal, type LedgerPart } from './computeLedger.ts';
import { stackLedger } from './stackLedger.ts';

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const quick = presetByName('quick').config;

interface Timed {
  readonly wall: number;
  /** CPU seconds of this process meanwhile (every thread: the queue, the worker, its kernel threads), less sensitive to others' load than the wall time. */
  readonly cpu: number;
  readonly stacks: number;
  /** The first run's phases: seconds to its worker's backend, to its run-started event, its training and the rest. */
  readonly split: { start: number; data: number; training: number; evaluation: number } | null;
}

/** One quick run (members = 1) or a sweep of `members` seeds, through a fresh queue with one job. */
async function sweepSeconds(members: number, stack: boolean): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-stacked-'));
  const store = RunStore.open(dir);
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const queue = new JobQueue(store, { backend: 'wasm', concurrency: 1 });
    let backendAt = 0;
    let startedAt = 0;
    void queue.backendInfo().then(() => (backendAt = performance.now()));
    queue.subscribe((u) => {
      if (u.kind === 'event' && u.event.type === 'run-started' && startedAt === 0) startedAt = performance.now();
    });
    const sweep = startSweep(store, queue, { base: quick, grid: [], seeds: members, members: expandSweep(quick, [], members), preset: 'quick', stack });
    await queue.idle();
    const wall = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1e6;
    const runs = sweep.runs.map((r) => store.get(r.runId));
    const failed = runs.filter((r) => r.status !== 'finished');
    if (failed.length > 0) throw new Error(`${failed.length} runs did not finish: ${failed[0]!.error}`);
    const timing = members === 1 ? store.result(runs[0]!.id).timing : null;
    await queue.shutdown();
    const split = timing
      ? {
          start: (backendAt - t0) / 1000,
          data: (startedAt - backendAt) / 1000,
          training: timing.trainSeconds,
          evaluation: Math.max(0, wall - (startedAt - t0) / 1000 - timing.trainSeconds),
        }
      : null;
    return { wall, cpu, stacks: sweep.stacks, split };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds per call of f: the best of 5 blocks of at least 0.15 s (bench.ts's rule). */
function seconds(f: () => void): number {
  for (let i = 0; i < 5; i++) f();
  let best = Infinity;
  for (let b = 0; b < 5; b++) {
    let reps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 150 || reps < 5) {
      f();
      reps++;
    }
    best = Math.min(best, (performance.now() - t0) / 1000 / reps);
  }
  return best;
}

/**
 * GFLOP/s of the quick size's matMul alone, with a right operand new to it (as a training step's
 * batch is: tfjs-wasm packs each right operand once, XNNPACK's operator cache), K-batched by
 * tfjs-wasm, and K plain ones in a loop.
 */
async function matMulFigures(K: number): Promise<{ one: number; fresh: number; batched: number; loop: number }> {
  await defaultLoaders.wasm();
  const [m, d, B] = [64, 64, 100];
  const flops = 2 * m * d * B;
  const W = Array.from({ length: K }, (_, k) => tf.randomNormal([m, d], 0, 1, 'float32', k) as tf.Tensor2D);
  const X = Array.from({ length: K }, (_, k) => tf.randomNormal([d, B], 0, 1, 'float32', 100 + k) as tf.Tensor2D);
  const Wk = tf.stack(W) as tf.Tensor3D;
  const Xk = tf.stack(X) as tf.Tensor3D;
  const one = flops / seconds(() => tf.matMul(W[0]!, X[0]!).dispose()) / 1e9;
  const fresh = flops / seconds(() => {
    const x = tf.clone(X[0]!);
    tf.matMul(W[0]!, x).dispose();
    x.dispose();
  }) / 1e9;
  const batched = (K * flops) / seconds(() => tf.matMul(Wk, Xk).dispose()) / 1e9;
  const loop = (K * flops) / seconds(() => W.forEach((w, k) => tf.matMul(w, X[k]!).dispose())) / 1e9;
  tf.dispose([...W, ...X, Wk, Xk]);
  return { one, fresh, batched, loop };
}

/**
 * A training step and a training-attack PGD step at the quick size (d = m = 64, B = 100), per
 * member: the fused trainer alone (tfjs-wasm's matMuls, a new batch each step, as in training:
 * 40 batches in turn), and K members stacked on the kernels (one call per step for all K, one
 * thread), in microseconds.
 */
async function stepFigures(K: number): Promise<{ fusedStep: number; stackedStep: number; fusedPgd: number; stackedPgd: number }> {
  await defaultLoaders.wasm();
  const kernels = (await loadFusedKernels())!;
  const config = resolveExperiment(quick) as ReturnType<typeof resolveSparseCoding>;
  const [d, B] = [64, 100];
  const nets = Array.from({ length: K }, (_, k) => TwoLayerNet.initialise(config.model, d, k));
  const batches = Array.from({ length: 40 }, (_, k) => {
    const x = tf.randomNormal([B, d], 0, 0.3, 'float32', k) as tf.Tensor2D;
    return { x, xT: tf.transpose(x) as tf.Tensor2D, y: tf.sign(tf.randomNormal([B], 0, 1, 'float32', 100 + k)) as tf.Tensor1D, scale: tf.fill([B], 1 / B) as tf.Tensor1D };
  });
  const attack = trainingAttack(config, null, RandomStream.derive(1, 'bench'));
  const oneStepAttack = { ...attack, steps: 1 };
  const lr = config.train.optimizer.lr;
  let i = 0;
  const next = () => batches[i++ % batches.length]!;
  const fused = createFusedTrainer(kernels, nets[0]!, config)!;
  const fusedStep = seconds(() => {
    const b = next();
    fused.step(b.x, b.xT, b.y, b.scale, lr);
  });
  const fusedPgd = seconds(() => {
    const b = next();
    fused.perturb(b.x, b.y, oneStepAttack).dispose();
  });
  fused.dispose();
  const stacked = createStackedTrainer(kernelThreadPool(1), kernels, nets.map((net) => ({ net, config })))!;
  const stackedStep = seconds(() => stacked.step(nets.map(() => ({ ...next(), lr })))) / K;
  const stackedPgd = seconds(() => tf.dispose(stacked.perturb(nets.map(() => ({ ...next(), attack: oneStepAttack }))) as tf.Tensor2D[])) / K;
  stacked.dispose();
  nets.forEach((net) => net.dispose());
  tf.dispose(batches.flatMap((b) => [b.x, b.xT, b.y, b.scale]));
  return { fusedStep: fusedStep * 1e6, stackedStep: stackedStep * 1e6, fusedPgd: fusedPgd * 1e6, stackedPgd: stackedPgd * 1e6 };
}

/**
 * The input gradient of an evaluation attack's step at the quick evaluation's size (its test
 * points tiled once per radius, d = m = 64), per member: the fused session a lone member's
 * evaluation computes it with (tfjs-wasm's matMuls), and K members in one call of the stack's
 * input-gradient phase (one thread), in milliseconds: what batching the evaluation across a
 * stack's members would give on this backend.
 */
async function evaluationGradientFigures(K: number, rows: number): Promise<{ alone: number; stacked: number }> {
  await defaultLoaders.wasm();
  const kernels = (await loadFusedKernels())!;
  const config = resolveExperiment(quick) as ReturnType<typeof resolveSparseCoding>;
  const d = 64;
  const nets = Array.from({ length: K }, (_, k) => TwoLayerNet.initialise(config.model, d, k));
  const x = tf.randomNormal([rows, d], 0, 0.3, 'float32', 1) as tf.Tensor2D;
  const y = tf.sign(tf.randomNormal([rows], 0, 1, 'float32', 2)) as tf.Tensor1D;
  const session = fusedInputGradient(kernels, nets[0]!);
  const alone = seconds(() => session.inputGradient!(x, y).dispose());
  session.dispose();
  const pool = kernelThreadPool(1);
  const members = nets.map((net) => joinStack(pool, net, config)!);
  const stacked = seconds(() => tf.dispose(stackedInputGradients(pool, kernels, members.map((member) => ({ member, x, y }))))) / K;
  members.forEach((member) => leaveStack(pool, member));
  nets.forEach((net) => net.dispose());
  tf.dispose([x, y]);
  return { alone: alone * 1e3, stacked: stacked * 1e3 };
}

/** Prints the figures and returns the ratio stacked sweep / one run. */
export async function printStackedSweep(members = 16): Promise<number> {
  console.log(`\nMany models in one program: a ${members}-member sweep of quick (seeds 0..${members - 1}) stacked, one job, against one quick run (wasm, one thread each)`);
  console.log(`  order: one, stacked, unstacked, one; load average before (1, 5, 15 min): ${load()}`);
  const line = (label: string, t: Timed) => console.log(`  ${label.padEnd(24)} ${t.wall.toFixed(1)} s (CPU ${t.cpu.toFixed(1)} s)   load after: ${load()}`);
  const first = await sweepSeconds(1, true);
  line('one quick run:', first);
  const stacked = await sweepSeconds(members, true);
  line(`${members} stacked (${stacked.stacks} stack):`, stacked);
  const unstacked = await sweepSeconds(members, false);
  line(`${members} with --no-stack:`, unstacked);
  const last = await sweepSeconds(1, true);
  line('one quick run:', last);
  const one = (first.wall + last.wall) / 2;
  const oneCpu = (first.cpu + last.cpu) / 2;
  const ratio = stacked.wall / one;
  console.log(`  ratio stacked / one run (mean of the two): ${ratio.toFixed(2)}x   target <= 3.00: ${ratio <= 3 ? 'PASS' : `FAIL by ${(ratio - 3).toFixed(2)}`}; unstacked / one run: ${(unstacked.wall / one).toFixed(2)}x`);
  console.log(`  in CPU seconds (this process, every thread): stacked / one run ${(stacked.cpu / oneCpu).toFixed(2)}x, unstacked / one run ${(unstacked.cpu / oneCpu).toFixed(2)}x`);
  const s = last.split!;
  console.log(
    `  where one quick run's time goes (the second): start (worker, backend) ${s.start.toFixed(2)} s, data and testbed ${s.data.toFixed(2)} s, ` +
      `training ${s.training.toFixed(2)} s, evaluation and the rest (instruments, metrics, phase ends, store writes) ${s.evaluation.toFixed(2)} s`,
  );
  // A warm quick run in this process (the second of two): what a stack's member computes.
  const quickConfig = resolveExperiment(quick);
  await computeLedger({ ...quickConfig, seed: 1 });
  const ledger = await computeLedger({ ...quickConfig, seed: 2 });
  const total = ledgerTotal(ledger);
  console.log(`  where a warm quick run's ${total.seconds.toFixed(2)} s go (in this process, as a stack's member; matMul: tfjs-wasm's, timed per call):`);
  for (const [part, e] of ledger.parts) {
    if (e.seconds < 0.005) continue;
    console.log(
      `    ${part.padEnd(36)} ${e.seconds.toFixed(2)} s, of which ${e.matMuls} matMuls ${e.matMulSeconds.toFixed(2)} s (${(e.matMulFlops / 1e9).toFixed(2)} GFLOP, ` +
        `${(e.matMulFlops / Math.max(e.matMulSeconds, 1e-9) / 1e9).toFixed(1)} GFLOP/s); ${e.launches} tfjs kernel launches`,
    );
  }
  const floor = (s.start + members * total.matMulSeconds) / one;
  console.log(
    `  matMuls: ${total.matMulSeconds.toFixed(2)} s of the ${total.seconds.toFixed(2)} (${((100 * total.matMulSeconds) / total.seconds).toFixed(0)} %), ${(total.matMulFlops / 1e9).toFixed(1)} GFLOP; ` +
      `a stack computing each member's matMuls as tfjs-wasm does, and nothing else, would take start + ${members} x ${total.matMulSeconds.toFixed(2)} s = ${floor.toFixed(2)}x one run`,
  );
  const mm = await matMulFigures(members);
  console.log(
    `  matMul at the quick size [64, 64] x [64, 100] on wasm: one ${mm.one.toFixed(1)} GFLOP/s (${mm.fresh.toFixed(1)} with a new right operand each call), ${members} batched in one call ${mm.batched.toFixed(1)} GFLOP/s, ` +
      `${members} in a loop ${mm.loop.toFixed(1)} GFLOP/s`,
  );
  // A stack's member, part by part: the same sweep as one stack in this process (no queue, store or worker).
  const stack = await stackLedger(quickConfig, members);
  const perMember = (part: Parameters<typeof stack.parts.get>[0]) => (stack.parts.get(part) ?? 0) / members;
  const calls = stack.calls.seconds / members;
  const ownTraining = perMember('clean training') + perMember('adversarial training (PGD + steps)');
  const evaluation = perMember('phase-end evaluations') + perMember('epoch metrics');
  const other = perMember('instruments') + perMember('comparison and pictures') + perMember('phase starts and ends');
  console.log(
    `  where a stack member's time goes (${members} members as one stack in this process, no queue, store or worker: ${stack.wall.toFixed(1)} s, CPU ${stack.cpu.toFixed(1)} s, ` +
      `async hooks timing each member's own stretches):`,
  );
  console.log(
    `    training   ${(calls + ownTraining).toFixed(2)} s per member: the stack's kernel calls ${calls.toFixed(2)} (${(stack.calls.memberSteps / Math.max(1, stack.calls.steps)).toFixed(1)} members a step call, ` +
      `${(stack.calls.memberGradients / Math.max(1, stack.calls.gradients)).toFixed(1)} a PGD call), its own stretches ${ownTraining.toFixed(2)} (batches, random starts, PGD projections, requests)`,
  );
  console.log(`    evaluation ${evaluation.toFixed(2)} s per member: phase-end evaluations ${perMember('phase-end evaluations').toFixed(2)}, epoch metrics ${perMember('epoch metrics').toFixed(2)} (each member's own, as alone)`);
  console.log(
    `    other      ${other.toFixed(2)} s per member: instruments ${perMember('instruments').toFixed(2)}, comparison and pictures ${perMember('comparison and pictures').toFixed(2)}`,
  );
  console.log(
    `    beside the same sweep through the queue (its start, the store's writes, the worker's messages and turns included): ${stacked.wall.toFixed(1)} s, CPU ${stacked.cpu.toFixed(1)} s`,
  );
  // The floor on one thread, from this run's own figures: the members' work that is not training
  // (each computes it as it does alone, and batching it was measured to cost more, below), plus
  // what the queue adds over the in-process stack (the worker's start, the store's writes, the
  // messages), first with the training free, then with each member's training matMuls at this
  // machine's one-thread matMul peak and nothing else in its training.
  const notTraining = evaluation + other;
  const queueOwn = Math.max(0, stacked.wall - stack.wall);
  const trainingParts: LedgerPart[] = ['clean training', 'adversarial training (PGD + steps)'];
  const trainingFlops = trainingParts.reduce((sum, part) => sum + (ledger.parts.get(part)?.matMulFlops ?? 0), 0);
  const freeTraining = (members * notTraining + queueOwn) / one;
  const peakTraining = (members * (notTraining + trainingFlops / (mm.one * 1e9)) + queueOwn) / one;
  console.log(
    `  the floor on one thread: ${members} members' work that is not training (${notTraining.toFixed(2)} s each, as alone) and the queue's own (${queueOwn.toFixed(1)} s: start, store, messages) ` +
      `come to ${freeTraining.toFixed(2)}x one run with the training free, and ${peakTraining.toFixed(2)}x with each member's ${(trainingFlops / 1e9).toFixed(1)} GFLOP of training matMuls at the one-thread peak (${mm.one.toFixed(1)} GFLOP/s) and nothing else`,
  );
  const evalRows = quickConfig.eval.testSize * new Set([...quickConfig.eval.epsGrid, quickConfig.eval.eps]).size;
  const eg = await evaluationGradientFigures(members, evalRows);
  console.log(
    `  an evaluation attack's gradient per member (${evalRows} rows: ${quickConfig.eval.testSize} test points at each radius, one thread): ${eg.alone.toFixed(2)} ms alone (fused, tfjs-wasm's matMuls), ` +
      `${eg.stacked.toFixed(2)} ms stacked (${members} in one call): batching the evaluation across members ${eg.stacked < eg.alone ? `would save ${(100 * (1 - eg.stacked / eg.alone)).toFixed(0)} % of its gradients' time` : `would cost ${(100 * (eg.stacked / eg.alone - 1)).toFixed(0)} % more`}`,
  );
  const st = await stepFigures(members);
  console.log(
    `  per member at the quick size (d = m = 64, B = 100, one thread): a training step ${st.fusedStep.toFixed(0)} us alone (fused, tfjs-wasm's matMuls), ${st.stackedStep.toFixed(0)} us stacked (${members} in one call); ` +
      `a PGD step of the training attack ${st.fusedPgd.toFixed(0)} us alone, ${st.stackedPgd.toFixed(0)} us stacked`,
  );
  return ratio;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printStackedSweep(Number(process.argv[2] ?? 16));
