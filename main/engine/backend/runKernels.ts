/**
 * The kernels a run dispatches on its backend: its model's own (forward pass and gradients,
 * ../models/) and those every run dispatches whatever its model. The checks before a run starts
 * take these lists (./prepareBackend.ts for the two-layer net, the kernel plan of
 * ../testbeds/imageTestbed.ts for the image models): a kernel left out would pass the check and
 * stop the run mid-way, on a backend without it. test/engine/kernelLists.test.ts records the
 * kernels that whole tiny runs dispatch, on both hot paths, and holds these lists to them.
 */
import type { ResolvedExperiment } from '../../../shared/config.ts';
import { cnnKernels } from '../models/cnn.ts';
import { mlpKernels } from '../models/mlp.ts';
import { twoLayerKernels } from '../models/twoLayerNet.ts';

/**
 * What every run dispatches outside its model: the training batches (Transpose for the hot
 * path's layout, Fill for each sample's weight 1/B, Concat for a mixed clean + adversarial batch),
 * the optimiser (Adam's square root and division), the attacks (a batch repeated over its radii
 * and restarts by Concat, or copied by Identity; the clean points' gradients cut into chunks by
 * Slice, a zero gradient found by Equal, Max and Abs; PGD's step and projection onto the l2 or
 * linf ball, Sign, Square, Sqrt, Minimum, Maximum, and the clip to the data range, ClipByValue),
 * the evaluation's counts (LessEqual: a margin <= 0 is wrong) and the transfer table and
 * adversarial pictures (Less, Select and Tile keep each sample's strongest attack, GatherV2 takes
 * the pictures' samples).
 */
export const commonKernels = [
  'Abs', 'Add', 'Cast', 'ClipByValue', 'Concat', 'Equal', 'Fill', 'GatherV2', 'Identity', 'Less', 'LessEqual', 'Max', 'Maximum',
  'Minimum', 'Multiply', 'Neg', 'RealDiv', 'Reshape', 'Select', 'Sign', 'Slice', 'Sqrt', 'Square', 'Sub', 'Sum', 'Tile', 'Transpose',
] as const;

const modelKernels: Record<ResolvedExperiment['model']['kind'], readonly string[]> = {
  'two-layer': twoLayerKernels,
  mlp: mlpKernels,
  cnn: cnnKernels,
};

/** Every kernel a run of `model` dispatches: the model's own and the common ones, each once. */
export function runKernels(model: ResolvedExperiment['model']['kind']): readonly string[] {
  return [...new Set([...modelKernels[model], ...commonKernels])];
}
