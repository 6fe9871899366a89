/** Numbers as the views print them: three decimals for fractions, intervals in brackets, times in words. */

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function interval(range: readonly [number, number] | undefined): string {
  return range ? `[${fixed(range[0])}, ${fixed(range[1])}]` : '';
}

export function percent(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(100 * value).toFixed(digits)} %`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.max(0.1, seconds).toFixed(1)} s`;
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A run's display name: its name, or its id when unnamed. */
export function runLabel(run: { readonly id: string; readonly name: string }): string {
  return run.name?.trim() ? run.name : run.id;
}

/**
 * A backend detail as the header shows it: byte limits (names ending in Size, e.g. an adapter's
 * maxBufferSize) in binary units beside the exact count, "1073741824 (1 GiB)"; anything else as is.
 */
export function backendDetail(key: string, value: string | number | boolean): string {
  if (typeof value !== 'number' || !key.endsWith('Size') || !Number.isFinite(value) || value < 1024) return String(value);
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  const shown = Number.isInteger(scaled) ? String(scaled) : scaled.toFixed(1);
  return `${value} (${shown} ${units[unit]})`;
}
