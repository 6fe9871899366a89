/**
 * The setup form, generated from the experiment schema itself (shared/config.ts): every field of
 * the tree becomes an input of the right kind, with the schema's bounds and options, so a field
 * added to the schema appears in the form without touching the UI. Labels and help text come from
 * fieldText.ts; a field without an entry there still appears, under its own name.
 *
 * `task` and `model` are discriminated unions (sparse coding or images; the two-layer net, an MLP
 * or a CNN): each is a `union` field whose variants hold the fields of one kind, so the form shows
 * a choice of kind and then only the fields that kind has.
 */
import type { z } from 'zod';
import { experimentSchema } from '../../shared/config.ts';
import { valueAt } from '../../shared/configPath.ts';

type AnySchema = z.core.$ZodType;

export interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

interface FieldBase {
  readonly key: string;
  /** Dotted path into the tree, array elements as `eval.attacks.0.steps`. */
  readonly path: string;
  /**
   * The path with the kind of each union on the way, `model[mlp].initScale`: where fieldText.ts
   * looks first, so a field shared by several kinds can say what it means in each.
   */
  readonly textPath: string;
  readonly nullable: boolean;
}

/** One kind of a discriminated union: its discriminator value and its other fields. */
export interface Variant {
  readonly kind: string;
  readonly children: readonly FieldSpec[];
}

export type FieldSpec =
  | (FieldBase & { readonly kind: 'group'; readonly children: readonly FieldSpec[] })
  | (FieldBase & {
      readonly kind: 'number';
      readonly integer: boolean;
      readonly min: Bound | null;
      readonly max: Bound | null;
      /** Words the field also takes instead of a number (`auto`). */
      readonly words?: readonly string[];
    })
  | (FieldBase & { readonly kind: 'enum'; readonly options: readonly string[] })
  | (FieldBase & { readonly kind: 'literal'; readonly value: string })
  | (FieldBase & { readonly kind: 'boolean' })
  | (FieldBase & { readonly kind: 'text' })
  | (FieldBase & { readonly kind: 'numberList'; readonly min: Bound | null; readonly max: Bound | null })
  /** A list of strings (file paths). */
  | (FieldBase & { readonly kind: 'textList' })
  /** An object that is one of several kinds, told apart by `discriminator` (`task`, `model`). */
  | (FieldBase & { readonly kind: 'union'; readonly discriminator: string; readonly variants: readonly Variant[] })
  | (FieldBase & {
      readonly kind: 'variantList';
      /** One entry per variant: its discriminator value and the fields below `path.N`. */
      readonly variants: readonly { readonly kind: string; readonly fields: (index: number) => readonly FieldSpec[] }[];
    });

/** A field with one input of its own (not a group, a union or a list of variants). */
export type LeafSpec = Exclude<FieldSpec, { kind: 'group' } | { kind: 'union' } | { kind: 'variantList' }>;

interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
  element?: AnySchema;
  entries?: Record<string, string>;
  values?: unknown[];
  discriminator?: string;
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

/** The discriminator value of a union option (`"mnist"` for the MNIST task), if it has one. */
function literalOf(option: AnySchema, discriminator: string): string | null {
  const shape = defOf(unwrap(option).node).shape;
  const literal = shape?.[discriminator] ? defOf(unwrap(shape[discriminator]).node) : undefined;
  return literal?.type === 'literal' && literal.values?.length === 1 ? String(literal.values[0]) : null;
}

