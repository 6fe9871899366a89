/**
 * Named experiments. Each preset is a partial config laid over the schema's defaults, which are
 * the flagship itself (../shared/SCIENCE.md's reference point), so a preset states only how it
 * differs from the flagship.
 */
import type { ExperimentInput } from './config.ts';

export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly config: ExperimentInput;
}

export const presets: readonly Preset[] = [
  {
    name: 'flagship',
    description:
      'The paper\'s protocol at SCIENCE.md\'s reference settings: d = m = 128, k = 5, rho = 0.5, 30 clean epochs, then 30 epochs of l2 PGD-5 fine-tuning at eps 0.3.',
    config: {},
  },
  {
    name: 'scratch',
    description: 'Adversarial training from scratch with the flagship\'s budget (60 epochs of PGD-5), for comparison.',
    config: { train: { protocol: 'adversarial', cleanEpochs: 0, adversarialEpochs: 60 } },
  },
  {
    name: 'linear',
    description: 'The sanity case: threshold ratio rho = 0 makes the network linear, which cannot become robust.',
    config: { model: { kind: 'two-layer', threshold: { ratio: 0 } } },
  },
  {
    name: 'quick',
    description:
      'A reduced size that still shows the directions (SCIENCE.md): d = m = 64, k = 3, 4000 samples, 30 clean + 15 fine-tuning epochs; seconds on 2 cores.',
    config: {
      task: { kind: 'sparse-coding', d: 64, k: 3, trainSize: 4000 },
      model: { kind: 'two-layer', width: 64 },
      train: { cleanEpochs: 30, adversarialEpochs: 15 },
      eval: { testSize: 1000, every: 0 },
      instruments: { every: 3, coefficientsEvery: 0 },
    },
  },
];

export const defaultPresetName = 'flagship';

/** The preset with this name; throws an error that lists the valid names. */
export function presetByName(name: string): Preset {
  const preset = presets.find((p) => p.name === name);
  if (!preset) {
    throw new Error(`Unknown preset "${name}": expected one of ${presets.map((p) => p.name).join(', ')}`);
  }
  return preset;
}
