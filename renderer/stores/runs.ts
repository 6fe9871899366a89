/**
 * The runs list: what the store holds (filtered by status and text on the engine side), the
 * selection for Compare / Delete / Resume, and the live status and progress of running jobs
 * from the stream, so the header's progress bars move between list reads.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, watch } from 'vue';
import type { JobStreamMessage, RunListItem } from '../../shared/api.ts';
import type { ProgressEvent } from '../../shared/events.ts';
import { useLabApi } from '../api/labApi.ts';

export type RunStatus = RunListItem['status'];
export const runStatuses: readonly RunStatus[] = ['queued', 'running', 'finished', 'failed', 'interrupted', 'cancelled'];

export const useRunsStore = defineStore('runs', () => {
  const api = useLabApi();
  const items = ref<readonly RunListItem[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const filters = reactive<{ status: RunStatus | ''; text: string }>({ status: '', text: '' });
  const selected = ref<string[]>([]);
  /** The latest progress event per running run (from the stream). */
  const progress = reactive(new Map<string, ProgressEvent>());
  /** Status changes seen on the stream since the last list read. */
  const liveStatus = reactive(new Map<string, RunStatus>());
  /** Runs that are running or queued, from any filter (the header shows them whatever the list shows). */
  const active = ref<readonly RunListItem[]>([]);

  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    try {
      const params = { ...(filters.status ? { status: filters.status } : {}), ...(filters.text.trim() ? { text: filters.text.trim() } : {}) };
      const [list, running, queued] = await Promise.all([
        api.call('runs.list', params),
        api.call('runs.list', { status: 'running' }),
        api.call('runs.list', { status: 'queued' }),
      ]);
      if (mine !== seq) return; // an older read finishing late must not overwrite a newer one
      items.value = list;
      active.value = [...running, ...queued];
      liveStatus.clear();
      selected.value = selected.value.filter((id) => list.some((r) => r.id === id));
      error.value = null;
    } catch (e) {
      if (mine === seq) error.value = (e as Error).message;
    } finally {
      if (mine === seq) loaded.value = true;
    }
  }

  // Typing in the text filter reads the list once the typing pauses.
  let textTimer: ReturnType<typeof setTimeout> | null = null;
  watch(
    () => filters.text,
    () => {
      if (textTimer) clearTimeout(textTimer);
      textTimer = setTimeout(() => void refresh(), 250);
    },
  );
  watch(() => filters.status, () => void refresh());

  // Status changes come in bursts (queued → running → finished): read the list once per burst.
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refresh();
    }, 300);
  }

  function applyMessage(message: JobStreamMessage) {
    if (message.type === 'status') {
      liveStatus.set(message.runId, message.status);
      if (message.status !== 'running') progress.delete(message.runId);
      refreshSoon();
      return;
    }
    for (const event of message.events) {
      if (event.type === 'progress') progress.set(message.runId, event);
      else if (event.type === 'finished' || event.type === 'failed') progress.delete(message.runId);
    }
  }

  function statusOf(run: RunListItem): RunStatus {
    return liveStatus.get(run.id) ?? run.status;
  }

  function toggle(id: string) {
    selected.value = selected.value.includes(id) ? selected.value.filter((x) => x !== id) : [...selected.value, id];
  }

  const selectedRuns = computed(() => items.value.filter((r) => selected.value.includes(r.id)));

  /**
   * Runs started elsewhere (the CLI, another window, on the same store) send nothing on this
   * window's stream: the store is asked for the running and queued ones every few seconds.
   */
  let activeSeq = 0;
  async function refreshActive() {
    const mine = ++activeSeq;
    const seqAtStart = seq;
    try {
      const [running, queued] = await Promise.all([api.call('runs.list', { status: 'running' }), api.call('runs.list', { status: 'queued' })]);
      if (mine !== activeSeq || seqAtStart !== seq) return; // a full read started meanwhile is newer
      active.value = [...running, ...queued];
    } catch {
      // The stream's reconnect handler reads everything again; an error here says nothing new.
    }
  }
  let activeTimer: ReturnType<typeof setInterval> | null = null;
  function watchActive(everyMs = 5000) {
    activeTimer ??= setInterval(() => void refreshActive(), everyMs);
  }

  return { items, loaded, error, filters, selected, selectedRuns, progress, liveStatus, active, refresh, refreshSoon, refreshActive, watchActive, applyMessage, statusOf, toggle };
});
