/**
 * The data behind a chart as tidy CSV (one row per series and point), for charts that only exist
 * in the UI (comparisons of several runs): the numbers a figure shows, for a paper's table or a
 * re-plot. Helper series (interval-band edges, the phase-boundary marker) are left out: their
 * ids say what they are, and the band bounds are not points of a curve.
 */
import type { EChartsOption } from 'echarts';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function optionCsv(option: EChartsOption): string {
  const rows: string[] = ['series,x,y'];
  const series = Array.isArray(option.series) ? option.series : option.series ? [option.series] : [];
  for (const s of series as { id?: string; name?: string; data?: unknown[] }[]) {
    const id = String(s.id ?? '');
    if (id.endsWith('-lower') || id.endsWith('-width') || id.startsWith('phase-boundary') || !Array.isArray(s.data)) continue;
    s.data.forEach((point, i) => {
      const value = point && typeof point === 'object' && !Array.isArray(point) ? (point as { value?: unknown }).value : point;
      const [x, y] = Array.isArray(value) ? [value[0], value[1]] : [i, value];
      rows.push([cell(s.name ?? id), cell(x), cell(y)].join(','));
    });
  }
  return rows.join('\n') + '\n';
}
