/**
 * Where a run's compute goes, and how much of it is matMul: one run in this process, its time
 * split by what the engine was doing, and in each part the seconds, floating-point operations and
 * launches of tfjs's matMul kernels (BatchMatMul, _FusedMatMul), counted by wrapping the engine's
 * runKernel. The fused wasm kernels are called directly, so they count as "the rest" of a part.
 *
 * The parts follow the run's event stream: the time up to an event is the work that event closes
 * (a `progress` event closes training steps, of the clean or the adversarial phase; `metrics` an
 * epoch's measurements; `instruments` a snapshot; `evaluation` a phase-end evaluation; `finished`
 * the clean-to-final comparison and pictures; anything else, the starts and ends of phases).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedExperiment } from '../shared/config.ts';
import type { RunEvent } from '../shared/events.ts';
import { runInProcess } from '../main/lab/runInProcess.ts';

export type LedgerPart = 'clean training' | 'adversarial training (PGD + steps)' | 'epoch metrics' | 'instruments' | 'phase-end evaluations' | 'comparison and pictures' | 'phase starts and ends';

export interface LedgerEntry {
  seconds: number;
  matMulSeconds: number;
  matMulFlops: number;
  matMuls: number;
  /** Every tfjs kernel launch (matMuls included): the per-operation overhead's count. */
  launches: number;
}

export interface ComputeLedger {
  readonly wall: number;
  readonly parts: ReadonlyMap<LedgerPart, LedgerEntry>;
}

/** The part of the run that `event` closes. */
export function partClosedBy(event: RunEvent): LedgerPart {
  switch (event.type) {
    case 'progress':
      return event.phase === 'clean' ? 'clean training' : 'adversarial training (PGD + steps)';
    case 'metrics':
      return 'epoch metrics';
    case 'instruments':
      return 'instruments';
    case 'evaluation':
      return 'phase-end evaluations';
    case 'finished':
      return 'comparison and pictures';
    default:
      return 'phase starts and ends';
  }
}

/** 2·rows·inner·cols per product of a (possibly batched) matMul with its transpose attributes. */
export function matMulFlops(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): number {
  const batch = Math.max(aShape.slice(0, -2).reduce((p, x) => p * x, 1), bShape.slice(0, -2).reduce((p, x) => p * x, 1));
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const bc = bShape[bShape.length - (transposeB ? 2 : 1)]!;
  const rows = transposeA ? ac : ar;
  const inner = transposeA ? ar : ac;
  return 2 * batch * rows * inner * bc;
}

/** Run `config` once in this process (wasm, one thread) with the engine's kernels counted. */
export async function computeLedger(config: ResolvedExperiment): Promise<ComputeLedger> {
  const engine = tf.engine();
  const plain = engine.runKernel.bind(engine);
  const live: LedgerEntry = { seconds: 0, matMulSeconds: 0, matMulFlops: 0, matMuls: 0, launches: 0 };
  engine.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
    live.launches++;
    if (name !== 'BatchMatMul' && name !== '_FusedMatMul') return plain(name, inputs, attrs);
    const t0 = performance.now();
    const out = plain(name, inputs, attrs);
    live.matMulSeconds += (performance.now() - t0) / 1000;
    live.matMuls++;
    live.matMulFlops += matMulFlops(inputs['a']!.shape, inputs['b']!.shape, Boolean(attrs?.['transposeA']), Boolean(attrs?.['transposeB']));
    return out;
  }) as typeof engine.runKernel;
  const parts = new Map<LedgerPart, LedgerEntry>();
  let mark = { at: 0, seconds: 0, matMulSeconds: 0, matMulFlops: 0, matMuls: 0, launches: 0 };
  const close = (part: LedgerPart) => {
    const now = performance.now();
    const entry = parts.get(part) ?? { seconds: 0, matMulSeconds: 0, matMulFlops: 0, matMuls: 0, launches: 0 };
    entry.seconds += (now - mark.at) / 1000;
    entry.matMulSeconds += live.matMulSeconds - mark.matMulSeconds;
    entry.matMulFlops += live.matMulFlops - mark.matMulFlops;
    entry.matMuls += live.matMuls - mark.matMuls;
    entry.launches += live.launches - mark.launches;
    parts.set(part, entry);
    mark = { at: now, ...live };
  };
  try {
    let t0 = 0;
    await runInProcess(config, {
      backend: 'wasm',
      onEvent: (event) => {
        if (event.type === 'run-started') {
          t0 = performance.now();
          mark = { at: t0, ...live };
        } else close(partClosedBy(event));
      },
    });
    return { wall: (performance.now() - t0) / 1000, parts };
  } finally {
    engine.runKernel = plain;
  }
}

/** Sums of a ledger's parts. */
export function ledgerTotal(ledger: ComputeLedger): LedgerEntry {
  const total: LedgerEntry = { seconds: 0, matMulSeconds: 0, matMulFlops: 0, matMuls: 0, launches: 0 };
  for (const e of ledger.parts.values()) {
    total.seconds += e.seconds;
    total.matMulSeconds += e.matMulSeconds;
    total.matMulFlops += e.matMulFlops;
    total.matMuls += e.matMuls;
    total.launches += e.launches;
  }
  return total;
}
