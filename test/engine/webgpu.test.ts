/**
 * The webgpu backend against wasm, on the software adapter that Debian's chromium ships
 * (SwiftShader), twice: through tfjs's generic ops on both backends (the fused kernels off), and
 * through each backend's fused hot path (the AssemblyScript kernels against the WGSL ones of
 * main/engine/backend/webgpu/). Both ways the numbers agree to float32 rounding: over 8 steps of
 * SGD, momentum and Adam the weights of the two-layer net and of the image MLP agree within 1e-4
 * relative (Frobenius norm), the attacks' outputs within 1e-4 relative, and whole runs' accuracies
 * (clean, every attack at every radius, the worst case; on the hot paths, as runs go) within 2
 * test samples. The fused WGSL steps take the dispatches their kernels promise. The backend line
 * and the run record name the adapter and its limits, and every kernel of every model is on webgpu;
 * the kernels whole runs dispatch there are in the lists checked before a run.
 * A whole run on the WGSL hot path, resumed from a checkpoint, ends to the last bit as it did
 * uninterrupted.
 *
 * Dawn finds the software adapter only in a process started with LD_LIBRARY_PATH and
 * VK_ICD_FILENAMES set, so the computations run in a child process (../support/webgpuAgreement.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runKernels } from '../../main/engine/backend/runKernels.ts';
import { onSoftwareAdapter, softwareAdapter } from '../support/softwareAdapter.ts';
import type { ResumeCheck } from '../support/webgpuRuns.ts';

type Numbers = number[];
interface Side {
  line: string;
  cpuForward?: boolean;
  details: Record<string, string | number | boolean>;
  twoLayer: {
    training: Record<string, { weights: Numbers; loss: number }>;
    perturbations: Record<string, Numbers>;
    pgd: { margins: Numbers[]; zeroGradient: Numbers };
  };
  imageMlp: { training: Record<string, { parameters: Numbers[]; loss: number }>; perturbations: Record<string, Numbers> };
  runs: Record<string, { label: string; accuracies: Record<string, number> }[]>;
  fused: {
    hotPath: boolean;
    twoLayer: {
      training: Record<string, { weights: Numbers; loss: number }>;
      perturbations: Record<string, Numbers>;
      pgd: { margins: Numbers[]; zeroGradient: Numbers };
      dispatches: Record<string, number>;
    };
    imageMlp: { training: Record<string, { parameters: Numbers[]; loss: number }>; perturbations: Record<string, Numbers>; dispatches: Record<string, number> };
    /** webgpu only: one epoch of each model through the epoch loop (../support/webgpuFusedSide.ts). */
    epochs?: Record<string, { programs: Record<string, number>; fused: number }>;
  };
  plans: Record<string, { substituted?: string[]; error?: string }>;
  /** webgpu only: each whole run resumed from a checkpoint (../support/webgpuRuns.ts). */
  resumes: Record<string, ResumeCheck>;
  /** The kernels each whole run dispatched through tfjs, by run. */
  kernels: Record<string, string[]>;
}

/** ||got - ref||_F / ||ref||_F over every entry. */
function relativeFrobenius(got: readonly number[], ref: readonly number[]): number {
  expect(got.length).toBe(ref.length);
  let difference = 0;
  let norm = 0;
  for (let k = 0; k < ref.length; k++) {
    difference += (got[k]! - ref[k]!) ** 2;
    norm += ref[k]! ** 2;
  }
  expect(norm).toBeGreaterThan(0);
  return Math.sqrt(difference / norm);
}

let wasm: Side;
let webgpu: Side;

