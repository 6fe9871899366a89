/**
 * The chart layer: one pure builder per chart (RunResult → plain ECharts option), and a run's
 * figure set. The live UI, the comparison page and the headless export (main/lab/export) all
 * draw with these builders.
 */
import type { EChartsOption } from 'echarts';
import { hasDictionaryInstruments } from '../events.ts';
import type { RunResult } from '../result.ts';
import { accuracyOverTraining } from './accuracyOverTraining.ts';
import { ADVERSARIAL_COEFFICIENTS_FIGURE, adversarialCoefficientsOf } from './adversarialCoefficients.ts';
import { adversarialImagesFigure } from './adversarialImages.ts';
import { coefficientHeatmap, coefficientHeatmapBeforeAfter, type CoefficientSnapshot } from './coefficientHeatmap.ts';
import { paperInches, phaseBoundary, PX_PER_INCH, type ChartOptions, type PaperName } from './common.ts';
import { mixtureAccumulation } from './mixtureAccumulation.ts';
import { neuronImagesFigure, type PictureFigure } from './neuronImages.ts';
import { participationCoherence } from './participationCoherence.ts';
import { evaluationName, robustCurve, robustCurveComparison } from './robustCurve.ts';
import { roughnessOverTraining, roughnessSnapshots } from './roughness.ts';

export * from './accuracyOverTraining.ts';
export * from './adversarialCoefficients.ts';
export * from './adversarialImages.ts';
export * from './coefficientHeatmap.ts';
export * from './common.ts';
export * from './mixtureAccumulation.ts';
export * from './neuronGrid.ts';
export * from './neuronImages.ts';
export * from './palette.ts';
export * from './participationCoherence.ts';
export * from './robustCurve.ts';
export * from './roughness.ts';

export interface Figure {
  /** File-safe: [a-z0-9-] only. */
  readonly name: string;
  readonly title: string;
  readonly option: EChartsOption;
  /** The paper size it is laid out for (see paperInches): export it at this size. */
  readonly size: PaperName;
}

export interface FigureSetOptions extends Omit<ChartOptions, 'width' | 'height' | 'title'> {
  /** Lay each figure out for its paper size (legend rows, panel split; default true). Larger
   *  drawing sizes then only gain whitespace; pass false to lay out for a wide screen. */
  readonly print?: boolean;
}

/** Snapshots that carry a coefficient matrix, in epoch order. */
function coefficientSnapshots(result: Pick<RunResult, 'instruments'>): CoefficientSnapshot[] {
  const out: CoefficientSnapshot[] = [];
  for (const s of result.instruments) {
    if (s.coefficients) out.push({ globalEpoch: s.globalEpoch, phase: s.phase, coefficients: s.coefficients });
  }
  return out.sort((a, b) => a.globalEpoch - b.globalEpoch);
}

/**
 * The figure set of a run: accuracy over training, mixture accumulation (the coherent mixture
 * share, and the plain mixture ratio; bands and heatmap each),
 * participation & coherence, robust accuracy vs eps (final; after clean training vs final when
 * both exist), and the coefficient matrices after clean training vs final (or init vs final).
 * Image runs, which have no dictionary, get the units' roughness over training instead of the
 * mixture, participation and coefficient figures.
 */
