/**
 * A value that follows its source at most once per `ms` (leading and trailing edge): a run
 * streaming events many times a second redraws its charts at most four times a second, and the
 * last change is never lost.
 */
import { onScopeDispose, ref, watch, type Ref } from 'vue';

export function useThrottled<T>(source: () => T, ms = 250): Ref<T> {
  const value = ref(source()) as Ref<T>;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    last = Date.now();
    value.value = source();
  };
  watch(source, () => {
    if (timer) return;
    const wait = ms - (Date.now() - last);
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  });
  // The component's scope (or any effect scope) ends: a pending trailing update must not fire.
  onScopeDispose(() => {
    if (timer) clearTimeout(timer);
  });
  return value;
}
