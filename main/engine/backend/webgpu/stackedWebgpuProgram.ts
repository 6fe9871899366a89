/**
 * A stack's members computing as one program on webgpu, behind the request interface of the CPU
 * stack (../../training/stackedProgram.ts): each member's trainer steps and attacks through
 * REQUESTS (Trainer.later) that the epoch loop awaits, and the program answers every request made
 * since the last answer at the next turn of the event loop, one stacked submission per kind and
 * shape (./stackedWebgpu.ts): a training step of all members in the dispatches of one member's
 * step, a training attack of all members in one dispatch per PGD step. Unlike the CPU stack,
 * whose attack is a request per PGD step, a whole attack is one request: its steps stay on the
 * device, with no read-back between them.
 *
 * Each member's clock (../../training/memberClock.ts) stops at its requests and takes its share,
 * by rows, of each submission's seconds. Those are the host's seconds to encode and submit: the
 * device's work is waited for where a figure is read back (the epoch's loss), in the member's
 * own time.
 *
 * A failed call fails the requests in it: the members it held see the error in their own run.
 */
import type { ResolvedExperiment } from '../../../../shared/config.ts';
import type { TwoLayerNet } from '../../models/twoLayerNet.ts';
import { NextTurn } from '../../training/nextTurn.ts';
import { MemberClock, shareCall } from '../../training/memberClock.ts';
import type { Trainer } from '../../training/trainer.ts';
import { GpuKernels } from './gpuKernels.ts';
import {
  arenaKey, attackKey, createArena, disposeArena, exportMemberState, importMemberState, joinArena, leaveArena, recordAttack, StackScratch,
  stackedWebgpuAttacks, stackedWebgpuSteps, syncMember, takeMemberLoss, type Arena, type GpuStackBatch, type GpuStackMember, type PendingAttack,
} from './stackedWebgpu.ts';

interface Request<In> {
  readonly input: In;
  readonly clock: MemberClock;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type StepInput = { member: GpuStackMember; batch: GpuStackBatch };

function grouped<In>(requests: readonly Request<In>[], key: (input: In) => string): Request<In>[][] {
  const groups = new Map<string, Request<In>[]>();
  for (const r of requests) {
    const k = key(r.input);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()];
}

export class WebgpuStackedProgram {
  private readonly arenas = new Map<string, Arena>();
  private readonly scratch: StackScratch;
  private steps: Request<StepInput>[] = [];
  private attacks: Request<PendingAttack>[] = [];
  private readonly turn = new NextTurn(() => this.answer());
  /** Stacked calls made, and the member-steps and member-attacks they covered (the bench's figures). */
  readonly calls = { steps: 0, memberSteps: 0, attacks: 0, memberAttacks: 0 };

  constructor(readonly gpu: GpuKernels = GpuKernels.ofActiveBackend()) {
    this.scratch = new StackScratch(gpu);
  }

  /** A trainer for `net` that computes in this program's calls, or null when its mode has no stacked kernels (learned thresholds). */
  makeTrainer(net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
    if (net.thresholdMode === 'learned') return null;
    const key = arenaKey(net, config);
    let arena = this.arenas.get(key);
    if (!arena) this.arenas.set(key, (arena = createArena(net, config)));
    const member = joinArena(this.gpu, arena, net, config);
    const { gpu, scratch } = this;
    const clock = new MemberClock();
    return {
      step: (x, _xT, y, scale, lr) => stackedWebgpuSteps(gpu, scratch, [{ member, batch: { x, y, scale, lr } }]),
      perturb(x, y, attack) {
        const pending = recordAttack(member, x, y, attack);
        stackedWebgpuAttacks(gpu, scratch, [pending]);
        return pending.xa;
      },
      takeLoss: () => takeMemberLoss(gpu, member),
      sync: () => syncMember(member),
      exportState: () => exportMemberState(member),
      importState: (state) => importMemberState(gpu, member, state),
      dispose: () => leaveArena(member),
      later: {
        step: (x, y, scale, lr) => this.request(this.steps, clock, { member, batch: { x, y, scale, lr } }),
        perturb: async (x, y, attack) => {
          const pending = recordAttack(member, x, y, attack);
          try {
            await this.request(this.attacks, clock, pending);
          } catch (error) {
            pending.xa.dispose();
            throw error;
          }
          return pending.xa;
        },
        clock,
      },
    };
  }

  private request<In>(queue: Request<In>[], clock: MemberClock, input: In): Promise<void> {
    clock.pause();
    return new Promise<void>((resolve, reject) => {
      queue.push({ input, clock, resolve, reject });
      this.turn.schedule();
    });
  }

  /** Every request made since the last answer: one stacked submission per kind and shape. */
  private answer(): void {
    const steps = this.steps;
    const attacks = this.attacks;
    this.steps = [];
    this.attacks = [];
    for (const group of grouped(steps, ({ member }) => arenaKey(member.net, member.config))) {
      this.settle(group, (r) => r.input.batch.x.shape[0], () => {
        stackedWebgpuSteps(this.gpu, this.scratch, group.map((r) => r.input));
        this.calls.steps += 1;
        this.calls.memberSteps += group.length;
      });
    }
    for (const group of grouped(attacks, attackKey)) {
      this.settle(group, (r) => r.input.x0.shape[0], () => {
        stackedWebgpuAttacks(this.gpu, this.scratch, group.map((r) => r.input));
        this.calls.attacks += 1;
        this.calls.memberAttacks += group.length;
      });
    }
  }

  /** Makes one call for `group`, shares its seconds out by `rows`, and answers the group's requests. */
  private settle<In>(group: readonly Request<In>[], rows: (r: Request<In>) => number, call: () => void): void {
    const t0 = performance.now();
    try {
      call();
      shareCall(group, t0, rows);
      group.forEach((r) => r.resolve());
    } catch (error) {
      group.forEach((r) => r.reject(error));
    }
  }

  /** Frees the arenas and scratch (every member's trainer disposed first). */
  dispose(): void {
    for (const arena of this.arenas.values()) disposeArena(arena);
    this.arenas.clear();
    this.scratch.dispose();
  }
}