export function figureSet(result: RunResult, options: FigureSetOptions = {}): Figure[] {
  const print = options.print ?? true;
  const base: ChartOptions = {
    ...(options.static !== undefined ? { static: options.static } : {}),
    ...(options.theme !== undefined ? { theme: options.theme } : {}),
  };
  const at = (paper: PaperName): ChartOptions =>
    print
      ? { ...base, width: paperInches[paper].width * PX_PER_INCH, height: paperInches[paper].height * PX_PER_INCH }
      : base;
  const boundary = phaseBoundary(result);
  const fineTune = result.config.train.protocol === 'fine-tune';
  const eps = result.config.eval.eps;
  const figures: Figure[] = [];

  if (result.metrics.length > 0) {
    figures.push({
      name: 'accuracy-over-training',
      title: 'Accuracy over training (bands: 95 % Wilson intervals)',
      option: accuracyOverTraining(result, at('column')),
      size: 'column',
    });
  }
  // The dictionary instruments exist on sparse-coding runs only (image runs record null).
  if (result.instruments.some(hasDictionaryInstruments)) {
    figures.push({
      name: 'mixture-accumulation',
      title: 'Coherent mixture share κ per neuron over training (median, quartiles, range)',
      option: mixtureAccumulation(result, at('column')),
      size: 'column',
    });
    figures.push({
      name: 'mixture-accumulation-heatmap',
      title: 'Distribution of the coherent mixture share κ over neurons, per epoch',
      option: mixtureAccumulation(result, { ...at('column'), mode: 'heatmap' }),
      size: 'column',
    });
    figures.push({
      name: 'mixture-ratio',
      title: 'Mixture ratio per neuron over training (median, quartiles, range; init median marked)',
      option: mixtureAccumulation(result, { ...at('column'), quantity: 'mixture-ratio' }),
      size: 'column',
    });
    figures.push({
      name: 'mixture-ratio-heatmap',
      title: 'Distribution of the mixture ratio over neurons, per epoch',
      option: mixtureAccumulation(result, { ...at('column'), mode: 'heatmap', quantity: 'mixture-ratio' }),
      size: 'column',
    });
    figures.push({
      name: 'participation-coherence',
      title: 'Participation ratio and mixture coherence over training (median, quartiles)',
      option: participationCoherence(result, at('columnTall')),
      size: 'columnTall',
    });
  }
  if (roughnessSnapshots(result.instruments).length > 0) {
    figures.push({
      name: 'neuron-roughness',
      title: 'Roughness of the hidden units as images over training (median, quartiles)',
      option: roughnessOverTraining(result, at('column')),
      size: 'column',
    });
  }
  const final = result.evaluations.find((e) => e.label === 'final') ?? result.evaluations[result.evaluations.length - 1];
  const afterClean = result.evaluations.find((e) => e.label === 'after-clean');
  if (final) {
    figures.push({
      name: 'robust-accuracy-final',
      title: 'Robust accuracy vs perturbation radius, final model (bands: 95 % Wilson intervals)',
      option: robustCurve(final, { ...at('column'), markEps: eps }),
      size: 'column',
    });
  }
  if (final && afterClean && final !== afterClean) {
    figures.push({
      name: 'robust-accuracy-comparison',
      title: 'Robust accuracy vs perturbation radius, after clean training vs final',
      option: robustCurveComparison(
        [
          { name: evaluationName(afterClean, fineTune), evaluation: afterClean },
          { name: evaluationName(final, fineTune), evaluation: final },
        ],
        { ...at('column'), markEps: eps },
      ),
      size: 'column',
    });
  }
  const snapshots = coefficientSnapshots(result);
  const last = snapshots[snapshots.length - 1];
  if (last) {
    const before =
      (boundary !== null ? snapshots.find((s) => s.globalEpoch === boundary) : undefined) ??
      (snapshots.length > 1 ? snapshots[0] : undefined);
    figures.push(
      before && before !== last
        ? {
            name: 'coefficient-heatmap',
            title: 'Neuron × atom coefficients, before and after (rows sorted by principal atom)',
            option: coefficientHeatmapBeforeAfter(before, last, at('wide')),
            size: 'wide',
          }
        : {
            name: 'coefficient-heatmap',
            title: 'Neuron × atom coefficients (rows sorted by principal atom)',
            option: coefficientHeatmap(last, at('column')),
            size: 'column',
          },
    );
  }
  const coefficients = adversarialCoefficientsOf(result, at('column'));
  if (coefficients) {
    figures.push({
      name: ADVERSARIAL_COEFFICIENTS_FIGURE,
      title: `Adversarial perturbations in dictionary coordinates, against the mixture direction (mean over ${result.adversarial!.indices.length} test samples)`,
      option: coefficients,
      size: 'column',
    });
  }
  return figures;
}

/**
 * The figures drawn as finished SVG documents rather than ECharts options: the hidden units as
 * images (`neuron-images`, image runs only) and the adversarial examples (`adversarial-images`). Exported beside the figure set, as SVG, PNG and PDF.
 */
export function pictureFigures(result: RunResult): PictureFigure[] {
  return [neuronImagesFigure(result), adversarialImagesFigure(result)].filter((f): f is PictureFigure => f !== null);
}
