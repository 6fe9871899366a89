/**
 * Placeholder until the fused wasm kernels land: no fused trainer, so the generic one runs.
 */
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { TwoLayerNet } from './models/twoLayerNet.ts';
import type { Trainer } from './train.ts';

export async function fusedTrainerFactory(): Promise<((net: TwoLayerNet, config: ResolvedExperiment) => Trainer) | null> {
  return null;
}
