/** The verbs that look at stored runs: `runs`, `show`, `compare`, `rm`. */
import { createInterface } from 'node:readline/promises';
import { configDiff } from '../../../shared/configDiff.ts';
import type { ModelSummary } from '../../../shared/events.ts';
import type { RunRecord, RunStatus } from '../store/runStore.ts';
import { openStore, type CliValues } from './options.ts';
import { UsageError } from './usage.ts';

const statuses: RunStatus[] = ['queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled'];

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3));

export async function listCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (values.status && !statuses.includes(values.status as RunStatus)) throw new UsageError(`--status "${values.status}": expected one of ${statuses.join(', ')}`);
  const store = openStore(values);
  try {
    const runs = store.list({ status: values.status as RunStatus | undefined, sweepId: values.sweep, text: values.grep, preset: values.preset });
    if (runs.length === 0) {
      process.stdout.write(`no runs${values.status || values.sweep || values.grep ? ' match' : ' yet'} in ${store.dir}\n`);
      return 0;
    }
    const rows = [['id', 'status', 'name', 'clean', 'robust', 'mixture-dir', 'progress'], ...runs.map((r) => [
      r.id,
      r.status,
      r.name.length > 40 ? `${r.name.slice(0, 39)}…` : r.name,
      fmt(r.summary?.final?.cleanAccuracy),
      fmt(r.summary?.final?.robustAccuracy),
      fmt(r.summary?.final?.mixtureDirectionAccuracy),
      r.status === 'running' && r.progress ? `${Math.round((100 * r.progress.done) / r.progress.total)} % (${r.progress.phase} ${r.progress.epoch}/${r.progress.epochs})` : r.checkpointEpoch !== null && r.status !== 'finished' ? `checkpoint @ epoch ${r.checkpointEpoch}` : '',
    ])];
    process.stdout.write(`${table(rows)}\n`);
    return 0;
  } finally {
    store.close();
  }
}

function summaryLines(label: string, s: ModelSummary | undefined): string[] {
  if (!s) return [];
  return [
    `${label}: clean ${fmt(s.cleanAccuracy)}  robust ${fmt(s.robustAccuracy)}  worst case ${fmt(s.worstCaseRobustAccuracy)}  mixture-dir ${fmt(s.mixtureDirectionAccuracy)}  mixture ratio ${fmt(s.mixtureRatioMedian)}  PR ${fmt(s.participationRatioMedian)}`,
  ];
}

export async function showCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length !== 1) throw new UsageError('show needs one run id');
  const store = openStore(values);
  try {
    const r = store.get(rest[0]!);
    const lines = [
      `${r.id}  ${r.name}`,
      `status       ${r.status}${r.error ? ` (${r.error})` : ''}${r.checkpointEpoch !== null && r.status !== 'finished' ? `, checkpoint after epoch ${r.checkpointEpoch}` : ''}`,
      `notes        ${r.notes || '-'}`,
      `preset       ${r.preset ?? '-'}   seed ${r.seed}   sweep ${r.sweepId ?? '-'}`,
      `created      ${r.createdAt}   started ${r.startedAt ?? '-'}   ended ${r.finishedAt ?? '-'}`,
      `backend      ${r.backend?.label ?? '-'}${r.backend?.fusedKernels ? ' (fused wasm kernels)' : ''}`,
      `code         ${r.codeVersion}`,
      `config hash  ${r.configHash}`,
      `folder       ${r.folder}`,
      ...summaryLines('after clean', r.summary?.afterClean),
      ...summaryLines('final      ', r.summary?.final),
      '',
      'config (as given):',
      JSON.stringify(r.input, null, 2),
    ];
    if (r.provenance) lines.push('', 'provenance:', JSON.stringify(r.provenance, null, 2));
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
}

export async function compareCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length < 2) throw new UsageError('compare needs two or more run ids');
  const store = openStore(values);
  try {
    const runs: RunRecord[] = rest.map((id) => store.get(id));
    const diff = configDiff(runs.map((r) => r.config));
    const head = ['', ...runs.map((r) => r.id)];
    const out: string[] = [];
    out.push(diff.length ? table([['config field', ...runs.map((r) => r.id)], ...diff.map((d) => [d.path, ...d.values.map((v) => JSON.stringify(v) ?? '-')])]) : 'configs: identical');
    const metric = (name: string, get: (s: NonNullable<RunRecord['summary']>) => number | undefined) => [name, ...runs.map((r) => (r.summary ? fmt(get(r.summary)) : r.status))];
    out.push(
      '',
      table([
        head,
        metric('clean accuracy, after clean', (s) => s.afterClean?.cleanAccuracy),
        metric('robust accuracy, after clean', (s) => s.afterClean?.robustAccuracy),
        metric('mixture ratio, after clean', (s) => s.afterClean?.mixtureRatioMedian),
        metric('clean accuracy, final', (s) => s.final?.cleanAccuracy),
        metric('robust accuracy, final', (s) => s.final?.robustAccuracy),
        metric('worst case, final', (s) => s.final?.worstCaseRobustAccuracy),
        metric('mixture-direction accuracy, final', (s) => s.final?.mixtureDirectionAccuracy),
        metric('mixture ratio, final', (s) => s.final?.mixtureRatioMedian),
        metric('participation ratio, final', (s) => s.final?.participationRatioMedian),
        metric('share ||beta w\'|| > ||v||', (s) => s.decomposition?.shareAboveOne),
      ]),
    );
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
}

export async function removeCommand(values: CliValues, rest: string[]): Promise<number> {
  if (rest.length === 0) throw new UsageError('rm needs one or more run ids');
  const store = openStore(values);
  try {
    // A prefix names runs for the person typing; what is deleted is always the whole id, shown first.
    const runs = [...new Map(rest.map((id) => store.get(id)).map((r) => [r.id, r])).values()];
    const named = runs.map((r) => `${r.id} (${r.name})`).join(', ');
    if (!values.yes) {
      if (!process.stdin.isTTY) throw new UsageError(`rm would delete ${named}: add --yes to confirm (there is no terminal to ask on)`);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Delete ${named} and their folders? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stdout.write('nothing deleted\n');
        return 0;
      }
    }
    for (const r of runs) {
      store.delete(r.id);
      process.stdout.write(`deleted ${r.id}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
