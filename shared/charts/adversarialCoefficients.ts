/**
 * The `adversarial-coefficients` figure of a sparse-coding run (shared/adversarial.ts): the
 * perturbation in the dictionary's coordinates, against the mixture direction.
 *
 * The attack pushes a sample of label y against it, so −y · M^T δ is the part of δ that hurts;
 * the mixture-direction attack is δ = −y ε u exactly, whose coefficients are ε · M^T u. Atoms are
 * ordered by M^T u (largest first), so the mixture direction is a falling curve and a perturbation
 * that follows it falls along with it. Drawn per model (after clean training dashed, the final
 * model solid, MODEL_LINE), either for one sample (with that sample's own features, dotted) or
 * averaged over the chosen samples; the legend gives each model's median cosines over the samples
 * between −y M^T δ and M^T u, and between −y M^T δ and y M^T x (shrinking the sample's features).
 *
 * What to look for (the paper's claim): the clean-trained network's δ follows the dense mixture
 * direction; the robust network's less so: it has to act on the sample's own few features.
 */
import type { EChartsOption, SeriesOption } from 'echarts';
import { cosine, rowOf, type AdversarialExamples } from '../adversarial.ts';
import type { RunResult } from '../result.ts';
import { fmt, frame, grid, lineLegendIcon, xValueAxis, yValueAxis, type ChartOptions, type LegendEntry } from './common.ts';
import { MIXTURE_DIRECTION, MODEL_LINE } from './palette.ts';

export const ADVERSARIAL_COEFFICIENTS_FIGURE = 'adversarial-coefficients';

export interface AdversarialCoefficientOptions extends ChartOptions {
  /** One sample (its position among the chosen ones), or null for the mean over all of them (default). */
  readonly sample?: number | null;
}

