/**
 * The data of the runs being looked at (a run view, a comparison): read once from the store,
 * then kept current from the job stream.
 *
 * The arrays are large (10^5 epochs, per-neuron values in every snapshot) and change often, so
 * they are kept out of Vue's deep reactivity (markRaw): a view depends on the run's `version`,
 * a counter bumped when an event changes what charts draw, and charts redraw from it at most
 * every 250 ms.
 */
import { defineStore } from 'pinia';
import { markRaw, reactive } from 'vue';
import type { JobStreamMessage, RunDetail } from '../../shared/api.ts';
import type { RunEvent } from '../../shared/events.ts';
import { useLabApi } from '../api/labApi.ts';
import { applyRunEvent, emptyRunData, runDataFromResult, type RunData } from '../viewLogic/runFromEvents.ts';

export interface RunEntry {
  detail: RunDetail | null;
  data: RunData;
  /** Bumped when the charts' data changed. */
  version: number;
  /** Bumped on every progress event (the progress bar only). */
  progressVersion: number;
  loading: boolean;
  error: string | null;
}

export const useRunDataStore = defineStore('runData', () => {
  const api = useLabApi();
  const entries = reactive(new Map<string, RunEntry>());
  /** Events that arrive while a run is being read: applied after the read (upserts make repeats harmless). */
  const pending = new Map<string, RunEvent[]>();

  function entry(id: string): RunEntry {
    let e = entries.get(id);
    if (!e) {
      entries.set(id, { detail: null, data: markRaw(emptyRunData()), version: 0, progressVersion: 0, loading: false, error: null });
      e = entries.get(id) as RunEntry;
    }
    return e;
  }

  /** Read a run from the store (again, if `force`); events that arrived meanwhile are replayed on top. */
  async function load(id: string, force = false): Promise<RunEntry> {
    const e = entry(id);
    if (e.loading || (e.detail && !force)) return e;
    e.loading = true;
    pending.set(id, []);
    try {
      const detail = await api.call('runs.get', { id });
      const data = runDataFromResult(detail.result, detail.config);
      for (const event of pending.get(id) ?? []) applyRunEvent(data, event);
      e.detail = markRaw(detail);
      e.data = markRaw(data);
      e.error = null;
      e.version++;
    } catch (err) {
      e.error = (err as Error).message;
    } finally {
      pending.delete(id);
      e.loading = false;
    }
    return e;
  }

  function applyMessage(message: JobStreamMessage) {
    const e = entries.get(message.runId);
    if (!e) return;
    if (message.type === 'status') {
      // The record (status, summary, checkpoint) changed: read it again when the run settles.
      if (message.status !== 'running' && message.status !== 'queued') void load(message.runId, true);
      else if (e.detail) e.detail = markRaw({ ...e.detail, status: message.status });
      return;
    }
    const buffer = pending.get(message.runId);
    if (buffer) buffer.push(...message.events);
    let changed = false;
    let progressed = false;
    for (const event of message.events) {
      if (event.type === 'progress') progressed = true;
      if (applyRunEvent(e.data, event)) changed = true;
    }
    if (changed) e.version++;
    if (progressed) e.progressVersion++;
  }

  /** Drop a run's data (deleted, or no longer looked at). */
  function forget(id: string) {
    entries.delete(id);
  }

  return { entries, entry, load, applyMessage, forget };
});
