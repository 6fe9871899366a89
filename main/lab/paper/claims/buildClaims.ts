/**
 * The claims of a paper plan from what the store holds: each claim's builder (./c1Mixtures.ts ...
 * ./c5LowRank.ts) runs once every run and baseline set it rests on is finished; until then the
 * claim is pending, never failing, so a page can show C1 while C5's rank sweep runs.
 */
import { claimIds, claimMeta, type ClaimId, type PaperClaim, type PaperItem, type PaperRunItem, type ReadyClaim } from '../../../../shared/paper.ts';
import type { RunResult } from '../../../../shared/result.ts';
import type { BaselineResult } from '../../../engine/baselines.ts';
import type { PaperBaselineSpec, PaperRunSpec, PaperSpec, PaperSpecs } from '../plan.ts';
import { claimC1 } from './c1Mixtures.ts';
import { claimC2 } from './c2Purification.ts';
import { claimC3 } from './c3Principle.ts';
import { claimC4 } from './c4LowerBound.ts';
import { claimC5 } from './c5LowRank.ts';
import type { BuiltClaim, ClaimContext } from './claimContext.ts';

/** What the claims are built from: the finished results, by spec. */
export interface ClaimInputs {
  readonly result: (spec: PaperRunSpec, runId: string) => RunResult;
  readonly baselines: (spec: PaperBaselineSpec) => readonly BaselineResult[];
}

const builders: Readonly<Record<ClaimId, (c: ClaimContext) => BuiltClaim>> = { C1: claimC1, C2: claimC2, C3: claimC3, C4: claimC4, C5: claimC5 };

/**
 * The five claims: built from the finished runs and baselines where all that a claim rests on
 * is finished; pending (with what it waits for) where not. `items` are paperItems(specs, ...).
 */
export function buildClaims(specs: PaperSpecs, items: readonly PaperItem[], inputs: ClaimInputs): PaperClaim[] {
  const itemOf = (spec: PaperSpec) => items.find((i) => i.kind === spec.kind && i.key === spec.key && i.seed === spec.seed)!;
  const loaded = new Map<string, RunResult>();
  const result = (spec: PaperRunSpec): RunResult => {
    const item = itemOf(spec) as PaperRunItem;
    let r = loaded.get(item.runId!);
    if (!r) {
      r = inputs.result(spec, item.runId!);
      loaded.set(item.runId!, r);
    }
    return r;
  };
  return claimIds.map((id): PaperClaim => {
    const meta = claimMeta[id];
    const needed: PaperSpec[] = [...specs.runs, ...specs.baselines].filter((s) => s.claims.includes(id));
    const waiting = needed.filter((s) => itemOf(s).status !== 'finished');
    if (waiting.length > 0) {
      const stopped = waiting.filter((s) => {
        const item = itemOf(s);
        return item.status === 'failed' || (item.status === 'missing' && item.kind === 'run' && item.previous !== null);
      });
      return { ...meta, status: 'pending', needed: needed.length, done: needed.length - waiting.length, waitingFor: waiting.map((s) => s.label), stopped: stopped.map((s) => s.label) };
    }
    const results = specs.seeds.map((seed) => Object.fromEntries(specs.runs.filter((s) => s.seed === seed && s.claims.includes(id)).map((s) => [s.key, result(s)])));
    const baselines = id === 'C4' ? specs.baselines.map((s) => inputs.baselines(s)) : [];
    const built = builders[id]({ specs, config: specs.main, settings: specs.settings, results, baselines });
    const runIds = needed.flatMap((s) => (s.kind === 'run' ? [(itemOf(s) as PaperRunItem).runId!] : []));
    const ready: ReadyClaim = { ...meta, status: 'ready', ...built, runIds };
    return ready;
  });
}
