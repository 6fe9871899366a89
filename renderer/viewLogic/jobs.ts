/**
 * The jobs the top bar shows: every run that is training or waiting, whichever source knows it
 * first. The list read from the store can be a moment old (a run started since, by this window or
 * another), while the stream says at once that a run is running (its status, its progress); a
 * run is shown as soon as either says so, and not after the stream says it stopped.
 */
import type { RunListItem } from '../../shared/api.ts';
import type { ProgressEvent } from '../../shared/events.ts';
import { runLabel } from './format.ts';

export interface JobRow {
  readonly id: string;
  readonly name: string;
  readonly status: 'running' | 'queued';
  readonly done: number;
  readonly total: number;
  /** "adversarial 3/15", or the status while nothing has been reported. */
  readonly phase: string;
}

type Status = RunListItem['status'];

export function activeJobs(
  listed: readonly RunListItem[],
  known: readonly RunListItem[],
  liveStatus: ReadonlyMap<string, Status>,
  progress: ReadonlyMap<string, ProgressEvent>,
): JobRow[] {
  const records = new Map<string, RunListItem>();
  for (const r of known) records.set(r.id, r);
  for (const r of listed) records.set(r.id, r);
  const ids = [...new Set([...listed.map((r) => r.id), ...liveStatus.keys(), ...progress.keys()])];
  const rows: JobRow[] = [];
  for (const id of ids) {
    const record = records.get(id);
    const live = progress.get(id);
    const status = liveStatus.get(id) ?? (live ? 'running' : record?.status);
    if (status !== 'running' && status !== 'queued') continue;
    const p = live ?? record?.progress ?? null;
    rows.push({
      id,
      name: record ? runLabel(record) : id,
      status,
      done: p?.done ?? 0,
      total: p?.total ?? 0,
      phase: p ? `${p.phase} ${p.epoch}/${p.epochs}` : status,
    });
  }
  // Running first, then the queue in its order.
  return rows.sort((a, b) => (a.status === b.status ? 0 : a.status === 'running' ? -1 : 1));
}

/**
 * The choices of the header's "runs at once": 1 up to the physical cores (one run per core is
 * what pays), and the current setting when it is above that (set with `--jobs`), so that it shows.
 */
export function jobCountChoices(settings: { readonly jobs: number; readonly physicalCores: number; readonly maxJobs: number }): number[] {
  const top = Math.min(settings.maxJobs, Math.max(settings.physicalCores, settings.jobs, 1));
  return Array.from({ length: top }, (_, i) => i + 1);
}
