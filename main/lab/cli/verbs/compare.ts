/** `lab compare ID ID...`: the config fields that differ, then the runs' metrics side by side. */
import { configDiff } from '../../../../shared/configDiff.ts';
import type { RunRecord } from '../../store/runStore.ts';
import { threeDecimals as fmt, textTable } from '../../textTable.ts';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

const table = (rows: readonly (readonly string[])[]) => textTable(rows, { leftAligned: Infinity, gap: '  ' });

export const compareVerb: Verb = (values, rest, io) => {
  if (rest.length < 2) throw new UsageError('compare needs two or more run ids');
  const store = openStore(values, io);
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
    io.stdout.write(out.join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
};
