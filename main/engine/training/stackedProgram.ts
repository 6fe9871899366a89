/**
 * A stack's members computing as one program while each runs its own experiment (its own epoch
 * loop, events, checkpoints and cancel) in one worker. Each member's trainer is a stack member
 * (./stackedTrainer.ts) whose step and training-attack gradients are REQUESTS: the epoch loop
 * (./trainEpoch.ts) awaits them, and the program answers every request made since the last
 * answer with one kernel call (one stackedTrainStep for the steps, one stackedInputGradient for
 * the PGD gradients) at the next turn of the event loop (setImmediate). Members awaiting a request
 * give the others their turn, so the members that are training at that moment are in step and
 * share the call; a member that is evaluating, waiting for its parent, or finished simply has no
 * request in it. A member computes the same floats whichever members share its calls (each is
 * computed whole by one thread, ../kernels/assembly/stacked.ts).
 *
 * A failed call fails the requests in it: the members it held see the error in their own run.
 *
 * Each member's clock (./memberClock.ts) stops at its requests and takes its share of each call,
 * in proportion to its rows, so a member's training seconds are its own and not the stack's.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { FusedKernels } from '../kernels/fusedKernels.ts';
import type { KernelThreadPool } from '../kernels/threadPool.ts';
import type { TwoLayerNet } from '../models/twoLayerNet.ts';
import { beginStackAttack, finishStackAttack, joinStack, memberTrainer, stackedInputGradients, stackedSteps, type StackBatch, type StackMember } from './stackedTrainer.ts';
import { NextTurn } from './nextTurn.ts';
import { MemberClock, shareCall } from './memberClock.ts';
import type { Trainer } from './trainer.ts';

interface Request<In, Out> {
  readonly member: StackMember;
  readonly clock: MemberClock;
  readonly input: In;
  readonly resolve: (out: Out) => void;
  readonly reject: (error: unknown) => void;
}

/** Requests of members that may share a call: the same m, d, threshold mode and optimiser. */
function shapeKey(member: StackMember): string {
  return `${member.m} ${member.d} ${member.relative} ${member.kind}`;
}

function byShape<R extends { member: StackMember }>(requests: readonly R[]): R[][] {
  const groups = new Map<string, R[]>();
  for (const r of requests) {
    const key = shapeKey(r.member);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

export class StackedProgram {
  private steps: Request<StackBatch, void>[] = [];
  private gradients: Request<{ x: tf.Tensor2D; y: tf.Tensor1D }, tf.Tensor2D>[] = [];
  private readonly turn = new NextTurn(() => this.answer());
  /** Kernel calls made, and member-steps and member-gradients they covered (the bench's figures). */
  readonly calls = { steps: 0, memberSteps: 0, gradients: 0, memberGradients: 0 };
  /** Seconds spent in those calls, copies in and out included (the bench's breakdown), which the members' clocks share out. */
  readonly seconds = { steps: 0, gradients: 0 };

  constructor(
    private readonly pool: KernelThreadPool,
    private readonly kernels: FusedKernels,
  ) {}

  /** A trainer for `net` that computes in this program's calls, or null when its mode has no kernel path. */
  makeTrainer(net: TwoLayerNet, config: ResolvedExperiment): Trainer | null {
    const member = joinStack(this.pool, net, config);
    if (!member) return null;
    const alone = memberTrainer(this.pool, this.kernels, member);
    const clock = new MemberClock();
    return {
      ...alone,
      later: {
        step: (x, y, scale, lr) => this.request(this.steps, member, clock, { x, y, scale, lr }),
        perturb: async (x, y, attack) => {
          const run = beginStackAttack(this.kernels, member, { x, y, attack });
          try {
            while (run.left > 0) {
              const gradient = await this.request(this.gradients, member, clock, { x: run.point(), y });
              clock.resume();
              run.advance(gradient);
              gradient.dispose();
            }
          } catch (error) {
            finishStackAttack(run).dispose();
            throw error;
          }
          const adversarial = finishStackAttack(run);
          clock.pause(); // the caller resumes its clock (../training/trainEpoch.ts)
          return adversarial;
        },
        clock,
      },
    };
  }

  private request<In, Out>(queue: Request<In, Out>[], member: StackMember, clock: MemberClock, input: In): Promise<Out> {
    clock.pause();
    return new Promise<Out>((resolve, reject) => {
      queue.push({ member, clock, input, resolve, reject });
      this.turn.schedule();
    });
  }

  /** Every request made since the last answer, one kernel call per kind (and shape). */
  private answer(): void {
    const steps = this.steps;
    const gradients = this.gradients;
    this.steps = [];
    this.gradients = [];
    for (const group of byShape(steps)) {
      const t0 = performance.now();
      try {
        stackedSteps(this.pool, this.kernels, group.map((r) => ({ member: r.member, batch: r.input })));
        this.calls.steps += 1;
        this.calls.memberSteps += group.length;
        group.forEach((r) => r.resolve());
      } catch (error) {
        group.forEach((r) => r.reject(error));
      }
      this.seconds.steps += shareCall(group, t0, (r) => r.input.x.shape[0]);
    }
    for (const group of byShape(gradients)) {
      const t0 = performance.now();
      try {
        const out = stackedInputGradients(this.pool, this.kernels, group.map((r) => ({ member: r.member, ...r.input })));
        this.calls.gradients += 1;
        this.calls.memberGradients += group.length;
        group.forEach((r, k) => r.resolve(out[k]!));
      } catch (error) {
        group.forEach((r) => r.reject(error));
      }
      this.seconds.gradients += shareCall(group, t0, (r) => r.input.x.shape[0]);
    }
  }
}
