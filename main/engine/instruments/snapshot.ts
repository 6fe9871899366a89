/**
 * One instrument snapshot of a two-layer network on a dictionary task: the per-neuron
 * distributions of mixture ratio, participation ratio, coherence, coherent mixture share and weight norm, and, when due,
 * the neuron x atom coefficient matrix. Computed from the weights alone (no data), on the host.
 */
import { summarize } from '../../../shared/distribution.ts';
import type { InstrumentsEvent, NeuronDistribution, Phase } from '../../../shared/events.ts';
import { dictionaryCoefficients, mixtureStats } from './mixture.ts';

export function distribution(values: ArrayLike<number>): NeuronDistribution {
  return { values: Array.from(values, (v) => (Number.isFinite(v) ? v : v)), summary: summarize(values) };
}

export function instrumentSnapshot(
  W: Float32Array,
  m: number,
  d: number,
  task: { dictionary: Float64Array; teacher: Float32Array; atoms: number },
  options: { principalAtoms: number; withCoefficients: boolean; phase: Phase | 'init'; epoch: number; globalEpoch: number },
): InstrumentsEvent {
  const C = dictionaryCoefficients(W, m, d, task.dictionary, task.atoms);
  const stats = mixtureStats(C, m, task.atoms, task.teacher, options.principalAtoms);
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += W[i * d + j]! ** 2;
    norms[i] = Math.sqrt(s);
  }
  return {
    type: 'instruments',
    phase: options.phase,
    epoch: options.epoch,
    globalEpoch: options.globalEpoch,
    mixtureRatio: distribution(stats.mixtureRatio),
    participationRatio: distribution(stats.participationRatio),
    coherence: distribution(stats.coherence),
    coherentShare: distribution(stats.coherentShare),
    weightNorm: distribution(norms),
    coefficients: options.withCoefficients ? { rows: m, cols: task.atoms, values: Array.from(C, (v) => Math.fround(v)) } : null,
  };
}
