/**
 * The shape of an experiment's data and model, known from the config alone: input size, class
 * count, and the multiply-adds of one forward pass per sample (what a training step's time
 * scales with). Used for estimates before a run starts and for model cards.
 */
import type { ImageTask, ResolvedExperiment } from './config.ts';

/** Height, width and channels of an image task's inputs. */
export function imageShape(task: ImageTask): { height: number; width: number; channels: number } {
  return task.kind === 'mnist' ? { height: 28, width: 28, channels: 1 } : { height: 32, width: 32, channels: 3 };
}

/** The input dimension d of an experiment (flattened pixels for images). */
export function inputDim(config: ResolvedExperiment): number {
  if (config.task.kind === 'sparse-coding') return config.task.d;
  const { height, width, channels } = imageShape(config.task);
  return height * width * channels;
}

/** The number of classes the model outputs (2 for the binary sparse-coding task and for a pair of classes). */
export function classCount(config: ResolvedExperiment): number {
  if (config.task.kind === 'sparse-coding') return 2;
  return config.task.classes?.length ?? 10;
}

/**
 * One layer's weights (biases left out: one a unit, too few to count) and the multiply-adds one
 * sample costs in it.
 */
export interface LayerSize {
  readonly weights: number;
  readonly multiplyAdds: number;
}

/**
 * The model's layers, input first: the one walk over the architecture that both the weight count
 * (memory) and the multiply-adds (time) are sums over. Dense layers cost one multiply-add a
 * weight. A CNN's 'same' k × k convolution holds k² C_in C_out weights and costs H W k² C_in C_out,
 * then 2 × 2 pooling halves H and W; the dense layer reads the last feature map.
 */
export function layerSizes(config: ResolvedExperiment): LayerSize[] {
  const d = inputDim(config);
  const model = config.model;
  const dense = (inputs: number, outputs: number): LayerSize => ({ weights: inputs * outputs, multiplyAdds: inputs * outputs });
  if (model.kind === 'two-layer') return [dense(d, model.width)];
  if (model.kind === 'mlp') return [dense(d, model.width), dense(model.width, classCount(config))];
  // The config refuses a CNN on the sparse-coding task (no picture to convolve); count it as one unit.
  if (config.task.kind === 'sparse-coding') return [dense(d, 1)];
  let { height, width, channels } = imageShape(config.task);
  const layers: LayerSize[] = [];
  for (const out of model.channels) {
    const weights = model.kernelSize * model.kernelSize * channels * out;
    layers.push({ weights, multiplyAdds: height * width * weights });
    channels = out;
    height = Math.floor(height / 2);
    width = Math.floor(width / 2);
  }
  return [...layers, dense(height * width * channels, classCount(config))];
}

/** The model's weights (the layers' sum; biases left out). */
export function weightCount(config: ResolvedExperiment): number {
  return layerSizes(config).reduce((sum, layer) => sum + layer.weights, 0);
}

/** Multiply-adds of one forward pass for one sample. */
export function multiplyAddsPerSample(config: ResolvedExperiment): number {
  return layerSizes(config).reduce((sum, layer) => sum + layer.multiplyAdds, 0);
}
