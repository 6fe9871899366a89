/**
 * A running job's elapsed time that advances by itself: the latest elapsed seconds the job
 * reported, plus the time since that report arrived, re-read every `tickMs` while it runs. Between
 * reports (an evaluation after a phase sends none for seconds) the clock still moves; once the run
 * stops it shows what was reported.
 */
import { computed, onBeforeUnmount, ref, watch, type Ref } from 'vue';

export function useRunClock(reported: () => number | null, running: () => boolean, tickMs = 500): Ref<number | null> {
  const now = ref(performance.now());
  let anchor: { elapsed: number; at: number } | null = null;
  const anchorVersion = ref(0);
  watch(
    reported,
    (elapsed) => {
      if (elapsed === null) return;
      anchor = { elapsed, at: performance.now() };
      anchorVersion.value++;
    },
    { immediate: true },
  );
  let timer: ReturnType<typeof setInterval> | null = null;
  watch(
    running,
    (on) => {
      if (on && !timer) timer = setInterval(() => (now.value = performance.now()), tickMs);
      if (!on && timer) {
        clearInterval(timer);
        timer = null;
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    if (timer) clearInterval(timer);
  });
  return computed(() => {
    void anchorVersion.value;
    if (!anchor) return reported();
    if (!running()) return reported() ?? anchor.elapsed;
    return anchor.elapsed + Math.max(0, now.value - anchor.at) / 1000;
  });
}
