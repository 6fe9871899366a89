/**
 * What the database keeps of a run's event stream: the events a view replays (phase changes,
 * metrics, instruments, evaluations, warnings; not progress, nor the start and end, which live in
 * the run's row) and the metrics in long ("tidy") form. One function, used both as a run writes
 * and when the index is rebuilt from the run folders, so both give the same rows.
 */
import type Database from 'better-sqlite3';
import type { RunEvent } from '../../../shared/events.ts';
import { eventGlobalEpoch } from './runFolder.ts';

type MetricValues = [metric: string, value: number | null, lower: number | null, upper: number | null];

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The long-form metric rows of one event (none for most types). */
export function metricValues(event: RunEvent): MetricValues[] {
  if (event.type === 'metrics') {
    const rows: MetricValues[] = [
      ['loss', finiteOrNull(event.loss), null, null],
      ['learning_rate', event.learningRate, null, null],
      ['clean_accuracy', event.cleanAccuracy.estimate, event.cleanAccuracy.lower, event.cleanAccuracy.upper],
      ['mixture_direction_accuracy', event.mixtureDirectionAccuracy.estimate, event.mixtureDirectionAccuracy.lower, event.mixtureDirectionAccuracy.upper],
      ['silent_fraction', event.silentFraction, null, null],
    ];
    if (event.robustAccuracy) rows.push(['robust_accuracy', event.robustAccuracy.estimate, event.robustAccuracy.lower, event.robustAccuracy.upper]);
    return rows;
  }
  if (event.type === 'instruments') {
    const rows: MetricValues[] = [];
    for (const [metric, dist] of [
      ['mixture_ratio_median', event.mixtureRatio],
      ['participation_ratio_median', event.participationRatio],
      ['coherence_median', event.coherence],
      ['coherent_share_median', event.coherentShare ?? null],
    ] as const) {
      if (dist) rows.push([metric, finiteOrNull(dist.summary.median), dist.summary.q1, dist.summary.q3]);
    }
    return rows;
  }
  return [];
}

/** Statements that write one run's events into the index. */
export class EventIndexWriter {
  private readonly insertEvent: Database.Statement;
  private readonly insertMetric: Database.Statement;
  private readonly nextSeq: Database.Statement;
  private readonly voidAfter: Database.Statement[];

  constructor(db: Database.Database) {
    this.insertEvent = db.prepare('INSERT INTO events (run_id, seq, type, global_epoch, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertMetric = db.prepare('INSERT OR REPLACE INTO metrics (run_id, global_epoch, phase, epoch, metric, value, lower, upper) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.nextSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events WHERE run_id = ?');
    this.voidAfter = [db.prepare('DELETE FROM events WHERE run_id = ? AND global_epoch > ?'), db.prepare('DELETE FROM metrics WHERE run_id = ? AND global_epoch > ?')];
  }

  /** Drop what a run computes again: everything after global epoch `epoch` (-1: everything). */
  voidEventsAfter(runId: string, epoch: number): void {
    for (const statement of this.voidAfter) statement.run(runId, epoch);
  }

  /**
   * Index one event, in the order produced; call inside a transaction. A `run-started` applies
   * the event log's resume rule (runFolder.ts) to what is indexed so far.
   */
  add(runId: string, event: RunEvent): void {
    if (event.type === 'run-started') this.voidEventsAfter(runId, event.resumedFromEpoch ?? -1);
    const globalEpoch = eventGlobalEpoch(event);
    if (globalEpoch === null) return;
    const { seq } = this.nextSeq.get(runId) as { seq: number };
    this.insertEvent.run(runId, seq, event.type, globalEpoch, JSON.stringify(event));
    if (event.type === 'metrics' || event.type === 'instruments') {
      for (const [metric, value, lower, upper] of metricValues(event)) this.insertMetric.run(runId, event.globalEpoch, event.phase, event.epoch, metric, value, lower, upper);
    }
  }
}
