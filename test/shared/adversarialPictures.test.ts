/**
 * The adversarial pictures' figures on constructed perturbations (issue 15, item 3): the pixels
 * of δ on one diverging scale shared by every model's panels, the inputs as grey ink, the
 * labels under the tiles; and the coefficient chart's curves against the mixture direction.
 */
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { LineSeriesOption } from 'echarts';
import type { AdversarialExamples } from '../../shared/adversarial.ts';
import { adversarialCoefficients, adversarialImagesCaption, adversarialImagesDocument, adversarialImagesFigure, coefficientCurves, inputRange, figureSet, pictureFigures } from '../../shared/charts/index.ts';
import { resolveExperiment } from '../../shared/config.ts';
import type { RunResult } from '../../shared/result.ts';

/** The embedded PNGs in document order, as [r, g, b] per pixel, row-major. */
function embeddedPictures(svg: string): { width: number; height: number; pixel: (x: number, y: number) => [number, number, number] }[] {
  return [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((m) => {
    const png = decode(Buffer.from(m[1]!, 'base64'));
    const c = png.channels;
    return { width: png.width, height: png.height, pixel: (x, y) => [0, 1, 2].map((k) => png.data[(y * png.width + x) * c + k]!) as [number, number, number] };
  });
}

const hex = (h: string) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));

// A 2 x 3 grey picture, one sample of label 4; two models. L = max |δ| = 0.25 (the first model's).
const x = [0, 1, 0.5, 0, 0, 1];
const deltaClean = [0, 0.25, -0.25, 0.125, -0.125, 0];
const deltaRobust = [0.125, 0, 0, 0, 0, -0.0625];
const examples: AdversarialExamples = {
  attack: 'PGD-20 (linf, step 2.5·eps/20)',
  eps: 0.25,
  norm: 'linf',
  indices: [17],
  labels: [4],
  inputDim: 6,
  picture: { height: 2, width: 3, channels: 1 },
  dataRange: [0, 1],
  x,
  models: [
    { label: 'after clean', adversarial: x.map((v, i) => Math.fround(v + deltaClean[i]!)), cleanPrediction: [4], prediction: [9] },
    { label: 'after fine-tuning', adversarial: x.map((v, i) => Math.fround(v + deltaRobust[i]!)), cleanPrediction: [4], prediction: [4] },
  ],
};

describe('the adversarial images', () => {
  const doc = adversarialImagesDocument(examples, { scale: 1 });
  const [xTile, cleanDelta, cleanAdv, robustDelta] = embeddedPictures(doc.svg);

  it('draw δ on one diverging scale centred on 0, shared by both models (L = max |δ| over them)', () => {
    expect(doc.limit).toBe(0.25);
    expect([cleanDelta!.width, cleanDelta!.height]).toEqual([3, 2]);
    // PRGn: 0 is the white centre, +L the green end, -L the purple end, ±L/2 the stops halfway.
    expect(cleanDelta!.pixel(0, 0)).toEqual(hex('#F7F7F7'));
    expect(cleanDelta!.pixel(1, 0)).toEqual(hex('#1B7837'));
    expect(cleanDelta!.pixel(2, 0)).toEqual(hex('#762A83'));
    expect(cleanDelta!.pixel(0, 1)).toEqual(hex('#ACD39E'));
    expect(cleanDelta!.pixel(1, 1)).toEqual(hex('#C2A5CF'));
    // The robust model's largest δ (0.125) is half the shared L: the halfway green, not the end.
    expect(robustDelta!.pixel(0, 0)).toEqual(hex('#ACD39E'));
    expect(robustDelta!.pixel(1, 0)).toEqual(hex('#F7F7F7'));
  });

  it('draw x and x + δ as grey ink over the data range (1 is black, 0 white)', () => {
    expect(xTile!.pixel(0, 0)).toEqual([255, 255, 255]);
    expect(xTile!.pixel(1, 0)).toEqual([0, 0, 0]);
    expect(xTile!.pixel(2, 0)).toEqual([128, 128, 128]);
    // x + δ: 0.5 - 0.25 = 0.25 at (2, 0), grey round(255 · 0.75) = 191; 0.125 at (0, 1), 223.
    expect(cleanAdv!.pixel(2, 0)).toEqual([191, 191, 191]);
    expect(cleanAdv!.pixel(0, 1)).toEqual([223, 223, 223]);
  });

  it('name the label, ‖δ‖ and each prediction, wrong ones in red, and say what was measured', () => {
    expect(doc.svg).toContain('>#17: 4<');
    expect(doc.svg).toContain('fill="#B00020">→ 9<');
    // A sample already wrong clean names its clean prediction.
    const wrongClean = adversarialImagesDocument({ ...examples, models: [{ ...examples.models[0]!, cleanPrediction: [7] }] }, { scale: 1 });
    expect(wrongClean.svg).toContain('fill="#B00020">→ 9 (clean: 7)<');
    expect(doc.svg).toMatch(/fill="#4D4D4D">→ 4</);
    expect(doc.svg).toContain('‖δ‖ = 0.25<');
    expect(doc.svg).toContain('‖δ‖ = 0.125<');
    const caption = adversarialImagesCaption(examples, doc.limit);
    expect(caption).toContain('after clean: 1 of the 1 it classifies correctly are misclassified after the attack; after fine-tuning: 0 of the 1');
    expect(caption).toContain('saturating at ± L = 0.25 = max |δ|');
    expect(caption).toContain('PGD-20 (linf, step 2.5·eps/20) at ℓ∞ ε = 0.25 on test samples 17, each model attacked white-box. Inputs in grey over the data range [0, 1];');
    // Without a data range (a dataset file), the inputs are drawn over the values shown, and the caption says so.
    const unclipped = { ...examples, dataRange: null };
    expect(inputRange(unclipped)).toEqual([-0.125, 1.25]);
    expect(adversarialImagesCaption(unclipped, doc.limit)).toContain('Inputs in grey over [-0.125, 1.25], the range of the values shown (no data range: the attack was not clipped)');
  });

  it('are a picture figure of a run that has them, and of no other', () => {
    const result = { adversarial: examples } as unknown as RunResult;
    expect(adversarialImagesFigure(result)!.name).toBe('adversarial-images');
    expect(pictureFigures({ ...result, instruments: [] }).map((f) => f.name)).toEqual(['adversarial-images']);
    expect(adversarialImagesFigure({})).toBeNull();
    expect(adversarialImagesFigure({ adversarial: { ...examples, picture: null } })).toBeNull();
  });
});

