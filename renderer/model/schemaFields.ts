/**
 * The setup form, generated from the experiment schema itself (shared/config.ts): every field of
 * the tree becomes an input of the right kind, with the schema's bounds and options, so a field
 * added to the schema appears in the form without touching the UI. Labels and help text come from
 * fieldText.ts; a field without an entry there still appears, under its own name.
 */
import type { z } from 'zod';
import { experimentSchema } from '../../shared/config.ts';

type AnySchema = z.core.$ZodType;

export interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

interface FieldBase {
  readonly key: string;
  /** Dotted path into the tree, array elements as `eval.attacks.0.steps`. */
  readonly path: string;
  readonly nullable: boolean;
}

export type FieldSpec =
  | (FieldBase & { readonly kind: 'group'; readonly children: readonly FieldSpec[] })
  | (FieldBase & { readonly kind: 'number'; readonly integer: boolean; readonly min: Bound | null; readonly max: Bound | null })
  | (FieldBase & { readonly kind: 'enum'; readonly options: readonly string[] })
  | (FieldBase & { readonly kind: 'literal'; readonly value: string })
  | (FieldBase & { readonly kind: 'boolean' })
  | (FieldBase & { readonly kind: 'numberList'; readonly min: Bound | null })
  | (FieldBase & {
      readonly kind: 'variantList';
      /** One entry per variant: its discriminator value and the fields below `path.N`. */
      readonly variants: readonly { readonly kind: string; readonly fields: (index: number) => readonly FieldSpec[] }[];
    });

interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
  element?: AnySchema;
  entries?: Record<string, string>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
}

const defOf = (s: AnySchema) => s._zod.def as unknown as Def;

/** Strip defaults and prefaults; note whether null is allowed on the way. */
function unwrap(schema: AnySchema): { node: AnySchema; nullable: boolean } {
  let node = schema;
  let nullable = false;
  for (;;) {
    const def = defOf(node);
    if (def.type === 'nullable') nullable = true;
    if (def.innerType) node = def.innerType;
    else return { node, nullable };
  }
}

function numberBounds(def: Def): { integer: boolean; min: Bound | null; max: Bound | null } {
  let integer = false;
  let min: Bound | null = null;
  let max: Bound | null = null;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && d.format && /int/.test(d.format)) integer = true;
    if (d.check === 'greater_than' && d.value !== undefined) min = { value: d.value, inclusive: d.inclusive ?? false };
    if (d.check === 'less_than' && d.value !== undefined) max = { value: d.value, inclusive: d.inclusive ?? false };
  }
  return { integer, min, max };
}

function field(key: string, path: string, schema: AnySchema): FieldSpec {
  const { node, nullable } = unwrap(schema);
  const def = defOf(node);
  switch (def.type) {
    case 'object':
      return { kind: 'group', key, path, nullable, children: objectFields(def, path) };
    case 'union': {
      // A discriminated union of objects with one option (task, model today) is that object.
      const options = def.options ?? [];
      if (options.length === 1) return field(key, path, options[0] as AnySchema);
      return { kind: 'group', key, path, nullable, children: objectFields(defOf(unwrap(options[0] as AnySchema).node), path) };
    }
    case 'number':
      return { kind: 'number', key, path, nullable, ...numberBounds(def) };
    case 'enum':
      return { kind: 'enum', key, path, nullable, options: Object.values(def.entries ?? {}) };
    case 'literal':
      return { kind: 'literal', key, path, nullable, value: String(def.values?.[0]) };
    case 'boolean':
      return { kind: 'boolean', key, path, nullable };
    case 'array': {
      const element = unwrap(def.element as AnySchema).node;
      const ed = defOf(element);
      if (ed.type === 'number') return { kind: 'numberList', key, path, nullable, min: numberBounds(ed).min };
      const options = ed.type === 'union' ? (ed.options ?? []) : [element];
      const variants = options.map((o) => {
        const od = defOf(unwrap(o).node);
        const kindSchema = od.shape?.kind ? defOf(unwrap(od.shape.kind).node) : undefined;
        const kindValue = String(kindSchema?.values?.[0] ?? 'item');
        return { kind: kindValue, fields: (index: number) => objectFields(od, `${path}.${index}`).filter((f) => f.key !== 'kind') };
      });
      return { kind: 'variantList', key, path, nullable, variants };
    }
    default:
      // Anything the form cannot edit yet is still shown (read-only) rather than silently dropped.
      return { kind: 'literal', key, path, nullable, value: `(${def.type})` };
  }
}

function objectFields(def: Def, prefix: string): FieldSpec[] {
  return Object.entries(def.shape ?? {}).map(([key, child]) => field(key, prefix ? `${prefix}.${key}` : key, child));
}

/** The top-level fields of the experiment form (seed, task, model, train, eval, instruments). */
export function experimentFields(): readonly FieldSpec[] {
  return objectFields(defOf(unwrap(experimentSchema).node), '');
}

/** "≥ 0", "> 0", "≤ 0.999": the bound as a hint. */
export function boundText(spec: { min: Bound | null; max?: Bound | null; integer?: boolean }): string {
  const parts: string[] = [];
  if (spec.integer) parts.push('integer');
  if (spec.min) parts.push(`${spec.min.inclusive ? '≥' : '>'} ${spec.min.value}`);
  if (spec.max && Number.isFinite(spec.max.value) && spec.max.value < 1e15) parts.push(`${spec.max.inclusive ? '≤' : '<'} ${spec.max.value}`);
  return parts.join(', ');
}
