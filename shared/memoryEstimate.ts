/**
 * How much memory a run needs, from its config alone, so a run that cannot fit is refused before
 * it starts (instead of failing hours in with "Invalid typed array length", or swapping the
 * machine to a halt). An estimate of the peak, by parts, each part naming the fields it grows
 * with, so the refusal can say what to shrink.
 *
 * Every tensor is float32 (4 bytes). The parts and their copies:
 * - data: the training set and the test set, each once on the host and once as tensors;
 * - parameters: weights, gradients, two optimiser moments, the init and clean snapshots, and a
 *   checkpoint's copies: 10 copies;
 * - a training step: the batch, its adversarial copy and the input gradient (d wide), and the
 *   hidden activations with their gradients (4 copies);
 * - an evaluation attack: PGD tiles the test set once per radius of the eps grid, in chunks of at
 *   most 40,000 rows (pgd.ts), and each row holds the iterate, the perturbation, the gradient and
 *   the activations (4 copies);
 * - the update spectrum: W' - W and its Jacobi copy in float64.
 */
import type { ResolvedExperiment } from './config.ts';
import { imageShape, inputDim, weightCount } from './modelSize.ts';

export interface MemoryPart {
  /** What the bytes are for, in words. */
  readonly what: string;
  /** The config fields (with their values) this part grows with. */
  readonly fields: readonly string[];
  readonly bytes: number;
}

export interface MemoryEstimate {
  readonly bytes: number;
  /** Largest first. */
  readonly parts: readonly MemoryPart[];
}

const float = 4;
/** Rows per PGD chunk (pgd.ts `rowsPerChunk`). */
const attackRows = 40_000;

/** Units of the first layer's output per sample: hidden neurons, or the first convolution's feature map. */
function activationsPerSample(config: ResolvedExperiment): number {
  const model = config.model;
  if (model.kind === 'cnn' && config.task.kind !== 'sparse-coding') {
    const { height, width } = imageShape(config.task);
    return height * width * model.channels.reduce((a, b) => Math.max(a, b), 0);
  }
  return model.kind === 'cnn' ? 0 : model.width;
}

/** The run's peak memory, by parts. */
export function memoryEstimate(config: ResolvedExperiment): MemoryEstimate {
  const d = inputDim(config);
  const task = config.task;
  const sizeField = task.kind === 'sparse-coding' ? [`task.d = ${task.d}`] : [`task.kind = ${task.kind} (${d} values an image)`];
  const widthField =
    config.model.kind === 'cnn' ? [`model.channels = [${config.model.channels.join(', ')}]`] : [`model.width = ${config.model.width}`];
  const hidden = activationsPerSample(config);
  const radii = new Set([...config.eval.epsGrid, config.eval.eps]).size;
  const rows = Math.min(config.eval.testSize * radii, attackRows);
  const parameters = weightCount(config);
  const firstLayer = config.model.kind === 'cnn' ? 0 : config.model.width * d;
  const parts: MemoryPart[] = [
    {
      what: 'the training set (host and tensor copies)',
      fields: [`task.trainSize = ${task.trainSize}`, ...sizeField],
      bytes: 2 * task.trainSize * (d + 1) * float,
    },
    {
      what: 'the test set (host and tensor copies)',
      fields: [`eval.testSize = ${config.eval.testSize}`, ...sizeField],
      bytes: 2 * config.eval.testSize * (d + 1) * float,
    },
    {
      what: 'the parameters, their gradients, optimiser state and snapshots',
      fields: [...widthField, ...sizeField],
      bytes: 10 * parameters * float,
    },
    {
      what: 'a training step (the batch, its adversarial copy, the activations)',
      fields: [`train.batchSize = ${config.train.batchSize}`, ...widthField, ...sizeField],
      bytes: 4 * config.train.batchSize * (d + hidden) * float,
    },
    {
      what: 'an evaluation attack (the test set tiled once per radius, in chunks of at most 40,000 rows)',
      fields: [`eval.testSize = ${config.eval.testSize}`, `eval.epsGrid (${radii} radii with eval.eps)`, ...widthField, ...sizeField],
      bytes: 4 * rows * (d + hidden) * float,
    },
    {
      what: "the update spectrum (W' - W in float64, twice)",
      fields: [...widthField, ...sizeField],
      bytes: 2 * firstLayer * 8,
    },
  ];
  parts.sort((a, b) => b.bytes - a.bytes);
  return { bytes: parts.reduce((s, p) => s + p.bytes, 0), parts };
}

/** Bytes in words: "3.2 GB", "850 MB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}
