/** `lab show ID`: one run (an id prefix will do): its record, summary, config as given, and provenance. */
import type { ModelSummary } from '../../../../shared/events.ts';
import { thresholdRatioText } from '../../../../shared/thresholdRatio.ts';
import { threeDecimals as fmt } from '../../textTable.ts';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

function summaryLines(label: string, s: ModelSummary | undefined): string[] {
  if (!s) return [];
  return [
    `${label}: clean ${fmt(s.cleanAccuracy)}  robust ${fmt(s.robustAccuracy)}  worst case ${fmt(s.worstCaseRobustAccuracy)}  mixture-dir ${fmt(s.mixtureDirectionAccuracy)}  mixture ratio ${fmt(s.mixtureRatioMedian)}  PR ${fmt(s.participationRatioMedian)}`,
  ];
}

export const showVerb: Verb = (values, rest, io) => {
  if (rest.length !== 1) throw new UsageError('show needs one run id');
  const store = openStore(values, io);
  try {
    const r = store.get(rest[0]!);
    const lines = [
      `${r.id}  ${r.name}`,
      `status       ${r.status}${r.error ? ` (${r.error})` : ''}${r.checkpointEpoch !== null && r.status !== 'finished' ? `, checkpoint after epoch ${r.checkpointEpoch}` : ''}`,
      `notes        ${r.notes || '-'}`,
      `preset       ${r.preset ?? '-'}   seed ${r.seed}   sweep ${r.sweepId ?? '-'}`,
      `created      ${r.createdAt}   started ${r.startedAt ?? '-'}   ended ${r.finishedAt ?? '-'}`,
      `backend      ${r.backend?.label ?? '-'}${r.backend?.fusedKernels ? ` (fused ${r.backend.name === 'webgpu' ? 'WGSL' : 'wasm'} kernels${(r.backend.threads ?? 1) > 1 ? `, ${r.backend.threads} threads` : ''})` : ''}`,
      `code         ${r.codeVersion}`,
      `config hash  ${r.configHash}`,
      ...(r.config.task.kind === 'sparse-coding' && r.config.model.kind === 'two-layer' && r.config.model.threshold.mode === 'relative' ? [`threshold    ${thresholdRatioText(r.config.model.threshold, r.config.task)}`] : []),
      `folder       ${r.folder}`,
      ...summaryLines('after clean', r.summary?.afterClean),
      ...summaryLines('final      ', r.summary?.final),
      // Purification in one number: the share of neurons whose robust part dominates (w = beta w' + v).
      ...(r.summary?.decomposition
        ? [`clean -> robust: share of neurons with ||beta w'|| > ||v|| ${fmt(r.summary.decomposition.shareAboveOne)}  (median ratio ${fmt(r.summary.decomposition.normRatio.summary.median)})`]
        : []),
      '',
      'config (as given):',
      JSON.stringify(r.input, null, 2),
    ];
    if (r.provenance) lines.push('', 'provenance:', JSON.stringify(r.provenance, null, 2));
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
};