function field(key: string, path: string, textPath: string, schema: AnySchema): FieldSpec {
  const { node, nullable } = unwrap(schema);
  const def = defOf(node);
  const base = { key, path, textPath, nullable };
  switch (def.type) {
    case 'object':
      return { ...base, kind: 'group', children: objectFields(def, path, textPath) };
    case 'union': {
      const options = def.options ?? [];
      if (options.length === 1) return field(key, path, textPath, options[0] as AnySchema);
      // A number or a word (`model.threshold.ratio`: a number or "auto"): a number field whose
      // text may also be one of the words (numberFromText keeps a non-number as text).
      const defs = options.map((o) => defOf(unwrap(o).node));
      const numberDef = defs.find((d) => d.type === 'number');
      const words = defs.filter((d) => d.type === 'literal').map((d) => String(d.values?.[0]));
      if (numberDef && words.length === defs.length - 1) return { ...base, kind: 'number', ...numberBounds(numberDef), words };
      const discriminator = def.discriminator;
      const kinds = discriminator ? options.map((o) => literalOf(o, discriminator)) : [];
      if (!discriminator || kinds.some((k) => k === null)) return { ...base, kind: 'literal', value: '(union)' };
      const variants = options.map((o, i) => {
        const kind = kinds[i] as string;
        const children = objectFields(defOf(unwrap(o).node), path, `${textPath}[${kind}]`).filter((f) => f.key !== discriminator);
        return { kind, children };
      });
      return { ...base, kind: 'union', discriminator, variants };
    }
    case 'number':
      return { ...base, kind: 'number', ...numberBounds(def) };
    case 'string':
      return { ...base, kind: 'text' };
    case 'enum':
      return { ...base, kind: 'enum', options: Object.values(def.entries ?? {}) };
    case 'literal':
      return { ...base, kind: 'literal', value: String(def.values?.[0]) };
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'array': {
      const element = unwrap(def.element as AnySchema).node;
      const ed = defOf(element);
      if (ed.type === 'number') {
        const { min, max } = numberBounds(ed);
        return { ...base, kind: 'numberList', min, max };
      }
      if (ed.type === 'string') return { ...base, kind: 'textList' };
      const options = ed.type === 'union' ? (ed.options ?? []) : [element];
      const variants = options.map((o) => {
        const od = defOf(unwrap(o).node);
        const kindValue = literalOf(o, 'kind') ?? 'item';
        return { kind: kindValue, fields: (index: number) => objectFields(od, `${path}.${index}`, `${textPath}.${index}`).filter((f) => f.key !== 'kind') };
      });
      return { ...base, kind: 'variantList', variants };
    }
    default:
      // Anything the form cannot edit yet is still shown (read-only) rather than silently dropped.
      return { ...base, kind: 'literal', value: `(${def.type})` };
  }
}

function objectFields(def: Def, prefix: string, textPrefix: string): FieldSpec[] {
  return Object.entries(def.shape ?? {}).map(([key, child]) => field(key, prefix ? `${prefix}.${key}` : key, textPrefix ? `${textPrefix}.${key}` : key, child));
}

/** The top-level fields of the experiment form (seed, task, model, train, eval, instruments). */
export function experimentFields(): readonly FieldSpec[] {
  return objectFields(defOf(unwrap(experimentSchema).node), '', '');
}

/** The variant of a union the draft has chosen (by its discriminator's value), or undefined. */
export function chosenVariant(spec: Extract<FieldSpec, { kind: 'union' }>, value: unknown): Variant | undefined {
  const kind = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[spec.discriminator] : undefined;
  return spec.variants.find((v) => v.kind === kind);
}

/**
 * Every path the form shows: of every variant, or, given a draft, of the variants it has chosen
 * only. A problem at any other path (an unknown field, a field of the kind left behind) is listed
 * above the form rather than lost.
 */
export function formPaths(fields: readonly FieldSpec[], draft?: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (list: readonly FieldSpec[]) => {
    for (const f of list) {
      out.add(f.path);
      if (f.kind === 'group') walk(f.children);
      if (f.kind === 'union') {
        out.add(`${f.path}.${f.discriminator}`);
        const chosen = draft === undefined ? f.variants : [chosenVariant(f, valueAt(draft, f.path))].filter((v) => v !== undefined);
        for (const v of chosen) walk(v.children);
      }
    }
  };
  walk(fields);
  return out;
}

/** "≥ 0", "> 0", "≤ 0.999": the bound as a hint. */
export function boundText(spec: { min: Bound | null; max?: Bound | null; integer?: boolean }): string {
  const parts: string[] = [];
  if (spec.integer) parts.push('integer');
  if (spec.min) parts.push(`${spec.min.inclusive ? '≥' : '>'} ${spec.min.value}`);
  if (spec.max && Number.isFinite(spec.max.value) && spec.max.value < 1e15) parts.push(`${spec.max.inclusive ? '≤' : '<'} ${spec.max.value}`);
  return parts.join(', ');
}

/** The paths of the form's list fields (the eps grid, classes, file lists), of every variant. */
export function listFieldPaths(fields: readonly FieldSpec[]): Set<string> {
  const out = new Set<string>();
  const walk = (list: readonly FieldSpec[]) => {
    for (const f of list) {
      if (f.kind === 'numberList' || f.kind === 'textList') out.add(f.path);
      if (f.kind === 'group') walk(f.children);
      if (f.kind === 'union') for (const v of f.variants) walk(v.children);
    }
  };
  walk(fields);
  return out;
}