export interface CoefficientCurves {
  /** Atom order: by M^T u, largest first. */
  readonly order: readonly number[];
  /** ε · M^T u in that order. */
  readonly mixture: readonly number[];
  /** Per model: −y M^T δ in that order (one sample's, or the mean), and its median cosines over the samples with M^T u and with the sample's own features y M^T x. */
  readonly models: readonly { readonly label: string; readonly values: readonly number[]; readonly cosine: number; readonly featureCosine: number }[];
  /** One sample's own features, y M^T x scaled to norm ε (the perturbation that shrinks them), in that order; null for the mean. */
  readonly features: readonly number[] | null;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The curves the chart draws (see the file's doc); null when the run recorded no coefficients. */
export function coefficientCurves(examples: AdversarialExamples, sample: number | null = null): CoefficientCurves | null {
  const dict = examples.dictionary;
  if (!dict || examples.indices.length === 0 || examples.models.some((m) => !m.coefficients)) return null;
  const atoms = dict.atoms;
  const n = examples.indices.length;
  if (sample !== null && !(Number.isInteger(sample) && sample >= 0 && sample < n)) throw new RangeError(`sample ${sample}: expected 0 to ${n - 1}`);
  const order = [...Array(atoms).keys()].sort((a, b) => (dict.mixture[b] as number) - (dict.mixture[a] as number) || a - b);
  const aligned = (coefficients: readonly number[], i: number) => rowOf(coefficients, i, atoms).map((c) => -(examples.labels[i] as number) * c);
  // Shrinking x moves it by −t·x, whose aligned coefficients −y·Mᵀ(−t x) point along y·Mᵀx.
  const own = (i: number) => rowOf(dict.features, i, atoms).map((c) => (examples.labels[i] as number) * c);
  const models = examples.models.map((m) => {
    const rows = [...Array(n).keys()].map((i) => aligned(m.coefficients!, i));
    const shown = sample !== null ? (rows[sample] as number[]) : rows.reduce((acc, r) => acc.map((v, j) => v + (r[j] as number) / n), new Array<number>(atoms).fill(0));
    return {
      label: m.label,
      values: order.map((j) => shown[j] as number),
      cosine: median(rows.map((r) => cosine(r, dict.mixture))),
      featureCosine: median(rows.map((r, i) => cosine(r, own(i)))),
    };
  });
  const features = sample !== null ? own(sample) : null;
  const norm = features ? Math.hypot(...features) : 0;
  return {
    order,
    mixture: order.map((j) => examples.eps * (dict.mixture[j] as number)),
    models,
    features: features ? order.map((j) => (norm > 0 ? (examples.eps * (features[j] as number)) / norm : 0)) : null,
  };
}

export function adversarialCoefficients(examples: AdversarialExamples, options: AdversarialCoefficientOptions = {}): EChartsOption {
  const curves = coefficientCurves(examples, options.sample ?? null);
  const mixtureName = `mixture direction ε·Mᵀu`;
  const featuresName = 'the sample’s own features ε·y·Mᵀx/‖Mᵀx‖';
  const modelName = (m: CoefficientCurves['models'][number]) => `−y·Mᵀδ, ${m.label} (median cos ${fmt(m.cosine, 2)} with Mᵀu, ${fmt(m.featureCosine, 2)} with y·Mᵀx)`;
  const legend: LegendEntry[] = [{ name: mixtureName }, ...(curves?.features ? [{ name: featuresName }] : []), ...(curves?.models ?? []).map((m) => ({ name: modelName(m) }))];
  const { option, top, theme: t } = frame(options, legend);
  const series: SeriesOption[] = [];
  if (curves) {
    series.push({
      type: 'line',
      name: mixtureName,
      data: curves.mixture.map((v, r) => [r + 1, v]),
      showSymbol: false,
      lineStyle: { color: MIXTURE_DIRECTION, width: 2 },
      itemStyle: { color: MIXTURE_DIRECTION },
      z: 3,
    });
    if (curves.features) {
      series.push({
        type: 'line',
        name: featuresName,
        data: curves.features.map((v, r) => [r + 1, v]),
        showSymbol: false,
        lineStyle: { color: t.subtleText, width: 1, type: 'dotted' },
        itemStyle: { color: t.subtleText },
        z: 1,
      });
    }
    curves.models.forEach((m, k) => {
      const dash = k === curves.models.length - 1 && curves.models.length > 1 ? MODEL_LINE.fineTuned : curves.models.length > 1 ? MODEL_LINE.afterClean : MODEL_LINE.fineTuned;
      series.push({
        type: 'line',
        name: modelName(m),
        data: m.values.map((v, r) => [r + 1, v]),
        showSymbol: false,
        lineStyle: { color: t.text, width: 1.5, type: dash },
        itemStyle: { color: t.text },
      } as SeriesOption);
    });
  }
  const atoms = examples.dictionary?.atoms ?? 1;
  // The legend shows each line's own style (dashed after clean, solid final): the channel that tells the models apart.
  const icons = legend.map(({ name }) => {
    const s = series.find((l) => l.name === name) as { lineStyle?: { type?: unknown; color?: string } } | undefined;
    return { name, icon: lineLegendIcon(s?.lineStyle?.type), itemStyle: { color: s?.lineStyle?.color } };
  });
  return {
    ...option,
    legend: { ...(option.legend as object), data: icons },
    grid: grid(top),
    xAxis: xValueAxis(t, 'atom, ordered by its mixture-direction coefficient', { min: 1, max: atoms }),
    yAxis: yValueAxis(t, 'coefficient', { scale: true }),
    series,
  };
}

/** The run's `adversarial-coefficients` chart (mean over the samples); null without dictionary coefficients. */
export function adversarialCoefficientsOf(result: Pick<RunResult, 'adversarial'>, options: AdversarialCoefficientOptions = {}): EChartsOption | null {
  const examples = result.adversarial;
  if (!examples || !coefficientCurves(examples)) return null;
  return adversarialCoefficients(examples, options);
}
