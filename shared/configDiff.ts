/**
 * The fields in which configs differ, as dotted paths: what a comparison shows instead of two
 * whole trees.
 */

/** Leaves of a JSON tree by dotted path (arrays are leaves, compared as JSON). */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flattenConfig(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/** Paths whose values are not equal in all configs, with each config's value. */
export function configDiff(configs: readonly unknown[]): { path: string; values: unknown[] }[] {
  const flat = configs.map((c) => flattenConfig(c));
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return paths
    .map((path) => ({ path, values: flat.map((f) => f[path]) }))
    .filter(({ values }) => new Set(values.map((v) => JSON.stringify(v))).size > 1);
}
