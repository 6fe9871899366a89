/** An element's content width, kept current by a ResizeObserver (charts lay out their legends for it). */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

export function useElementWidth(element: Ref<HTMLElement | null>): Ref<number> {
  const width = ref(0);
  let observer: ResizeObserver | null = null;
  onMounted(() => {
    if (!element.value) return;
    width.value = Math.round(element.value.clientWidth);
    observer = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      // Ignore sub-pixel jitter: a relayout per pixel would rebuild the chart for nothing.
      if (Math.abs(w - width.value) >= 2) width.value = w;
    });
    observer.observe(element.value);
  });
  onBeforeUnmount(() => observer?.disconnect());
  return width;
}
