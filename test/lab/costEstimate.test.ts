/**
 * The time an experiment will take: its work from the config (training and evaluation counted
 * apart) over two measured rates. The figures the rates are fitted to were measured on this
 * project's 2-core machine with `npm run lab -- run --preset quick|flagship --json FILE`
 * (result.timing): the estimate from either preset's rates must predict the other within 30 %,
 * which a training-only estimate (the old one) missed by a factor of two on quick.
 */
import { describe, expect, it } from 'vitest';
import { costEstimate, epochOverhead, evaluationUnits, type Throughput } from '../../main/lab/costEstimate.ts';
import { resolveExperiment, type ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';
import { experimentWork } from '../../shared/experimentWork.ts';
import { presetByName } from '../../shared/presets.ts';

const preset = (name: string) => resolveExperiment(presetByName(name).config);

describe('the work of an experiment', () => {
  it('counts steps, and attack steps as training-step equivalents', () => {
    const flagship = resolveExperiment({});
    // 8000 / 100 = 80 steps per epoch; 30 clean epochs at 1, 30 PGD-5 epochs at 5 + 1.
    expect(experimentWork(flagship)).toMatchObject({ steps: 60 * 80, stepEquivalents: 30 * 80 + 30 * 80 * 6, train: 30 * 80 + 30 * 80 * 6 });
    expect(experimentWork(resolveExperiment({ train: { attack: { kind: 'fgm' } } })).stepEquivalents).toBe(30 * 80 + 30 * 80 * 2);
    expect(experimentWork(resolveExperiment({ train: { protocol: 'clean' } }))).toMatchObject({ steps: 30 * 80, stepEquivalents: 30 * 80 });
    expect(experimentWork(resolveExperiment({ train: { mix: { mode: 'mix' } } })).stepEquivalents).toBe(30 * 80 + 30 * 80 * 7);
    // Half the width, half the cost of a step at the flagship's size.
    expect(experimentWork(resolveExperiment({ model: { kind: 'two-layer', width: 64 } })).train).toBe((30 * 80 + 30 * 80 * 6) / 2);
  });

  it('counts the evaluation: per-epoch metrics, robust checks, snapshots and the attacks over the eps grid after each phase', () => {
    const work = experimentWork(resolveExperiment({}));
    const n = 2000;
    // Per epoch: clean accuracy, silent share, mixture direction: three forward passes (0.5 each).
    const perEpoch = 1.5 * n;
    // The robust check: PGD-20 and a forward pass.
    const robustCheck = 20.5 * n;
    // A snapshot: the neuron x atom product, m d D = 128^3 multiply-adds, in units of 2 d m.
    const snapshot = 128 ** 3 / (2 * 128 * 128);
    // After a phase, at 6 radii: clean twice, PGD-20 (+ a forward), FGM (+ a forward), the
    // mixture direction, and 8 noise draws.
    const phaseEnd = (2 * 0.5 + 6 * 20.5 + 6 * 1.5 + 6 * 0.5 + 8 * 6 * 0.5) * n;
    expect(work.evalAtInit).toBe(perEpoch + robustCheck + snapshot);
    // eval.every = 5: checks at epochs 5..25 and 35..55 (the phase ends have the full evaluation).
    const phase = 30 * perEpoch + 5 * robustCheck + 30 * snapshot;
    expect(work.phases.map((p) => p.evalAtEnd)).toEqual([phaseEnd, phaseEnd]);
    expect(work.phases[0]!.evalPerEpoch * 30).toBeCloseTo(phase, 6);
    expect(work.eval).toBeCloseTo(work.evalAtInit + 2 * (phase + phaseEnd), 6);
    expect(evaluationUnits(resolveExperiment({}))).toBeCloseTo(work.eval + 61 * epochOverhead, 6);
  });

  it('counts no robust checks when eval.every is 0, and snapshots every instruments.every epochs', () => {
    const quick = experimentWork(preset('quick'));
    const n = 1000;
    const scale = (64 * 64) / (128 * 128);
    const snapshot = 64 ** 3 / (2 * 128 * 128);
    expect(quick.evalAtInit).toBeCloseTo(1.5 * n * scale + snapshot, 9);
    // 30 clean epochs, a snapshot every 3: 10; 15 adversarial: 5.
    expect(quick.phases[0]!.evalPerEpoch * 30).toBeCloseTo(30 * 1.5 * n * scale + 10 * snapshot, 6);
    expect(quick.phases[1]!.evalPerEpoch * 15).toBeCloseTo(15 * 1.5 * n * scale + 5 * snapshot, 6);
  });
});

describe('the cost estimate', () => {
  it('adds the training and the evaluation seconds at their own rates', () => {
    const flagship = resolveExperiment({});
    const rates: Throughput = { trainPerSecond: 1000, evalPerSecond: 100_000 };
    const estimate = costEstimate(flagship, rates);
    expect(estimate.steps).toBe(4800);
    expect(estimate.seconds).toBeCloseTo(16_800 / 1000 + evaluationUnits(flagship) / 100_000, 9);
    expect(costEstimate(flagship, null).seconds).toBeNull();
    expect(costEstimate(flagship, { trainPerSecond: 0, evalPerSecond: 1 }).seconds).toBeNull();
  });

  it('gives no time on a WebGPU software adapter, and says so; a hardware one is estimated', () => {
    const flagship = resolveExperiment({});
    const rates: Throughput = { trainPerSecond: 1000, evalPerSecond: 100_000 };
    const webgpu = (software: boolean): BackendInfo => ({ name: 'webgpu', device: software ? 'cpu' : 'gpu', label: 'webgpu', skipped: [], forced: false, details: { software }, fusedKernels: false });
    expect(costEstimate(flagship, rates, webgpu(true))).toEqual({ steps: 4800, stepEquivalents: 16_800, seconds: null, noEstimate: 'software adapter: no estimate' });
    expect(costEstimate(flagship, rates, webgpu(false)).seconds).toBeCloseTo(16_800 / 1000 + evaluationUnits(flagship) / 100_000, 9);
    expect(costEstimate(flagship, rates, webgpu(false)).noEstimate).toBeUndefined();
  });

  // Measured here (wasm, fused kernels): `npm run lab -- run --preset quick|flagship --json F`, timing.
  const measured: Record<'quick' | 'flagship', { trainSeconds: number; evalSeconds: number; seconds: number }> = {
    quick: { trainSeconds: 0.584, evalSeconds: 0.792, seconds: 1.376 },
    flagship: { trainSeconds: 7.398, evalSeconds: 7.427, seconds: 14.825 },
  };
  const ratesFrom = (config: ResolvedExperiment, t: (typeof measured)['quick']): Throughput => ({
    trainPerSecond: experimentWork(config).train / t.trainSeconds,
    evalPerSecond: evaluationUnits(config) / t.evalSeconds,
  });

  it.each([
    ['quick', 'flagship'],
    ['flagship', 'quick'],
  ] as const)('predicts %s from the rates of a %s run within 30 per cent', (target, source) => {
    const rates = ratesFrom(preset(source), measured[source]);
    const seconds = costEstimate(preset(target), rates).seconds!;
    expect(seconds / measured[target].seconds).toBeGreaterThan(0.7);
    expect(seconds / measured[target].seconds).toBeLessThan(1.3);
  });
});
