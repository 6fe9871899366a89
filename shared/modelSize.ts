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

/** Multiply-adds of one forward pass for one sample. */
export function multiplyAddsPerSample(config: ResolvedExperiment): number {
  const d = inputDim(config);
  const model = config.model;
  if (model.kind === 'two-layer') return d * model.width;
  if (model.kind === 'mlp') return d * model.width + model.width * classCount(config);
  // CNN: each 'same' k x k convolution costs H W k^2 C_in C_out, then 2 x 2 pooling halves H and W.
  if (config.task.kind === 'sparse-coding') return d;
  let { height, width, channels } = imageShape(config.task);
  let total = 0;
  for (const out of model.channels) {
    total += height * width * model.kernelSize * model.kernelSize * channels * out;
    channels = out;
    height = Math.floor(height / 2);
    width = Math.floor(width / 2);
  }
  return total + height * width * channels * classCount(config);
}
