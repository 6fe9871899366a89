/**
 * The table a headless run ends with: the model after clean training beside the final model,
 * every accuracy with its 95 % interval, then the robust-accuracy-vs-eps curves of the final
 * model per attack, and the clean -> robust decomposition when the protocol has both models.
 */
import type { ResolvedExperiment } from '../../../shared/config.ts';
import type { Evaluation, ModelSummary, RunSummary, TransferSummary } from '../../../shared/events.ts';
import { textTable as table } from '../textTable.ts';

/** NaN (null after JSON) means "not measured for this model": a dash, never a number. */
const measured = (v: number | null): v is number => v !== null && Number.isFinite(v);
const interval = (v: number, i: readonly [number, number]) => (measured(v) ? `${v.toFixed(3)} [${i[0].toFixed(3)}, ${i[1].toFixed(3)}]` : '-');
const fixed = (v: number, digits: number) => (measured(v) ? v.toFixed(digits) : '-');

/** The side-by-side summary, as text. */
export function summaryTable(config: ResolvedExperiment, summary: RunSummary, final: Evaluation | undefined, finalLabel?: string): string {
  const models: [string, ModelSummary][] = [];
  if (summary.afterClean) models.push(['after clean', summary.afterClean]);
  models.push([finalLabel ?? (config.train.protocol === 'fine-tune' ? 'after fine-tuning' : 'final'), summary.final]);
  const attack = final?.attacks[0] ?? 'evaluation attack';
  const rows: string[][] = [
    ['', ...models.map(([name]) => name)],
    ['clean accuracy', ...models.map(([, m]) => interval(m.cleanAccuracy, m.intervals.cleanAccuracy))],
    [`robust accuracy, ${attack} at eps ${config.eval.eps}`, ...models.map(([, m]) => interval(m.robustAccuracy, m.intervals.robustAccuracy))],
    ['  worst case over all attacks', ...models.map(([, m]) => interval(m.worstCaseRobustAccuracy, m.intervals.worstCaseRobustAccuracy))],
  ];
  // The dictionary rows exist only for the synthetic task (images have no dictionary).
  if (config.task.kind === 'sparse-coding') {
    rows.push(
      ['mixture-direction accuracy', ...models.map(([, m]) => interval(m.mixtureDirectionAccuracy, m.intervals.mixtureDirectionAccuracy))],
      ['mixture ratio, median over neurons', ...models.map(([, m]) => fixed(m.mixtureRatioMedian, 3))],
      ['participation ratio, median', ...models.map(([, m]) => fixed(m.participationRatioMedian, 2))],
      ['mixture coherence, median', ...models.map(([, m]) => fixed(m.coherenceMedian, 3))],
      ['coherent mixture share, median', ...models.map(([, m]) => fixed(m.coherentShareMedian ?? NaN, 3))],
    );
  }
  const parts = [table(rows)];
  if (final) {
    const curveRows: string[][] = [[`robust accuracy vs eps (${finalLabel ?? 'final'})`, ...final.worstCase.eps.map((e) => `eps ${e}`)]];
    for (const curve of [...final.curves, { ...final.worstCase, attack: 'worst case over all' }]) {
      curveRows.push([curve.attack, ...curve.accuracy.map((a) => fixed(a.estimate, 3))]);
    }
    parts.push(table(curveRows));
    for (const flag of final.flags ?? []) parts.push(`flag (${flag.code}): ${flag.message}.`);
  }
  if (summary.transfer) parts.push(transferTable(summary.transfer));
  if (summary.decomposition && summary.update) {
    const d = summary.decomposition;
    const u = summary.update;
    parts.push(
      [
        'clean -> robust (w_i = beta_i w_i\' + v_i):',
        `  neurons with ||beta_i w_i'|| > ||v_i||: ${fixed(100 * d.shareAboveOne, 1)} %   (median ratio ${fixed(d.normRatio.summary.median, 2)}, median beta ${fixed(d.beta.summary.median, 2)})`,
        `  cos(w_i, w_i^0) median ${fixed(d.cosCleanInit.summary.median, 3)};  cos(w_i', w_i^0) median ${fixed(d.cosRobustInit.summary.median, 3)}`,
        u.unavailable !== undefined
          ? `  update W' - W: ${u.unavailable}`
          : `  update W' - W: relative change ${fixed(u.relativeChange, 3)}, effective rank ${fixed(u.effectiveRank, 1)}, stable rank ${fixed(u.stableRank, 2)}`,
      ].join('\n'),
    );
  }
  if (summary.layers) {
    parts.push(
      table([
        ['every layer, clean -> robust', 'relative change', 'effective rank', 'stable rank', "units with ||beta w'|| > ||v||"],
        ...summary.layers.map((l) => [l.layer, fixed(l.relativeChange, 3), l.unavailable !== undefined ? 'unavailable' : fixed(l.effectiveRank, 1), l.unavailable !== undefined ? 'unavailable' : fixed(l.stableRank, 2), `${fixed(100 * l.shareAboveOne, 1)} %`]),
      ]),
    );
    for (const l of summary.layers) if (l.unavailable !== undefined) parts.push(`${l.layer}: ${l.unavailable}`);
  }
  return parts.join('\n\n');
}

/**
 * Transfer attacks as a square: rows craft, columns are attacked. Only the diagonal is white-box
 * (an upper bound on that model's robust accuracy); the rest says how far one model's
 * perturbations carry to the other.
 */
export function transferTable(transfer: TransferSummary): string {
  const rows: string[][] = [
    [`transfer, ${transfer.attack} at eps ${transfer.eps} (row: crafted on, column: evaluated on)`, ...transfer.models],
    ...transfer.models.map((source, s) => [source, ...transfer.accuracy[s]!.map((a) => interval(a.estimate, [a.lower, a.upper]))]),
  ];
  return `${table(rows)}\nthe diagonal is white-box, an upper bound on that model's robust accuracy; off it the target never saw the attack.`;
}
