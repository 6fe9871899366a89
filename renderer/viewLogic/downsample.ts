/**
 * Thinning long series for display. A chart is a few hundred pixels wide: drawing 10^5 epochs
 * (each with its interval band) costs frames and shows nothing more than 1,500 do. The stored
 * and exported data are never thinned; only what the live window draws.
 */

/**
 * At most `max` items, evenly spread over the list by bucket: each bucket keeps its first item,
 * or the first one `prefer` accepts (so sparse measurements, such as robust accuracy every few
 * epochs, survive the thinning). The first and last items and every phase change are always kept,
 * so the phase boundary stays where it is.
 */
export function thinForDisplay<T extends { readonly phase: string }>(items: readonly T[], max: number, prefer?: (item: T) => boolean): T[] {
  if (items.length <= max || max < 3) return items.slice();
  const keep = new Set<number>([0, items.length - 1]);
  for (let i = 1; i < items.length; i++) if ((items[i] as T).phase !== (items[i - 1] as T).phase) keep.add(i - 1).add(i);
  const buckets = Math.max(1, max - keep.size);
  const size = items.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(items.length, Math.floor((b + 1) * size));
    let pick = from;
    if (prefer) {
      for (let i = from; i < to; i++) {
        if (prefer(items[i] as T)) {
          pick = i;
          break;
        }
      }
    }
    keep.add(pick);
  }
  return [...keep].sort((a, b) => a - b).map((i) => items[i] as T);
}
