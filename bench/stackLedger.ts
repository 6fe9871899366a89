/**
 * Where a stack member's time goes: K runs of one config (seeds 0..K-1) as one stack in THIS
 * process (the worker's StackedProgram, ../main/engine/training/stackedProgram.ts, on one kernel
 * thread, with no job queue, store or worker around it), its time split per member and part.
 *
 * The members interleave: each computes in synchronous stretches between its awaits (a training
 * request, the next epoch), and the program answers all requests of a turn in one kernel call.
 * Each member runs in its own AsyncLocalStorage context, and async hooks time every stretch and
 * give it to the member whose context it runs in, less the stacked calls made during it (which
 * are the whole stack's: ./computeLedger.ts's parts get each member's own stretches, the calls
 * get their own line). A member's stretches up to one of its events are the work that event
 * closes (computeLedger's partClosedBy), as in a lone run's ledger.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { ResolvedExperiment } from '../shared/config.ts';
import { prepareBackend } from '../main/engine/backend/prepareBackend.ts';
import { runExperiment } from '../main/engine/experiment.ts';
import { loadFusedKernels } from '../main/engine/kernels/fusedKernels.ts';
import { kernelThreadPool } from '../main/engine/kernels/threadPool.ts';
import { StackedProgram } from '../main/engine/training/stackedProgram.ts';
import { partClosedBy, type LedgerPart } from './computeLedger.ts';

export interface StackLedger {
  readonly members: number;
  /** From the first member's start to the last one's end (the backend prepared before). */
  readonly wall: number;
  /** CPU seconds of this process meanwhile. */
  readonly cpu: number;
  /** Seconds in the program's kernel calls, all members together, and the calls it made. */
  readonly calls: { readonly seconds: number; readonly steps: number; readonly memberSteps: number; readonly gradients: number; readonly memberGradients: number };
  /** Each part's seconds, summed over the members (their own stretches, the calls left out). */
  readonly parts: ReadonlyMap<LedgerPart, number>;
}

/** Runs `config` with seeds 0..members-1 as one stack in this process (wasm, one thread), timed part by part (`timed`: false leaves the hooks off, and the parts empty). */
export async function stackLedger(config: ResolvedExperiment, members: number, timed = true): Promise<StackLedger> {
  const { info, hooks } = await prepareBackend({ backend: 'wasm' });
  const kernels = await loadFusedKernels();
  const alone = hooks.makeTrainer;
  if (!kernels || !alone) throw new Error('stackLedger: the wasm kernels did not load, so nothing can stack');
  const program = new StackedProgram(kernelThreadPool(1), kernels);
  const callSeconds = () => program.seconds.steps + program.seconds.gradients;
  const parts = new Map<LedgerPart, number>();
  const member = new AsyncLocalStorage<number>();
  // Per member: its stretch's start and the call seconds then, and its time since its last event.
  const open = Array.from({ length: members }, () => ({ at: 0, calls: 0, pending: 0 }));
  const begin = (k: number | undefined) => {
    if (k === undefined) return;
    open[k]!.at = performance.now();
    open[k]!.calls = callSeconds();
  };
  const end = (k: number | undefined) => {
    if (k === undefined) return;
    const o = open[k]!;
    o.pending += (performance.now() - o.at) / 1000 - (callSeconds() - o.calls);
  };
  const hook = createHook({ before: () => begin(member.getStore()), after: () => end(member.getStore()) });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  if (timed) hook.enable();
  try {
    await Promise.all(
      Array.from({ length: members }, (_, k) =>
        member.run(k, () => {
          begin(k);
          const run = runExperiment({ ...config, seed: k }, info, {
            ...hooks,
            makeTrainer: (net, c) => program.makeTrainer(net, c) ?? alone(net, c),
            onEvent: (event) => {
              if (event.type === 'run-started') return;
              end(k);
              const part = partClosedBy(event);
              parts.set(part, (parts.get(part) ?? 0) + open[k]!.pending);
              open[k]!.pending = 0;
              begin(k);
            },
          });
          end(k);
          return run;
        }),
      ),
    );
  } finally {
    hook.disable();
  }
  const used = process.cpuUsage(cpu0);
  return { members, wall: (performance.now() - t0) / 1000, cpu: (used.user + used.system) / 1e6, calls: { seconds: callSeconds(), ...program.calls }, parts };
}