describe('the coefficients M^T δ against the mixture direction', () => {
  // Three atoms; M^T u = [0.6, 0, 0.8]; two samples of labels +1 and -1.
  const sparse: AdversarialExamples = {
    attack: 'PGD-20 (l2, step 2.5·eps/20)',
    eps: 0.5,
    norm: 'l2',
    indices: [0, 1],
    labels: [1, -1],
    inputDim: 3,
    picture: null,
    dataRange: null,
    x: [0, 0, 0, 0, 0, 0],
    models: [
      // Along -y u exactly (cos 1): -y M^T δ = 0.5 · [0.6, 0, 0.8] for both samples.
      { label: 'after clean', adversarial: [-0.3, 0, -0.4, 0.3, 0, 0.4], cleanPrediction: [1, -1], prediction: [-1, 1], coefficients: [-0.3, 0, -0.4, 0.3, 0, 0.4] },
      // On the second atom only (cos 0).
      { label: 'after fine-tuning', adversarial: [0, -0.5, 0, 0, 0.5, 0], cleanPrediction: [1, -1], prediction: [1, -1], coefficients: [0, -0.5, 0, 0, 0.5, 0] },
    ],
    // Sample 0 (y = +1) has feature 2 on atom 1; sample 1 (y = -1) has feature -3 on atom 1.
    dictionary: { atoms: 3, mixture: [0.6, 0, 0.8], features: [0, 2, 0, 0, -3, 0] },
  };

  it('order the atoms by M^T u and align each δ with -y', () => {
    const curves = coefficientCurves(sparse)!;
    expect(curves.order).toEqual([2, 0, 1]);
    expect(curves.mixture).toEqual([0.4, 0.3, 0]);
    expect(curves.models[0]!.values.map((v) => Number(v.toFixed(6)))).toEqual([0.4, 0.3, 0]);
    expect(curves.models[0]!.cosine).toBeCloseTo(1, 6);
    expect(curves.models[1]!.values.map((v) => Number(v.toFixed(6)))).toEqual([0, 0, 0.5]);
    expect(curves.models[1]!.cosine).toBeCloseTo(0, 6);
    // The fine-tuned δ shrinks each sample's own feature: y·Mᵀx = [0, 2, 0] and [0, 3, 0], cosine 1; the clean one's is 0.
    expect(curves.models[1]!.featureCosine).toBeCloseTo(1, 6);
    expect(curves.models[0]!.featureCosine).toBeCloseTo(0, 6);
    expect(curves.features).toBeNull();
    // One sample: its features scaled to norm ε = 0.5, in the atoms' order [2, 0, 1].
    expect(coefficientCurves(sparse, 1)!.features!.map((v) => v + 0)).toEqual([0, 0, 0.5]);
    expect(coefficientCurves(sparse, 1)!.models[1]!.values).toEqual([0, 0, 0.5]);
    expect(() => coefficientCurves(sparse, 2)).toThrow('sample 2: expected 0 to 1');
  });

  it('draw the mixture direction and each model (dashed after clean, solid final) with its cosine', () => {
    const series = adversarialCoefficients(sparse).series as LineSeriesOption[];
    expect(series.map((s) => s.name)).toEqual(['mixture direction ε·Mᵀu', '−y·Mᵀδ, after clean (median cos 1 with Mᵀu, 0 with y·Mᵀx)', '−y·Mᵀδ, after fine-tuning (median cos 0 with Mᵀu, 1 with y·Mᵀx)']);
    expect((adversarialCoefficients(sparse, { sample: 0 }).series as LineSeriesOption[]).map((s) => s.name)[1]).toBe('the sample’s own features ε·y·Mᵀx/‖Mᵀx‖');
    expect(series.map((s) => (s.lineStyle as { type?: string }).type ?? 'solid')).toEqual(['solid', 'dashed', 'solid']);
    expect(series[0]!.data).toEqual([[1, 0.4], [2, 0.3], [3, 0]]);
  });

  it('join the figure set of a run that has them', () => {
    const result: RunResult = {
      schemaVersion: 1,
      config: resolveExperiment({}),
      backend: { name: 'wasm', device: 'cpu', label: 'wasm', skipped: [], forced: false, details: {}, fusedKernels: false },
      metrics: [],
      instruments: [],
      evaluations: [],
      warnings: [],
      summary: {} as RunResult['summary'],
      adversarial: sparse,
      timing: { seconds: 0, trainSeconds: 0, evalSeconds: 0, steps: 0 },
    };
    expect(figureSet(result).map((f) => f.name)).toEqual(['adversarial-coefficients']);
    expect(pictureFigures(result)).toEqual([]);
  });
});
