/**
 * Training protocols as lists of phases:
 *   fine-tune    clean, then adversarial from the clean weights (the paper's; the default)
 *   clean        clean only
 *   adversarial  adversarial from scratch
 * A phase is clean or adversarial; an adversarial phase replaces each batch by its perturbation
 * (or mixes the two with weight lambda), made by the training attack against the current weights.
 */
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { Phase } from '../../../shared/events.ts';

export interface PhasePlan {
  readonly phase: Phase;
  readonly epochs: number;
}

export function phasesOf(config: ResolvedExperiment): PhasePlan[] {
  const { protocol, cleanEpochs, adversarialEpochs } = config.train;
  switch (protocol) {
    case 'fine-tune':
      return [
        { phase: 'clean', epochs: cleanEpochs },
        { phase: 'adversarial', epochs: adversarialEpochs },
      ];
    case 'clean':
      return [{ phase: 'clean', epochs: cleanEpochs }];
    case 'adversarial':
      return [{ phase: 'adversarial', epochs: adversarialEpochs }];
  }
}
