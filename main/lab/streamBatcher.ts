/**
 * Run events on their way to a service's listeners, in batches per run (the contract's
 * `eventFlushIntervalMs`, shared/api.ts): a chart redraws a few times per second whatever the
 * training speed, and a status change never overtakes the run's last metrics.
 */
import type { JobStreamMessage } from '../../shared/api.ts';
import type { RunEvent } from '../../shared/events.ts';

/**
 * Run events in batches, per run: the first event after a quiet spell starts a timer, and
 * everything that arrives before it fires leaves together. A progress event replaces the batch's
 * earlier one (only the latest matters to a progress bar).
 */
export class StreamBatcher {
  private readonly pending = new Map<string, RunEvent[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (message: JobStreamMessage) => void,
  ) {}

  event(runId: string, event: RunEvent): void {
    let batch = this.pending.get(runId) ?? [];
    if (event.type === 'progress') batch = batch.filter((e) => e.type !== 'progress');
    batch.push(event);
    this.pending.set(runId, batch);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flushAll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** A status change: the run's pending events first, then the status, at once. */
  status(message: JobStreamMessage & { type: 'status' }): void {
    this.flush(message.runId);
    this.emit(message);
  }

  private flushAll(): void {
    this.timer = null;
    for (const runId of [...this.pending.keys()]) this.flush(runId);
  }

  private flush(runId: string): void {
    const events = this.pending.get(runId);
    if (!events) return;
    this.pending.delete(runId);
    this.emit({ type: 'events', runId, events });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}