describe.skipIf(softwareAdapter.skip)('webgpu against wasm on the software adapter', () => {
  beforeAll(async () => {
    softwareAdapter.require();
    const results = await onSoftwareAdapter<{ wasm: Side; webgpu: Side }>('webgpuAgreement.ts');
    ({ wasm, webgpu } = results);
  }, 900_000);

  it('the backend line and the details name the adapter and its limits', () => {
    expect(webgpu.line).toMatch(/^backend: webgpu on SwiftShader driver [\d.]+ \(google swiftshader, software adapter\) \(forced by --backend\) \| .*runs the shaders on the CPU/);
    expect(webgpu.details).toMatchObject({ vendor: 'google', architecture: 'swiftshader', software: true });
    expect(webgpu.details['description']).toMatch(/^SwiftShader driver/);
    // SwiftShader's limits in this chromium: 1 GiB buffers, bound whole, 32 KiB of workgroup storage.
    expect(webgpu.details['maxBufferSize']).toBe(2 ** 30);
    expect(webgpu.details['maxStorageBufferBindingSize']).toBe(2 ** 30);
    expect(webgpu.details['maxComputeWorkgroupStorageSize']).toBe(32768);
  });

  it('every op ran as a WebGPU shader (no forwarding of small ops to the CPU)', () => {
    expect(webgpu.cpuForward).toBe(false);
  });

  it('every kernel of the two-layer net, the MLP and the CNN is on webgpu (none substituted)', () => {
    expect(webgpu.plans).toEqual({ twoLayer: { substituted: [] }, mlp: { substituted: [] }, cnn: { substituted: [] } });
  });

  it('every kernel the whole runs dispatched on the WGSL hot path is in the list checked before a run', () => {
    expect(Object.keys(webgpu.kernels)).toEqual(['two-layer', 'image MLP']);
    for (const [run, model] of [['two-layer', 'two-layer'], ['image MLP', 'mlp']] as const) {
      expect(webgpu.kernels[run]).toContain('LessEqual'); // the evaluation's count of margins <= 0
      expect(webgpu.kernels[run]!.filter((k) => !runKernels(model).includes(k))).toEqual([]);
    }
  });

  for (const optimizer of ['SGD', 'SGD with momentum', 'Adam']) {
    it(`two-layer net, ${optimizer}: the weights after 8 steps agree within 1e-4 relative`, () => {
      const a = webgpu.twoLayer.training[optimizer]!;
      const b = wasm.twoLayer.training[optimizer]!;
      expect(relativeFrobenius(a.weights, b.weights)).toBeLessThan(1e-4);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.abs(b.loss));
    });

    it(`image MLP, ${optimizer}: every parameter after 8 steps agrees within 1e-4 relative`, () => {
      const a = webgpu.imageMlp.training[optimizer]!;
      const b = wasm.imageMlp.training[optimizer]!;
      expect(a.parameters).toHaveLength(4);
      a.parameters.forEach((p, k) => expect(relativeFrobenius(p, b.parameters[k]!)).toBeLessThan(1e-4));
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.abs(b.loss));
    });
  }

  it('the training attacks (PGD, l2 and linf) agree within 1e-4 relative on both models', () => {
    for (const norm of ['l2', 'linf']) {
      expect(relativeFrobenius(webgpu.twoLayer.perturbations[norm]!, wasm.twoLayer.perturbations[norm]!)).toBeLessThan(1e-4);
      expect(relativeFrobenius(webgpu.imageMlp.perturbations[norm]!, wasm.imageMlp.perturbations[norm]!)).toBeLessThan(1e-4);
    }
  });

  it('the evaluation PGD: margins within 1e-4 relative, the same zero-gradient counts', () => {
    webgpu.twoLayer.pgd.margins.forEach((row, k) => expect(relativeFrobenius(row, wasm.twoLayer.pgd.margins[k]!)).toBeLessThan(1e-4));
    expect(webgpu.twoLayer.pgd.zeroGradient).toEqual(wasm.twoLayer.pgd.zeroGradient);
  });

  describe('the fused WGSL kernels against the fused wasm kernels', () => {
    it('webgpu runs its fused hot path', () => {
      expect(webgpu.fused.hotPath).toBe(true);
      expect(wasm.fused.hotPath).toBe(true);
    });

    for (const optimizer of ['SGD', 'SGD with momentum', 'Adam']) {
      for (const threshold of ['relative', 'fixed']) {
        it(`two-layer net, ${optimizer}, ${threshold} thresholds: the weights after 8 steps agree within 1e-4 relative`, () => {
          const a = webgpu.fused.twoLayer.training[`${optimizer}, ${threshold}`]!;
          const b = wasm.fused.twoLayer.training[`${optimizer}, ${threshold}`]!;
          expect(relativeFrobenius(a.weights, b.weights)).toBeLessThan(1e-4);
          expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.abs(b.loss));
        });
      }
      for (const activation of ['relu', 'symmetric-threshold']) {
        it(`image MLP, ${optimizer}, ${activation}: every parameter after 8 steps agrees within 1e-4 relative`, () => {
          const a = webgpu.fused.imageMlp.training[`${optimizer}, ${activation}`]!;
          const b = wasm.fused.imageMlp.training[`${optimizer}, ${activation}`]!;
          expect(a.parameters).toHaveLength(4);
          a.parameters.forEach((p, k) => expect(relativeFrobenius(p, b.parameters[k]!)).toBeLessThan(1e-4));
          expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.abs(b.loss));
        });
      }
    }

    it('the training and evaluation attacks agree within 1e-4 relative on both models', () => {
      for (const side of ['twoLayer', 'imageMlp'] as const) {
        const reference = wasm.fused[side].perturbations;
        expect(Object.keys(webgpu.fused[side].perturbations).sort()).toEqual(Object.keys(reference).sort());
        for (const [name, values] of Object.entries(webgpu.fused[side].perturbations)) {
          expect(relativeFrobenius(values, reference[name]!), `${side}, ${name}`).toBeLessThan(1e-4);
        }
      }
      expect(Object.keys(wasm.fused.twoLayer.perturbations)).toHaveLength(4);
      expect(Object.keys(wasm.fused.imageMlp.perturbations)).toHaveLength(8);
    });

    it('the evaluation PGD of the two-layer net: margins within 1e-4 relative, the same zero-gradient counts', () => {
      webgpu.fused.twoLayer.pgd.margins.forEach((row, k) => expect(relativeFrobenius(row, wasm.fused.twoLayer.pgd.margins[k]!)).toBeLessThan(1e-4));
      expect(webgpu.fused.twoLayer.pgd.zeroGradient).toEqual(wasm.fused.twoLayer.pgd.zeroGradient);
    });

    it('dispatches: a training step in 2 to 4, a PGD step in 1 (plus 1 threshold pass per attack)', () => {
      expect(webgpu.fused.twoLayer.dispatches).toEqual({ 'step relative': 3, 'step fixed': 2, 'attack of 5 steps': 6, 'evaluation PGD-10': 10 });
      expect(webgpu.fused.imageMlp.dispatches).toEqual({
        'step relu': 3,
        'step symmetric-threshold': 4,
        'attack of 5 steps, relu': 5,
        'attack of 5 steps, symmetric-threshold': 6,
        'evaluation attack of 5 steps, relu': 5,
        'evaluation attack of 5 steps, symmetric-threshold': 6,
      });
    });

    it('an epoch through the epoch loop transposes no batch and fills the loss weights once per batch size: its GPU programs are the fused steps and a few per epoch', () => {
      const epochs = webgpu.fused.epochs!;
      // 3 batches (30, 30, 10): a training step 3 dispatches, a PGD-2 attack 2 (the two-layer net's 3, with its threshold pass)
      expect(Object.fromEntries(Object.entries(epochs).map(([name, { fused }]) => [name, fused]))).toEqual({
        'two-layer, clean': 9,
        'image MLP, clean': 9,
        'two-layer, replace': 18,
        'image MLP, replace': 15,
        'two-layer, mix': 18,
        'image MLP, mix': 15,
      });
      for (const [name, { programs }] of Object.entries(epochs)) {
        const transposes = Object.entries(programs).reduce((sum, [family, count]) => sum + (family.startsWith('transpose') ? count : 0), 0);
        // the two-layer net's one transpose is the epoch's end writing its row-layout W [m, d] back as the network's W^T
        expect({ name, transposes, fills: programs['fill'] }).toEqual({ name, transposes: name.startsWith('two-layer') ? 1 : 0, fills: 2 });
      }
    });
  });

  for (const model of ['two-layer', 'image MLP']) {
    it(`whole ${model} runs: every accuracy of both evaluations within 2 test samples`, () => {
      const a = webgpu.runs[model]!;
      const b = wasm.runs[model]!;
      expect(a.map((e) => e.label)).toEqual(['after-clean', 'final']);
      expect(b.map((e) => e.label)).toEqual(['after-clean', 'final']);
      a.forEach((evaluation, k) => {
        const reference = b[k]!.accuracies;
        expect(Object.keys(evaluation.accuracies).sort()).toEqual(Object.keys(reference).sort());
        for (const [name, correct] of Object.entries(evaluation.accuracies)) {
          expect(Math.abs(correct - reference[name]!), `${evaluation.label}, ${name}: ${correct} against ${reference[name]}`).toBeLessThanOrEqual(2);
        }
      });
      // The runs learned something and the attacks bit: the comparison is not between constants.
      const final = b[1]!.accuracies;
      expect(final['clean']!).toBeGreaterThan(140);
      expect(Object.entries(final).some(([name, correct]) => name.startsWith('worst case') && correct < final['clean']! - 20)).toBe(true);
    });

    it(`a whole ${model} run on the WGSL hot path, resumed from its checkpoint before the last epoch, ends exactly as the uninterrupted run`, () => {
      const check = webgpu.resumes[model]!;
      // two-layer: 3 clean + 2 adversarial epochs, so mid-way through fine-tuning; the MLP: 2 + 1, at the end of clean training.
      expect(check.at).toBe(model === 'two-layer' ? 4 : 2);
      expect(check.full.metrics).toHaveLength(model === 'two-layer' ? 6 : 4); // epoch 0 (the init) to the last
      expect(check.resumed).toEqual(check.full);
    });
  }
});
