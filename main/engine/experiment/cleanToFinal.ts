/**
 * The run's summary: the after-clean and final models' headline numbers and, when the protocol
 * had a clean phase, how the weights moved from clean to final: the clean-to-robust decomposition
 * and the update's rank of the first layer (../instruments/), and for image models the same per
 * weight layer. An instrument that cannot be computed (non-finite weights) is reported as
 * unavailable, with a warning naming the layer.
 */
import { isImageExperiment } from '../../../shared/config.ts';
import type { RunSummary } from '../../../shared/events.ts';
import { cleanToRobustDecomposition } from '../instruments/decomposition.ts';
import { distribution } from '../instruments/snapshot.ts';
import { updateRank } from '../instruments/updateRank.ts';
import type { WeightLayer } from '../models/imageModel.ts';
import type { ExperimentRun } from './experimentRun.ts';

export function summariseRun(run: ExperimentRun): RunSummary {
  const { config, testbed, Wclean, W0 } = run;
  const summary: RunSummary = { ...(run.afterClean ? { afterClean: run.afterClean } : {}), final: run.finalSummary! };
  if (!Wclean) return summary;
  const Wfinal = testbed.weights();
  const first = [Wclean, Wfinal, W0].map((W) => testbed.firstLayer(W)) as [WeightLayer, WeightLayer, WeightLayer];
  const { rows, cols } = first[0];
  const dec = cleanToRobustDecomposition(first[0].values, first[1].values, first[2].values, rows, cols);
  const upd = updateRank(first[0].values, first[1].values, rows, cols);
  const unavailable = (rank: ReturnType<typeof updateRank>, layer: string) => {
    if (rank.unavailable === undefined) return {};
    const message = `${layer}: ${rank.unavailable}`;
    if (!run.warnings.some((w) => w.message === message)) run.warn({ type: 'warning', code: 'instrument-unavailable', message, globalEpoch: run.globalEpoch });
    return { unavailable: rank.unavailable };
  };
  Object.assign(summary, {
    decomposition: {
      shareAboveOne: dec.shareAboveOne,
      beta: distribution(dec.beta),
      normRatio: distribution(dec.normRatio),
      cosCleanInit: distribution(dec.cosCleanInit),
      cosRobustInit: distribution(dec.cosRobustInit),
    },
    update: {
      relativeChange: upd.relativeChange,
      effectiveRank: upd.effectiveRank,
      stableRank: upd.stableRank,
      singularValues: Array.from(upd.singularValues),
      ...unavailable(upd, first[0].layer),
    },
  });
  if (isImageExperiment(config)) {
    const cleanLayers = testbed.weightLayers(Wclean);
    const finalLayers = testbed.weightLayers(Wfinal);
    const initLayers = testbed.weightLayers(W0);
    Object.assign(summary, {
      layers: cleanLayers.map((l, i) => {
        const u = updateRank(l.values, finalLayers[i]!.values, l.rows, l.cols);
        const share = cleanToRobustDecomposition(l.values, finalLayers[i]!.values, initLayers[i]!.values, l.rows, l.cols).shareAboveOne;
        return {
          layer: l.layer,
          relativeChange: u.relativeChange,
          effectiveRank: u.effectiveRank,
          stableRank: u.stableRank,
          singularValues: Array.from(u.singularValues),
          shareAboveOne: share,
          ...unavailable(u, l.layer),
        };
      }),
    });
  }
  return summary;
}
