/** A <details> popover that closes like a menu: on Escape (focus back to its summary) and on a click elsewhere. */
import { onBeforeUnmount, onMounted, type Ref } from 'vue';

export function useDismissable(details: Ref<HTMLDetailsElement | null>): void {
  const onPointer = (event: PointerEvent) => {
    const el = details.value;
    if (el?.open && !el.contains(event.target as Node)) el.open = false;
  };
  const onKey = (event: KeyboardEvent) => {
    const el = details.value;
    if (event.key === 'Escape' && el?.open) {
      el.open = false;
      el.querySelector('summary')?.focus();
    }
  };
  onMounted(() => {
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
  });
  onBeforeUnmount(() => {
    document.removeEventListener('pointerdown', onPointer);
    document.removeEventListener('keydown', onKey);
  });
}
