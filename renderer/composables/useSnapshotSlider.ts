/**
 * A slider over one kind of a run's recorded snapshots (the coefficient matrices, the neuron
 * pictures). The list is re-read only when the run's counter for that kind moves, and at most
 * once per `throttleMs`: a live run streams many events a second, and rebuilding a heatmap or a
 * grid of pictures costs far more than moving a line. The position follows the newest snapshot
 * while the slider sits on the last one, so a live run shows each snapshot as it arrives, and
 * stays where the user put it otherwise; when the list shrinks (another run shown) it is pulled
 * back inside it.
 */
import { computed, ref, watch, type ComputedRef, type Ref } from 'vue';
import type { RunData } from '../viewLogic/runFromEvents.ts';
import { useThrottled } from './useThrottled.ts';

export interface SnapshotSlider<T> {
  /** Moves when the list is re-read: the charts' redraw key. */
  readonly revision: Ref<string>;
  readonly snapshots: ComputedRef<readonly T[]>;
  /** The position, 0 … count − 1 (0 while there is none). */
  readonly index: Ref<number>;
  /** The snapshot at the position, null while there is none. */
  readonly current: ComputedRef<T | null>;
  /** The range input's attributes (`v-bind`), its value the position. */
  readonly range: ComputedRef<{ type: 'range'; min: number; max: number; step: number; value: number }>;
  /** The range input's `input` handler. */
  readonly slide: (event: Event) => void;
}

export function useSnapshotSlider<T>(
  run: { readonly data: RunData; readonly version: number },
  kind: keyof RunData['revisions'],
  read: (data: RunData) => readonly T[],
  throttleMs: number,
): SnapshotSlider<T> {
  // The data is kept out of Vue's reactivity (stores/runData.ts): `version` is what moves.
  const revision = useThrottled(() => {
    void run.version;
    return `${run.data.id}:${run.data.revisions[kind]}`;
  }, throttleMs);
  const snapshots = computed(() => {
    void revision.value;
    return read(run.data);
  });

  const index = ref(0);
  const following = ref(true);
  watch(
    () => snapshots.value.length,
    (n) => {
      if (following.value || index.value > n - 1) index.value = Math.max(0, n - 1);
    },
    { immediate: true },
  );
  // The target is the range input; read structurally, so the module typechecks in Node's tests too.
  function slide(event: Event): void {
    index.value = Number((event.target as unknown as { value: string }).value);
    following.value = index.value === snapshots.value.length - 1;
  }
  const current = computed(() => snapshots.value[Math.min(index.value, snapshots.value.length - 1)] ?? null);
  const range = computed(() => ({ type: 'range' as const, min: 0, max: snapshots.value.length - 1, step: 1, value: index.value }));
  return { revision, snapshots, index, current, range, slide };
}
