/**
 * A stack on webgpu (issue 14, item 3), on the software adapter that Debian's chromium ships
 * (SwiftShader): K = 3 two-layer members that differ in seed, batch size, learning rate, rho,
 * init scale and attack radius train as one program (main/engine/backend/webgpu/
 * stackedWebgpuProgram.ts). Each member's weights after 8 steps of SGD, momentum and Adam (relative
 * and fixed thresholds) equal those of the same member trained alone on the one-member WGSL
 * kernels within 1e-4 relative (Frobenius), as do its training attacks (l2 and linf, with and
 * without clip and random start); every stacked step is one submission of as many dispatches as
 * one member's step, and an attack of T steps one submission of T dispatches (and the thresholds).
 * A member checkpointed mid-phase and resumed in the stack ends as it did uninterrupted.
 * And through the product: a sweep of two tiny members on webgpu in one job slot stacks on the
 * stacked WGSL kernels, records so in each member's provenance, and gives each member's
 * accuracies within 2 test samples of the member run alone on webgpu; in a stack of three, a
 * member cancelled at its first epoch and one that fails at init leave the third to finish with
 * its lone numbers, and the cancelled one, resumed alone, ends as the run never stopped.
 *
 * Dawn finds the software adapter only in a process started with LD_LIBRARY_PATH and
 * VK_ICD_FILENAMES set, so the computations run in a child process (../support/webgpuStacked.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeFrobenius } from '../support/relativeFrobenius.ts';
import { onSoftwareAdapter, softwareAdapter } from '../support/softwareAdapter.ts';

type Numbers = number[];
type Calls = { steps: number; memberSteps: number; attacks: number; memberAttacks: number };
interface Outcome {
  backend: string;
  fusedKernels: boolean;
  training: Record<string, { stacked: { weights: Numbers; loss: number }[]; alone: { weights: Numbers; loss: number }[] }>;
  perturbations: Record<string, { stacked: Numbers[]; alone: Numbers[] }>;
  dispatches: Record<string, number>;
  calls: Record<string, Calls>;
  resume: { resumed: Numbers[]; uninterrupted: Numbers[] };
}

let outcome: Outcome;

describe.skipIf(softwareAdapter.skip)('a stack of three members on webgpu against each member alone', () => {
  beforeAll(async () => {
    softwareAdapter.require();
    outcome = await onSoftwareAdapter<Outcome>('webgpuStacked.ts');
  }, 600_000);

  it('runs on webgpu with its fused kernels', () => {
    expect(outcome.backend).toBe('webgpu');
    expect(outcome.fusedKernels).toBe(true);
  });

  for (const optimizer of ['SGD', 'SGD with momentum', 'Adam']) {
    for (const threshold of ['relative', 'fixed']) {
      it(`${optimizer}, ${threshold} thresholds: each member's weights and loss after 8 stacked steps equal its own alone within 1e-4 relative`, () => {
        const { stacked, alone } = outcome.training[`${optimizer}, ${threshold}`]!;
        expect(stacked).toHaveLength(3);
        stacked.forEach((member, k) => {
          expect(relativeFrobenius(member.weights, alone[k]!.weights), `member ${k}`).toBeLessThan(1e-4);
          expect(Math.abs(member.loss - alone[k]!.loss)).toBeLessThan(1e-4 * alone[k]!.loss);
        });
        // the members differ (their seeds, rates, rho): no member's numbers stand in for another's
        expect(relativeFrobenius(stacked[0]!.weights, stacked[1]!.weights)).toBeGreaterThan(0.1);
        // 8 steps of 3 members: 8 stacked calls
        expect(outcome.calls[`${optimizer}, ${threshold}`]).toEqual({ steps: 8, memberSteps: 24, attacks: 0, memberAttacks: 0 });
      });
    }
  }

  for (const threshold of ['relative', 'fixed']) {
    for (const norm of ['l2', 'linf']) {
      for (const clipped of ['', ', clipped, random start']) {
        const label = `${threshold}, ${norm}${clipped}`;
        it(`the training attack (${label}): each member's adversarial points equal its own alone within 1e-4 relative, in one stacked call`, () => {
          const { stacked, alone } = outcome.perturbations[label]!;
          expect(stacked).toHaveLength(3);
          stacked.forEach((points, k) => expect(relativeFrobenius(points, alone[k]!), `member ${k}`).toBeLessThan(1e-4));
          expect(outcome.calls[`attack ${label}`]).toEqual({ steps: 0, memberSteps: 0, attacks: 1, memberAttacks: 3 });
        });
      }
    }
  }

  it("a member checkpointed mid-phase (Adam's moments and step count) and resumed in the stack ends to the last bit as it did uninterrupted", () => {
    expect(outcome.resume.resumed).toHaveLength(3);
    outcome.resume.resumed.forEach((weights, k) => expect(weights, `member ${k}`).toEqual(outcome.resume.uninterrupted[k]));
  });

  it('a stacked step takes the dispatches of one member step (3, 2 with fixed thresholds); an attack of 5 steps 5 dispatches and the thresholds', () => {
    expect(outcome.dispatches).toEqual({ 'step relative': 3, 'step fixed': 2, 'attack of 5 steps, relative': 6, 'attack of 5 steps, fixed': 5 });
  });
});

interface RunState {
  status: string;
  error: string | null;
  checkpointEpoch: number | null;
  stacked: { size: number; runIds: string[]; hotPath: string } | null;
}

interface SweepOutcome {
  stacks: number;
  members: { status: string; error: string | null; stacked: unknown; runIds: string[]; backend: string | null; accuracies: { stacked: number[]; alone: number[] } }[];
  stress: {
    afterCancel: { kept: RunState; cancelled: RunState; dead: RunState; answers: boolean[] };
    kept: { stacked: number[]; alone: number[] };
    resumed: RunState & { summary: unknown; uninterrupted: unknown };
  };
}

describe.skipIf(softwareAdapter.skip)('a stacked sweep on webgpu through the job queue', () => {
  let sweep: SweepOutcome;
  beforeAll(async () => {
    softwareAdapter.require();
    sweep = await onSoftwareAdapter<SweepOutcome>('webgpuStackedSweep.ts');
  }, 600_000);

  it('two members stack in one slot on the stacked WGSL kernels, and their provenance says so, and with whom', () => {
    expect(sweep.stacks).toBe(1);
    expect(sweep.members).toHaveLength(2);
    for (const member of sweep.members) {
      expect(member.status, member.error ?? '').toBe('finished');
      expect(member.backend).toBe('webgpu');
      expect(member.stacked).toEqual({ size: 2, runIds: member.runIds, hotPath: 'stacked WGSL kernels, 2 members' });
    }
  });

  it('a member cancelled at its first epoch and one that fails at init leave the third running to its lone numbers', () => {
    const { afterCancel, kept } = sweep.stress;
    expect(afterCancel.answers).toEqual([true]);
    expect(afterCancel.cancelled).toMatchObject({ status: 'cancelled', error: null, checkpointEpoch: 1 });
    expect(afterCancel.dead.status).toBe('failed');
    expect(afterCancel.dead.error).toMatch(/model\.threshold\.ratio/);
    expect(afterCancel.kept).toMatchObject({ status: 'finished', stacked: { size: 3, hotPath: 'stacked WGSL kernels, 3 members' } });
    expect(kept.stacked.length).toBeGreaterThan(0);
    expect(kept.stacked.length).toBe(kept.alone.length);
    kept.stacked.forEach((count, k) => expect(Math.abs(count - kept.alone[k]!), `accuracy ${k}`).toBeLessThanOrEqual(2));
  });

  it('the cancelled member, resumed alone, ends with the summary of the same run never stopped, and keeps its record of the stack', () => {
    const { resumed } = sweep.stress;
    expect(resumed).toMatchObject({ status: 'finished', error: null, stacked: { size: 3, hotPath: 'stacked WGSL kernels, 3 members' } });
    expect(resumed.summary).toEqual(resumed.uninterrupted);
  });

  it("each member's accuracies are within 2 test samples of the member run alone on webgpu", () => {
    sweep.members.forEach((member, i) => {
      const { stacked, alone } = member.accuracies;
      expect(stacked.length).toBeGreaterThan(0);
      expect(stacked.length).toBe(alone.length);
      stacked.forEach((count, k) => expect(Math.abs(count - alone[k]!), `member ${i}: accuracy ${k}`).toBeLessThanOrEqual(2));
    });
  });
});
